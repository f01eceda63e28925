import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_POINTS,
  ProtocolError,
  decodeStreamLine,
  pointCount,
  statusCodes,
  statusOf,
  validateStreamObject,
  validateStreamState,
} from '../../shared/index.js';

function rejection(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('accepted');
}

describe('stream objects: valid', () => {
  it.each([
    ['{"x":1,"y":2}', 1],
    ['{"x":"2026-11-22 10:00:00.123456","y":512}', 1],
    ['{"x":"2026-11-22","y":null}', 1],
    ['{"x":[1,2,3],"y":[4,5,6]}', 0],
    ['{"y":3,"text":"peak","marker":{"size":12,"color":"red"}}', 1],
    ['{"marker":{"color":["red","blue"]}}', 0],
    ['{"layout":{"title":{"text":"Heart"}}}', 0],
    ['{"append":{"x":[0,0.002,0.004],"y":[512,515,530]},"seq":1200}', 3],
    ['{"append":{"y":[1,2],"text":["a","b"],"marker":{"size":[3,4]}},"layout":{"title":"t"}}', 2],
    ['{}', 0],
    // Categories: any text that does not start like a date.
    ['{"x":"Monday","y":3}', 1],
    ['{"x":["low","high"],"y":[1,2]}', 0],
    ['{"append":{"x":["noon","dusk"],"y":[1,2]}}', 2],
  ])('%s appends %i point(s)', (text, points) => {
    const line = decodeStreamLine(text);
    expect(line.kind).toBe('object');
    if (line.kind === 'object') expect(pointCount(line.object)).toBe(points);
  });

  it.each(['', '   ', '\r'])('a blank line %j is a heartbeat', (text) => {
    expect(decodeStreamLine(text)).toEqual({ kind: 'heartbeat' });
  });
});

describe('stream objects: rejected with the field and the rule', () => {
  it.each([
    // [line, field, words of the rule]
    ['{"x":1', '', 'is not valid JSON'],
    ['[{"x":1}]', '', 'must be a JSON object'],
    ['{"y":{"a":1}}', 'y', 'a number, a string or null'],
    ['{"y":[1,[2]]}', 'y', 'a number, a string or null'],
    ['{"x":"2026-99-99 99:99:99","y":1}', 'x', 'a real date ("YYYY-MM-DD HH:MM:SS.ffffff"'],
    ['{"x":["2026-01-01","2026-02-30"]}', 'x', 'a real date'],
    ['{"x":"2026-12-01 24:00:00","y":1}', 'x', 'a real date'],
    ['{"x":"2026-12-01 10:00:00 tomorrow","y":1}', 'x', 'a real date'],
    ['{"y":NaN,', '', 'is not valid JSON'],
    ['{"streamtoken":5,"y":1}', 'streamtoken', 'a stream token'],
    ['{"marker":5}', 'marker', 'an object of marker properties'],
    ['{"marker":{"size":{"a":1}}}', 'marker.size', 'a number, a string or null'],
    ['{"layout":3}', 'layout', 'a plotly.js layout object'],
    ['{"append":{"x":[1,2],"y":[1]}}', 'append.y', 'as many values as "append.x" (2)'],
    ['{"append":{"x":[1,2],"marker":{"size":[1,2,3]}}}', 'append.marker.size', 'as many values'],
    ['{"append":{"x":[]}}', 'append.x', 'an array of 1 to'],
    ['{"append":{}}', 'append', 'at least one array of points'],
    ['{"append":{"x":1}}', 'append.x', 'an array of 1 to'],
    ['{"append":{"w":[1]}}', 'append.w', 'is not a key of this message'],
    ['{"append":{"x":["2026-13-01"]}}', 'append.x', 'a real date'],
    ['{"append":{"y":[1]},"y":2}', 'y', 'cannot be combined with "append"'],
    ['{"append":{"y":[1]},"seq":-1}', 'seq', 'an integer >= 0'],
    ['{"x":[1,2],"seq":4}', 'seq', 'needs "append" or a scalar value'],
    ['{"layout":{},"seq":4}', 'seq', 'needs "append" or a scalar value'],
  ])('%s', (text, field, rule) => {
    const err = rejection(() => decodeStreamLine(text));
    expect(err.kind).toBe('stream object');
    expect(err.field).toBe(field);
    expect(err.rule).toContain(rule);
  });

  it('refuses a batch larger than MAX_BATCH_POINTS', () => {
    const y = Array.from({ length: MAX_BATCH_POINTS + 1 }, (_, i) => i);
    expect(rejection(() => validateStreamObject({ append: { y } })).field).toBe('append.y');
  });
});

describe('stream objects as real clients send them', () => {
  const decoded = (text: string) => {
    const line = decodeStreamLine(text);
    if (line.kind !== 'object') throw new Error('not an object');
    return line;
  };

  it('drops keys plotwire does not use (Plotly accepted them) and says which', () => {
    const line = decoded('{"x": 1, "y": 2, "type": "scatter", "name": "a"}');
    expect(line.object).toEqual({ x: 1, y: 2 });
    expect(line.notes).toEqual({ ignoredKeys: ['type', 'name'], gaps: 0 });
  });

  it('takes out the token an object names itself (the Arduino libraries), keys sorted any way', () => {
    expect(decoded('{"x": 1234, "y": 512, "streamtoken": "abcdefghij"}')).toMatchObject({ object: { x: 1234, y: 512 }, token: 'abcdefghij' });
    expect(decoded('{"streamtoken": "k", "y": 1}')).toMatchObject({ object: { y: 1 }, token: 'k' });
  });

  it("makes Python's NaN and Infinity gaps, outside strings only", () => {
    const line = decoded('{"x": [1, 2, 3, 4], "y": [NaN, Infinity, -Infinity, 1.5], "text": "NaN or Infinity"}');
    expect(line.object).toEqual({ x: [1, 2, 3, 4], y: [null, null, null, 1.5], text: 'NaN or Infinity' });
    expect(line.notes.gaps).toBe(3);
    expect(decoded('{"x": 1, "y": NaN}').object).toEqual({ x: 1, y: null });
  });

  it.each([
    ['2026-12-01T10:00:00', '2026-12-01 10:00:00'],
    ['2026-12-01T10:00:00Z', '2026-12-01 10:00:00'],
    ['2026-12-01T10:00:00.123456789+01:00', '2026-12-01 10:00:00.123456'],
    ['2026-12-01T10:00', '2026-12-01 10:00'],
    ['2024-02-29 23:59:59.5', '2024-02-29 23:59:59.5'],
    ['2026-12-01', '2026-12-01'],
  ])('takes the date %s as %s', (given, stored) => {
    expect(decoded(`{"x": "${given}", "y": 1}`).object.x).toBe(stored);
    expect(decoded(`{"append": {"x": ["${given}"], "y": [1]}}`).object.append?.x).toEqual([stored]);
  });
});

describe('stream state', () => {
  it('accepts {next}', () => {
    expect(validateStreamState({ next: 42 })).toEqual({ next: 42 });
  });
  it('names the field when wrong', () => {
    const err = rejection(() => validateStreamState({ next: -3 }));
    expect(err.kind).toBe('stream state');
    expect(err.field).toBe('next');
    expect(err.rule).toContain('the seq of the next point');
  });
});

describe('status codes', () => {
  it("has every code Plotly's clients know, with its meaning", () => {
    const plotly = statusCodes.filter((s) => s.plotly).map((s) => s.code);
    expect(plotly).toEqual([200, 308, 400, 403, 404, 405, 406, 408, 422, 423, 449, 500, 503, 520]);
    expect(statusOf(406)?.meaning).toContain('plotly-streamtoken');
    expect(statusOf(418)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_LINE } from '../../shared/index.js';
import fc from 'fast-check';
import { DeviceLineFramer, type FrameSink } from '../../bridge/device-line-framer.js';
import { PlotlyYunPlotter } from './helpers/plotly-yun.js';

function split(chunks: Array<string | Buffer>, maxLine = MAX_LINE): { lines: string[]; splitter: DeviceLineFramer } {
  const splitter = new DeviceLineFramer(maxLine);
  const lines: string[] = [];
  for (const c of chunks) splitter.push(Buffer.isBuffer(c) ? c : Buffer.from(c), (buf, start, end) => lines.push(buf.toString('utf8', start, end)));
  return { lines, splitter };
}

describe('DeviceLineFramer', () => {
  it('splits on \\n, tolerates \\r\\n, joins lines split across chunks, skips empty lines', () => {
    const { lines, splitter } = split(['{"a":1}\n{"a"', ':2}\r\n\n', '{"a":3', '}\n{"partial"']);
    expect(lines).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    expect(splitter.counts).toEqual({ lines: 3, messages: 0, overlong: 0, cut: 0, discardedBytes: 0 });
    expect(splitter.pending).toBe('{"partial"'.length);
  });

  it('accepts a line of exactly maxLine bytes with its newline, and discards one byte more', () => {
    const ok = 'a'.repeat(MAX_LINE - 1);
    const long = 'b'.repeat(MAX_LINE);
    const { lines, splitter } = split([`${ok}\n${long}\nnext\n`]);
    expect(lines).toEqual([ok, 'next']);
    expect(splitter.counts.overlong).toBe(1);
    expect(splitter.counts.discardedBytes).toBe(MAX_LINE + 1);
  });

  it('the \\r of \\r\\n does not count against the limit', () => {
    const ok = 'a'.repeat(MAX_LINE - 1);
    expect(split([`${ok}\r\n`]).lines).toEqual([ok]);
    expect(split([ok.slice(0, 100), `${ok.slice(100)}\r\n`]).lines).toEqual([ok]);
  });

  it('discards an overlong line that arrives in pieces, up to the next newline, and counts it once', () => {
    const { lines, splitter } = split(['x'.repeat(200), 'y'.repeat(200), 'z'.repeat(200), 'tail\n{"ok":1}\n']);
    expect(lines).toEqual(['{"ok":1}']);
    expect(splitter.counts.overlong).toBe(1);
    expect(splitter.counts.discardedBytes).toBe(605);
  });

  it('keeps multi-byte UTF-8 split between chunks intact', () => {
    const bytes = Buffer.from('{"msg":"Grüße ♥"}\n');
    const { lines } = split([bytes.subarray(0, 12), bytes.subarray(12)]);
    expect(lines).toEqual(['{"msg":"Grüße ♥"}']);
  });

  it('a flood without newline holds at most maxLine bytes', () => {
    const splitter = new DeviceLineFramer(64);
    const chunk = Buffer.alloc(65_536, 0x41);
    for (let i = 0; i < 100; i++) splitter.push(chunk, () => expect.fail('no line expected'));
    expect(splitter.pending).toBe(0);
    expect(splitter.counts.overlong).toBe(1);
    expect(splitter.counts.discardedBytes).toBe(100 * 65_536);
    const lines: string[] = [];
    splitter.push(Buffer.from('AAAA\n{"back":1}\n'), (buf, start, end) => lines.push(buf.toString('utf8', start, end)));
    expect(lines).toEqual(['{"back":1}']);
  });

  it('rejects a useless limit', () => {
    expect(() => new DeviceLineFramer(1)).toThrow(/maxLine/);
  });
});

describe('DeviceLineFramer: the Yún library framing beside NDJSON', () => {
  const frames = (chunks: Buffer[], maxLine = MAX_LINE) => {
    const framer = new DeviceLineFramer(maxLine);
    const out: string[] = [];
    const sink: FrameSink = {
      line: (buf, start, end) => out.push(`L:${buf.toString('latin1', start, end)}`),
      message: (name, buf, start, end) => out.push(`M:${name}:${buf.toString('latin1', start, end)}`),
      discard: (kind) => out.push(`D:${kind}`),
    };
    for (const c of chunks) framer.push(c, sink);
    return { out, framer };
  };
  const plotter = new PlotlyYunPlotter('abcdefghij');

  it('takes messages with no newline between them, and lines around them', () => {
    const bytes = Buffer.from(`{"v":1}\n${plotter.plot(1, 10)}${plotter.plotY(512)}debug\n`, 'latin1');
    const { out, framer } = frames([bytes]);
    expect(out).toEqual(['L:{"v":1}', 'M:plotly:{"x": 1.00, "y": 10.00, "token": "abcdefghij"}', 'M:plotly:{"timezone": "", "y": "512.00", "token": "abcdefghij"}', 'L:debug']);
    expect(framer.counts).toMatchObject({ lines: 2, messages: 2 });
  });

  it('a message cut by the next one (a reset) is discarded and said; an overlong one too', () => {
    const cut = plotter.plot(2, 3).slice(0, 20);
    const long = `\x1dplotly\x1e${'x'.repeat(MAX_LINE + 5)}\x1f`;
    const { out, framer } = frames([Buffer.from(`${cut}${plotter.plot(4, 5)}${long}{"ok":1}\n`, 'latin1')]);
    expect(out).toEqual(['D:cut', 'M:plotly:{"x": 4.00, "y": 5.00, "token": "abcdefghij"}', 'D:overlong', 'L:{"ok":1}']);
    expect(framer.counts).toMatchObject({ cut: 1, overlong: 1, messages: 1, lines: 1 });
  });

  it('frames any mix of lines and messages, cut into any chunks, exactly (seeded random)', () => {
    const line = fc.stringMatching(/^[ -~]{1,60}$/).map((s) => ({ kind: 'L' as const, text: s }));
    const message = fc.tuple(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.double({ noNaN: true, min: -1e6, max: 1e6 })).map(([x, y]) => ({ kind: 'M' as const, text: plotter.plot(x, y) }));
    fc.assert(
      fc.property(fc.array(fc.oneof(line, message), { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), (items, cuts) => {
        const text = items.map((i) => (i.kind === 'L' ? `${i.text}\n` : i.text)).join('');
        const bytes = Buffer.from(text, 'latin1');
        const chunks: Buffer[] = [];
        for (let at = 0, c = 0; at < bytes.length; c++) {
          const n = cuts[c % cuts.length] as number;
          chunks.push(bytes.subarray(at, at + n));
          at += n;
        }
        const want = items.map((i) => (i.kind === 'L' ? `L:${i.text}` : `M:plotly:${i.text.slice(8, -1)}`));
        expect(frames(chunks).out).toEqual(want);
      }),
      { seed: 13, numRuns: 300, interruptAfterTimeLimit: 5_000 },
    );
  });

  it('never holds more than maxLine bytes and never throws, whatever the bytes (seeded random)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const framer = new DeviceLineFramer(64);
        for (const c of chunks) {
          framer.push(Buffer.from(c), { line: (_b, s, e) => expect(e - s).toBeLessThan(64), message: (_n, _b, s, e) => expect(e - s).toBeLessThanOrEqual(64) });
          expect(framer.pending).toBeLessThanOrEqual(64);
        }
      }),
      { seed: 29, numRuns: 300, interruptAfterTimeLimit: 5_000 },
    );
  });
});

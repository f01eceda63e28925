import { describe, expect, it } from 'vitest';
import { LineDecoder } from '../../bridge/line-decoder.js';

describe('LineDecoder', () => {
  it('counts kinds and invalid lines, keeping the first few with the reason', () => {
    const shown: string[] = [];
    const d = new LineDecoder((err) => shown.push(err.message), 2);
    const lines = [
      '{"hello":1,"fw":"0.1.0","board":"uno","rate":500,"ch":["ecg"]}',
      'Booting...',
      '{"n":0,"t":0,"ecg":512}',
      '{"n":70000,"ecg":1}',
      '{"ev":"beat","bpm":72,"ibi":833,"n":1}',
      'debug: x=3',
    ];
    const kinds = lines.map((l) => d.decode(l)?.kind);
    expect(kinds).toEqual(['hello', undefined, 'sample', undefined, 'event', undefined]);
    expect(d.counts).toMatchObject({ lines: 6, hello: 1, sample: 1, event: 1, invalid: 3, lost: 0 });
    expect(d.firstBad.map((b) => b.line)).toEqual(['Booting...', '{"n":70000,"ecg":1}']);
    expect(d.firstBad[0]?.reason).toMatch(/not valid JSON/);
    expect(d.firstBad[1]?.reason).toMatch(/"n" must be .*65535/);
    expect(shown).toHaveLength(3);
  });

  const hello = '{"hello":1,"fw":"1","board":"uno","rate":100,"ch":["v"]}';

  it('counts gaps in n as lost lines, across the 65535 -> 0 wrap', () => {
    const d = new LineDecoder();
    d.decode(hello);
    for (const n of [65533, 65534, 0, 1, 5, 6]) d.decode(`{"n":${n},"v":1}`);
    // 65535 is missing, then 2, 3, 4.
    expect(d.counts.lost).toBe(4);
  });

  it('a hello restarts the numbering, a backwards jump is a restart and not a loss', () => {
    const d = new LineDecoder();
    for (const n of [10, 11]) d.decode(`{"n":${n},"v":1}`);
    d.decode('{"hello":1,"fw":"1","board":"uno","rate":100,"ch":["v"],"n":0}');
    d.decode('{"n":1,"v":1}');
    expect(d.counts.lost).toBe(0);
    d.decode('{"n":0,"v":1}');
    expect(d.counts).toMatchObject({ lost: 0, seqRestarts: 1 });
    d.reopened();
    d.decode(hello);
    d.decode('{"n":500,"v":1}');
    expect(d.counts.lost).toBe(0);
  });

  it('without a hello, "n" and "t" are channels like any key: no gaps, any numbers', () => {
    const d = new LineDecoder();
    const lines = ['{"t":21.5,"h":40}', '{"n":5,"v":1}', '{"n":9,"v":1}', '{"t":-3,"n":70000}'];
    expect(lines.map((l) => d.decode(l)?.kind)).toEqual(['sample', 'sample', 'sample', 'sample']);
    expect(d.counts).toMatchObject({ invalid: 0, lost: 0 });
    expect(d.stamped).toBe(false);
    // After a hello they are stamps, checked as such.
    d.decode(hello);
    expect(d.decode('{"t":21.5,"h":40}')).toBeUndefined();
    expect(d.stamped).toBe(true);
    d.reopened();
    expect(d.stamped).toBe(false);
  });

  it('adds up what the device says it dropped', () => {
    const d = new LineDecoder();
    d.decode('{"ev":"drop","lines":7}');
    d.decode('{"ev":"drop","lines":3}');
    expect(d.counts.deviceDropped).toBe(10);
  });
});

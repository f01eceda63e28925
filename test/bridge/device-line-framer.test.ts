import { describe, expect, it } from 'vitest';
import { MAX_LINE } from '../../shared/index.js';
import { DeviceLineFramer } from '../../bridge/device-line-framer.js';

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
    expect(splitter.counts).toEqual({ lines: 3, overlong: 0, discardedBytes: 0 });
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

/**
 * The chunked decoder under arbitrary input: any framing plotly.py or a hostile client can send,
 * split at any read boundary. It never throws anything but a FramingError, never holds more than
 * a size line's worth of undecoded bytes, and decodes every well-formed body exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder, FramingError } from '../../server/ingest/chunked-decoder.js';
import { fuzzParams, splitAt } from './fuzz.js';

/** Undecoded bytes the decoder may hold: its size-line limit (1,024) and the line's CR. */
const MAX_HELD = 1025;

function feed(parts: Buffer[]): { data: Buffer; ended: boolean; error?: FramingError } {
  const data: Buffer[] = [];
  let ended = false;
  const decoder = new ChunkedDecoder(
    (d) => data.push(Buffer.from(d)),
    () => (ended = true),
  );
  try {
    for (const p of parts) {
      decoder.push(p);
      expect((decoder as unknown as { line: string }).line.length).toBeLessThanOrEqual(MAX_HELD);
    }
  } catch (err) {
    if (!(err instanceof FramingError)) throw err;
    return { data: Buffer.concat(data), ended, error: err };
  }
  return { data: Buffer.concat(data), ended };
}

/**
 * One chunk as some client might frame it: hex in either case, an extension, a stray blank line
 * before it (plotly.py, whose lines end in CRLF). A body ends its lines one way throughout: CRLF,
 * or bare LF (tolerated); mixing a bare LF after data with a CRLF next is what the Arduino
 * libraries' one-byte overrun looks like, and is read as that.
 */
const chunkArb = fc.record({
  data: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  upper: fc.boolean(),
  extension: fc.option(fc.constantFrom(';a=b', ';x', '; q="1"'), { nil: undefined }),
  strayBlank: fc.boolean(),
});

describe('ChunkedDecoder (fuzz)', () => {
  it('decodes any well-formed body exactly, split at any read boundaries', () => {
    fc.assert(
      fc.property(fc.array(chunkArb, { maxLength: 12 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 20 }), (chunks, lf, cuts) => {
        const parts: Buffer[] = [];
        const eol = lf ? '\n' : '\r\n';
        for (const c of chunks) {
          const hex = c.data.length.toString(16);
          parts.push(Buffer.from(`${c.strayBlank && !lf ? '\r\n' : ''}${c.upper ? hex.toUpperCase() : hex}${c.extension ?? ''}${eol}`), Buffer.from(c.data), Buffer.from(eol));
        }
        parts.push(Buffer.from('0\r\n\r\n'));
        const result = feed(splitAt(Buffer.concat(parts), cuts));
        expect(result.error).toBeUndefined();
        expect(result.ended).toBe(true);
        expect(result.data.equals(Buffer.concat(chunks.map((c) => Buffer.from(c.data))))).toBe(true);
      }),
      fuzzParams(500, 5000),
    );
  });

  it('any bytes at all: a FramingError or data, never another error, never more held than a size line', () => {
    const noisy = fc.oneof(
      fc.uint8Array({ maxLength: 4000 }).map((a) => Buffer.from(a)),
      // Near-valid framing: sizes that lie, missing CRLFs, huge sizes, endless size lines.
      fc
        .array(fc.constantFrom('0', '1', 'f', 'FFFFFFFF', '7fffffff', '100000000', ';', '\r', '\n', '\r\n', 'zz', 'x', ' ', '{"x":1}\n', 'a'.repeat(1500)), { maxLength: 60 })
        .map((a) => Buffer.from(a.join(''))),
    );
    fc.assert(
      fc.property(noisy, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const result = feed(splitAt(bytes, cuts));
        // What came out is never more than what went in.
        expect(result.data.length).toBeLessThanOrEqual(bytes.length);
      }),
      fuzzParams(2000, 5000),
    );
  });
});

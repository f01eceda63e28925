/**
 * The stream-object validator under arbitrary lines: whatever a writer sends, decodeStreamLine
 * either refuses it with a ProtocolError naming the field and rule, or returns an object whose
 * change to a token is consistent (every appended column as long as the count), which the
 * in-memory window then holds within its bounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeStreamLine } from '../../shared/index.js';
import { alignColumns, columnLength, dataChange } from '../../server/data/columns.js';
import { RecentPoints } from '../../server/data/recent-points.js';
import { fuzzParams } from './fuzz.js';

const scalar = fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 30 }), fc.constant(null), fc.boolean(), fc.constantFrom('2026-11-22 10:00:00.123456', '2026-99-99', '2026-11-22T10:00:00Z', ''));
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 30 }), fc.jsonValue({ maxDepth: 3 }));
const style = fc.oneof(fc.dictionary(fc.constantFrom('size', 'color', 'width', 'symbol', ''), value, { maxKeys: 3 }), value);
const objectish = fc.record(
  {
    x: value,
    y: value,
    z: value,
    text: value,
    marker: style,
    line: style,
    layout: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }))),
    append: fc.oneof(
      fc.record({ x: fc.array(scalar, { maxLength: 20 }), y: fc.array(scalar, { maxLength: 20 }), text: fc.array(scalar, { maxLength: 20 }), marker: style }, { requiredKeys: [] }),
      value,
    ),
    seq: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string({ maxLength: 5 })),
    streamtoken: fc.oneof(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })),
    other: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

/** Lines as writers produce them and as they break: objects, Python's NaN, cut-off JSON, deep nesting, junk. */
const line = fc.oneof(
  objectish.map((o) => JSON.stringify(o)),
  objectish.map((o) => JSON.stringify(o).replace(/null/g, 'NaN').replace(/0/g, 'Infinity')),
  fc.tuple(objectish, fc.nat()).map(([o, cut]) => {
    const text = JSON.stringify(o);
    return text.slice(0, cut % (text.length + 1));
  }),
  fc.nat({ max: 20_000 }).map((n) => `{"x":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.nat({ max: 20_000 }).map((n) => `{"layout":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`),
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
);

describe('decodeStreamLine (fuzz)', () => {
  it('refuses with a ProtocolError or returns an object whose change is consistent, never anything else', () => {
    const recent = new RecentPoints(50, 64 * 1024);
    fc.assert(
      fc.property(line, (text) => {
        let decoded: ReturnType<typeof decodeStreamLine>;
        try {
          decoded = decodeStreamLine(text);
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(ProtocolError);
          expect((err as ProtocolError).message.length).toBeLessThan(400);
          return;
        }
        if (decoded.kind === 'heartbeat') return;
        const parsed = dataChange(decoded.object);
        // A replace's arrays may differ in length; the store aligns them (pads with null) as here.
        const change = { ...parsed, ...(parsed.replace && { replace: alignColumns(parsed.replace) }) };
        for (const cols of [change.append, change.replace]) {
          if (!cols) continue;
          const n = columnLength(cols);
          for (const [key, col] of Object.entries(cols)) expect(col.length, key).toBe(n);
        }
        if (change.append) expect(columnLength(change.append)).toBe(change.appendCount);
        if (change.replace) recent.replace(change.replace);
        if (change.append) recent.append(change.append);
        expect(recent.length).toBeLessThanOrEqual(50);
        expect(recent.bytes).toBeLessThanOrEqual(64 * 1024 + 100_000);
      }),
      fuzzParams(3000, 8000),
    );
  });
});

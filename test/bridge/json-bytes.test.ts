import { describe, expect, it } from 'vitest';
import { JsonBytes } from '../../bridge/json-bytes.js';
import { formatPlotlyDate } from '../../shared/index.js';

const written = (write: (out: JsonBytes) => void): string => {
  // A small start, so the tests also cross the writer's growth.
  const out = new JsonBytes(1);
  write(out);
  return out.finish().toString();
};

describe('JsonBytes', () => {
  it('writes every kind of number exactly as JSON.stringify does', () => {
    const special = [0, -0, 1, -1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e15 - 1, 1e15, 1e21, 1e22, 0.1, 0.5, 0.000001, 0.0000015, 1e-7, 123.456, -0.002, 999999999.999999, 1e9 + 0.5, Math.PI, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity];
    let seed = 7;
    const rand = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const generated = Array.from({ length: 20_000 }, (_, i) => {
      const scale = 10 ** Math.floor(rand() * 24 - 10);
      const v = (rand() - 0.5) * scale;
      // Whole millionths (seconds since start), whole numbers (readings), and anything.
      return i % 3 === 0 ? Math.round(v * 1e6) / 1e6 : i % 3 === 1 ? Math.round(v) : v;
    });
    for (const v of [...special, ...generated]) expect(written((out) => out.number(v)), String(v)).toBe(JSON.stringify(v));
  });

  it('writes dates exactly as formatPlotlyDate does, in UTC and local time', () => {
    const start = Date.UTC(2026, 10, 22, 23, 59, 58);
    for (const zone of ['utc', 'local'] as const) {
      for (let i = 0; i < 3000; i++) {
        const ms = start + i * 1.337;
        expect(written((out) => out.date(ms, zone))).toBe(JSON.stringify(formatPlotlyDate(ms, zone === 'utc')));
      }
    }
    expect(() => written((out) => out.date(NaN, 'utc'))).toThrow(/not a time/);
  });

  it('escapes strings and keeps UTF-8 text whole', () => {
    const text = 'Norway "NO" \\ é 日本 \n';
    expect(written((out) => out.ascii('[').string(text).text(',{"k":"ü"}').byte(0x5d))).toBe(`[${JSON.stringify(text)},{"k":"ü"}]`);
  });
});

/**
 * Bridge decode throughput on one core: bytes from the serial port -> bounded line framing ->
 * decode + validate -> device time to x -> per-token buffer -> batch-append objects, beside two
 * same-run baselines: plain JSON.parse of the same lines, and the ordinary path the bridge's
 * hand-written codecs replace (each line as a string through JSON.parse and the schema check,
 * each batch through JSON.stringify), which is what justifies them.
 * Targets (issue 4): >= 1,000,000 lines/s and >= 50 % of the JSON.parse figure.
 */
import { takeBatch } from '../bridge/batch.js';
import { LineDecoder } from '../bridge/line-decoder.js';
import { DeviceLineFramer } from '../bridge/device-line-framer.js';
import { PointBuffer } from '../bridge/point-buffer.js';
import { formatPlotlyDate } from '../shared/dates.js';
import { PointRouter, type PointSink, type XMode } from '../bridge/point-router.js';
import { printTable, verdict } from './lib/table.js';
import { BenchError } from './lib/bench-error.js';

const LINES = 1_000_000;
const ROUNDS = 5;

/** Device lines of two shapes: the heart firmware's (5 samples per line) and one sample per line. */
const shapes = {
  'heart {"n","t","ecg":[5]}': (i: number) => `{"n":${i & 0xffff},"t":${i * 10},"ecg":[${512 + (i % 97)},${515 + (i % 89)},${530 + (i % 83)},${601 + (i % 79)},${702 + (i % 73)}]}`,
  'one sample {"n","t","v"}': (i: number) => `{"n":${i & 0xffff},"t":${i * 2},"v":${512 + (i % 97)}}`,
} as const;

function jsonParseRate(lines: readonly string[]): number {
  let sink = 0;
  const start = performance.now();
  for (const l of lines) sink += (JSON.parse(l) as { n: number }).n;
  const s = (performance.now() - start) / 1000;
  if (sink < 0) console.log(sink);
  return lines.length / s;
}

/** A batch as the ordinary path writes it: the same object, built as values and JSON.stringify'd. */
function stringifyBatch(buffer: PointBuffer, dates: boolean): string | undefined {
  const n = Math.min(buffer.unsent, 10_000);
  if (n === 0) return undefined;
  const x: Array<number | string> = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = buffer.x(i);
    x.push(dates && typeof v === 'number' ? formatPlotlyDate(v, true) : v);
    y.push(buffer.y(i));
  }
  const line = `${JSON.stringify({ append: { x, y }, seq: buffer.startSeq + buffer.cursor })}\n`;
  buffer.advance(n);
  return line;
}

/**
 * Lines/s through the bridge's pipeline; `ordinary` swaps its fast codecs for the ordinary ones
 * (text + JSON.parse + schema check in, JSON.stringify out).
 */
function bridgeRate(bytes: Buffer, count: number, xMode: XMode, ordinary = false): number {
  const buffer = new PointBuffer(2 ** 40);
  const framer = new DeviceLineFramer();
  const decoder = new LineDecoder();
  const sinks = new Map<string, PointSink>([
    // What the bridge's sinks do: StreamClient.pushMany into its buffer.
    ['ecg', (xs, ys, from, to) => void buffer.pushMany(xs, ys, from, to)],
    ['v', (xs, ys, from, to) => void buffer.pushMany(xs, ys, from, to)],
  ]);
  const router = new PointRouter(sinks, xMode);
  // What the stream client does for date x: format at batch time.
  const dates = xMode === 'date' ? 'utc' : undefined;
  const flush = (): number => {
    let n = 0;
    if (ordinary) while (stringifyBatch(buffer, dates !== undefined)) n++;
    else while (takeBatch(buffer, undefined, dates)) n++;
    return n;
  };
  let objects = 0;
  let now = Date.UTC(2026, 10, 22, 10);
  const start = performance.now();
  const chunk = 4096;
  for (let off = 0; off < bytes.length; off += chunk) {
    framer.push(bytes.subarray(off, off + chunk), (buf, start, end) => {
      const decoded = ordinary ? decoder.decode(buf.toString('utf8', start, end)) : decoder.decodeBytes(buf, start, end);
      if (decoded) router.route(decoded, now);
    });
    now += 1;
    // What the client does every 50 ms: the window's points as one object, acknowledged.
    if ((off / chunk) % 64 === 63) {
      objects += flush();
      buffer.acknowledge(buffer.nextSeq);
    }
  }
  objects += flush();
  const s = (performance.now() - start) / 1000;
  if (decoder.counts.sample !== count || objects === 0) throw new BenchError(`decoded ${decoder.counts.sample} of ${count} lines`);
  return count / s;
}

const rows: Array<Array<string | number>> = [];
for (const [name, make] of Object.entries(shapes)) {
  const lines = Array.from({ length: LINES }, (_, i) => make(i));
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  const best = { parse: 0, seconds: 0, date: 0, ordinarySeconds: 0, ordinaryDate: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    best.parse = Math.max(best.parse, jsonParseRate(lines));
    best.seconds = Math.max(best.seconds, bridgeRate(bytes, LINES, 'seconds'));
    best.date = Math.max(best.date, bridgeRate(bytes, LINES, 'date'));
    best.ordinarySeconds = Math.max(best.ordinarySeconds, bridgeRate(bytes, LINES, 'seconds', true));
    best.ordinaryDate = Math.max(best.ordinaryDate, bridgeRate(bytes, LINES, 'date', true));
  }
  const pct = (rate: number, of: number): string => `${((rate / of) * 100).toFixed(0)} %`;
  rows.push([name, 'JSON.parse only (baseline)', Math.round(best.parse), '100 %', '', '']);
  for (const [mode, rate, ordinary] of [
    ['x = seconds', best.seconds, best.ordinarySeconds],
    ['x = date strings (default)', best.date, best.ordinaryDate],
  ] as const) {
    rows.push([name, `ordinary path (JSON.parse + schema, JSON.stringify), ${mode}`, Math.round(ordinary), pct(ordinary, best.parse), '100 %', '']);
    rows.push([name, `bridge: frame + decode + validate + batch, ${mode}`, Math.round(rate), pct(rate, best.parse), pct(rate, ordinary), verdict(rate >= 1_000_000 && rate >= best.parse / 2)]);
  }
}
printTable(
  `Bridge decode throughput, one core (${LINES.toLocaleString('en-US')} lines, best of ${ROUNDS})`,
  ['lines', 'pipeline', 'lines/s', 'of JSON.parse', 'of the ordinary path', 'target >= 1M/s and >= 50 %'],
  rows,
);

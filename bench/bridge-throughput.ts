/**
 * Bridge decode throughput on one core: bytes from the serial port -> bounded line framing ->
 * JSON.parse + schema validation -> device time to x -> per-token buffer -> batch-append objects,
 * beside plain JSON.parse of the same lines (the same-run baseline).
 * Targets (issue 4): >= 1,000,000 lines/s and >= 50 % of the JSON.parse figure.
 */
import { takeBatch } from '../bridge/batch.js';
import { LineDecoder } from '../bridge/line-decoder.js';
import { LineSplitter } from '../bridge/line-framer.js';
import { PointBuffer } from '../bridge/point-buffer.js';
import { PointRouter, type PointSink, type XMode } from '../bridge/point-router.js';
import { formatPlotlyDate } from '../shared/index.js';
import { printTable, verdict } from './lib/table.js';

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

function bridgeRate(bytes: Buffer, count: number, xMode: XMode): number {
  const buffer = new PointBuffer(2 ** 40);
  const splitter = new LineSplitter();
  const decoder = new LineDecoder();
  const sinks = new Map<string, PointSink>([
    ['ecg', (x, y) => void buffer.push(x, y)],
    ['v', (x, y) => void buffer.push(x, y)],
  ]);
  const router = new PointRouter(sinks, xMode);
  // What the stream client does for date x: format at batch time.
  const formatX = xMode === 'date' ? (x: number | string) => (typeof x === 'number' ? formatPlotlyDate(x, true) : x) : undefined;
  let objects = 0;
  let now = Date.UTC(2026, 10, 22, 10);
  const start = performance.now();
  const chunk = 4096;
  for (let off = 0; off < bytes.length; off += chunk) {
    splitter.pushBytes(bytes.subarray(off, off + chunk), (buf, start, end) => {
      const decoded = decoder.decodeBytes(buf, start, end);
      if (decoded) router.route(decoded, now);
    });
    now += 1;
    // What the client does every 50 ms: the window's points as one object, acknowledged.
    if ((off / chunk) % 64 === 63) {
      for (let b = takeBatch(buffer, undefined, formatX); b; b = takeBatch(buffer, undefined, formatX)) objects++;
      buffer.acknowledge(buffer.nextSeq);
    }
  }
  for (let b = takeBatch(buffer, undefined, formatX); b; b = takeBatch(buffer, undefined, formatX)) objects++;
  const s = (performance.now() - start) / 1000;
  if (decoder.counts.sample !== count || objects === 0) throw new Error(`decoded ${decoder.counts.sample} of ${count} lines`);
  return count / s;
}

const rows: Array<Array<string | number>> = [];
for (const [name, make] of Object.entries(shapes)) {
  const lines = Array.from({ length: LINES }, (_, i) => make(i));
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  const best = { parse: 0, seconds: 0, date: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    best.parse = Math.max(best.parse, jsonParseRate(lines));
    best.seconds = Math.max(best.seconds, bridgeRate(bytes, LINES, 'seconds'));
    best.date = Math.max(best.date, bridgeRate(bytes, LINES, 'date'));
  }
  rows.push([name, 'JSON.parse only (baseline)', Math.round(best.parse), '100 %', '']);
  for (const [mode, rate] of [['x = seconds', best.seconds], ['x = date strings (default)', best.date]] as const) {
    const share = (rate / best.parse) * 100;
    rows.push([name, `bridge: frame + decode + validate + batch, ${mode}`, Math.round(rate), `${share.toFixed(0)} %`, verdict(rate >= 1_000_000 && share >= 50)]);
  }
}
printTable(`Bridge decode throughput, one core (${LINES.toLocaleString('en-US')} lines, best of ${ROUNDS})`, ['lines', 'pipeline', 'lines/s', 'of JSON.parse', 'target >= 1M/s and >= 50 %'], rows);

/**
 * How close each line's x is to when the board wrote it, for lines without device time (any
 * sketch that sends no hello): a writer on a pty prints {"v": <its clock in ms>} at 10 and 100
 * lines/s, the bridge streams v with x as dates (UTC), and each point's x - v is its error. The
 * same-run baseline is the pty alone: a reader stamping each line with the time its bytes came.
 * Reported for the default read (pause 52 ms after emptying the port, spread what waited) and for
 * --read-interval 0 (read as bytes arrive).
 */
import { pty, readPtyLines, sleep, startBridge, type Pty } from './lib/processes.js';
import { startReceiver } from './lib/receiver.js';
import { percentile, printTable } from './lib/table.js';

const SECONDS = 10;
const now = (): number => performance.timeOrigin + performance.now();

/** Writes a line every 1000/rate ms, each carrying the time it was written. */
async function write(p: Pty, rate: number): Promise<void> {
  const start = now();
  for (let i = 0; i < rate * SECONDS; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    await p.write(`{"v":${now()}}\n`);
  }
}

interface Errors {
  errors: number[];
  xs: number[];
}

async function ptyAlone(rate: number): Promise<Errors> {
  const p = await pty();
  const errors: number[] = [];
  const xs: number[] = [];
  const stop = readPtyLines(p, (v, at) => {
    errors.push(at - v);
    xs.push(at);
  });
  await sleep(200);
  await write(p, rate);
  await sleep(300);
  stop();
  await p.close();
  return { errors, xs };
}

async function throughBridge(rate: number, flags: string[]): Promise<Errors> {
  const errors: number[] = [];
  const xs: number[] = [];
  const receiver = await startReceiver((_token, obj) => {
    const { x, y } = (obj as { append?: { x: string[]; y: number[] } }).append ?? { x: [], y: [] };
    x.forEach((d, i) => {
      // Date.parse keeps milliseconds only: the microseconds are added back.
      const ms = Date.parse(`${d.slice(0, 19).replace(' ', 'T')}Z`) + Number(d.slice(20)) / 1000;
      errors.push(ms - y[i]!);
      xs.push(ms);
    });
  });
  const p = await pty();
  const bridge = startBridge(['--serial', p.device, '--server', receiver.url, '--map', 'v=bench', '--reset-wait', '0', '--watchdog', '0', '--utc', ...flags]);
  await bridge.waitFor('connected');
  await sleep(300);
  await write(p, rate);
  await sleep(500);
  await bridge.stop();
  await p.close();
  await receiver.close();
  return { errors, xs };
}

const rows: Array<Array<string | number>> = [];
for (const rate of [10, 100]) {
  const row = (name: string, r: Errors): void => {
    const abs = r.errors.map(Math.abs);
    const gaps = r.xs.slice(1).map((x, i) => x - r.xs[i]!);
    rows.push([`${rate} lines/s`, name, r.errors.length, percentile(abs, 50), percentile(abs, 99), Math.max(...abs), `${Math.min(...gaps).toFixed(3)}-${Math.max(...gaps).toFixed(1)}`, new Set(r.xs).size === r.xs.length ? 'yes' : 'no']);
  };
  row('pty alone (baseline: stamped as bytes come)', await ptyAlone(rate));
  row('bridge, default (52 ms pauses, spread)', await throughBridge(rate, []));
  row('bridge, --read-interval 0', await throughBridge(rate, ['--read-interval', '0']));
}
printTable(
  `x against the writer's clock, lines without device time, ${SECONDS} s each (ms; spacing: min-max between consecutive x, the writer's is 1000/rate)`,
  ['rate', 'reader', 'points', 'p50 |x - written|', 'p99', 'max', 'spacing', 'every x distinct'],
  rows,
);

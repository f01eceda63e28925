/**
 * The bridge CLI as a process, 4 channels to 4 tokens through a real pty and loopback HTTP:
 * - CPU at 1 kHz x 4 channels for 10 s, beside the same process idle for 10 s (same-run
 *   baseline), by default and with --read-interval 10. Target (issue 4): < 2 % of one core.
 * - Memory over an accelerated 1-hour soak: one hour of 1 kHz x 4 channels (3.6 M lines,
 *   14.4 M points) fed at 60x speed, resident memory sampled every 5 simulated minutes.
 *   Target: flat.
 */
import { feed, pty, sleep, startBridge } from './lib/processes.js';
import { startReceiver } from './lib/receiver.js';
import { printTable, verdict } from './lib/table.js';

const channels = ['a', 'b', 'c', 'd'];
const map = channels.flatMap((c) => ['--map', `${c}=tok-${c}`]);
const line = (i: number): string => `{"n":${i & 0xffff},"a":${i % 1024},"b":${(i * 7) % 1024},"c":${(i * 13) % 1024},"d":${(i * 31) % 1024}}\n`;

const SECONDS = 10;
const cpuRows: Array<Array<string | number>> = [];

/** CPU of a bridge process, idle and at 1 kHz x 4, with the given extra flags. */
async function cpu(name: string, flags: string[]): Promise<void> {
  const receiver = await startReceiver();
  const p = await pty();
  const bridge = startBridge(['--serial', p.device, '--server', receiver.url, ...map, '--reset-wait', '0', '--watchdog', '0', ...flags]);
  await bridge.waitFor('connected');
  await sleep(2_000);
  let t0 = bridge.cpuMs();
  await sleep(SECONDS * 1000);
  const idle = (bridge.cpuMs() - t0) / (SECONDS * 10);
  t0 = bridge.cpuMs();
  const w0 = performance.now();
  const lines = await feed(p, 1000, SECONDS, line);
  const busy = (bridge.cpuMs() - t0) / ((performance.now() - w0) / 100);
  await sleep(500);
  const delivered = channels.every((c) => receiver.points.get(`tok-${c}`) === lines);
  cpuRows.push([name, 'idle (baseline)', 0, idle, '']);
  cpuRows.push([name, '1 kHz x 4 channels', lines * 4, busy, verdict(busy < 2)]);
  if (!delivered) console.log(`warning: not every point arrived: ${JSON.stringify([...receiver.points])}`);
  await bridge.stop();
  p.close();
  await receiver.close();
}

await cpu('default', []);
await cpu('--read-interval 10', ['--read-interval', '10']);
printTable('CPU of the bridge process (user + system, all threads, from /proc), 4 channels -> 4 tokens, lines written every 2 ms', ['bridge', 'load', 'points', '% of one core', 'target < 2 %'], cpuRows);

const receiver = await startReceiver();
const p = await pty();
const bridge = startBridge(['--serial', p.device, '--server', receiver.url, ...map, '--reset-wait', '0', '--watchdog', '0', '--stats', '0.25']);
let heapUsed = 0;
bridge.onRecord((r) => {
  if (r.event === 'stats') heapUsed = (r.memory as { heapUsed: number }).heapUsed / 1024;
});
await bridge.waitFor('connected');
await sleep(1_000);

// Accelerated soak: 1 hour of data at 60x. Memory rises and falls with garbage collection, so
// each 5-minute block reports the lowest and highest seen (sampled every 250 ms): the V8 heap in
// use (from the bridge's stats records) and the resident size. A leak shows as lows that climb.
const SPEEDUP = 60;
const SIM_MINUTES = 60;
const rows: Array<Array<string | number>> = [];
let fed = 0;
const heapLows: number[] = [];
for (let minute = 5; minute <= SIM_MINUTES; minute += 5) {
  const start = fed;
  const low = { heap: Infinity, rss: Infinity };
  const high = { heap: 0, rss: 0 };
  const sampler = setInterval(() => {
    const rss = bridge.rssKb();
    low.rss = Math.min(low.rss, rss);
    high.rss = Math.max(high.rss, rss);
    if (heapUsed > 0) {
      low.heap = Math.min(low.heap, heapUsed);
      high.heap = Math.max(high.heap, heapUsed);
    }
  }, 250);
  fed += await feed(p, 1000 * SPEEDUP, (5 * 60) / SPEEDUP, (i) => line(start + i));
  clearInterval(sampler);
  heapLows.push(low.heap);
  rows.push([`${minute - 5}-${minute}`, fed, Math.round(low.heap), Math.round(high.heap), low.rss, high.rss]);
}
await sleep(1_000);
printTable(`Accelerated soak: 1 h of 1 kHz x 4 channels at ${SPEEDUP}x, memory of the bridge`, ['simulated minutes', 'lines fed', 'heap used low kB', 'heap used high kB', 'RSS low kB', 'RSS high kB'], rows);
// Blocks after the first (warm-up): the second half's lowest heap against the first half's.
const half = Math.floor(heapLows.length / 2);
const trend = Math.min(...heapLows.slice(half)) - Math.min(...heapLows.slice(1, half));
printTable('Soak verdict', ['measure', 'kB', 'target: flat (< 5 MiB)'], [['lowest heap in use, 2nd half minus 1st half', Math.round(trend), verdict(trend < 5 * 1024)]]);
const arrived = Math.min(...channels.map((c) => receiver.points.get(`tok-${c}`) ?? 0));
console.log(`\n${arrived.toLocaleString('en-US')} of ${fed.toLocaleString('en-US')} lines delivered on every token${arrived === fed ? '' : ' (NOT all)'}`);
await bridge.stop();
p.close();
await receiver.close();

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
const bridge = startBridge(['--serial', p.device, '--server', receiver.url, ...map, '--reset-wait', '0', '--watchdog', '0']);
await bridge.waitFor('connected');
await sleep(1_000);

// Accelerated soak: 1 hour of data at 60x. RSS rises and falls with garbage collection, so each
// 5-minute block reports the lowest and highest RSS seen (sampled every 250 ms); a leak shows as
// lows that keep climbing.
const SPEEDUP = 60;
const SIM_MINUTES = 60;
const rows: Array<Array<string | number>> = [];
let fed = 0;
const lows: number[] = [];
for (let minute = 5; minute <= SIM_MINUTES; minute += 5) {
  const start = fed;
  let low = Infinity;
  let high = 0;
  const sampler = setInterval(() => {
    const rss = bridge.rssKb();
    low = Math.min(low, rss);
    high = Math.max(high, rss);
  }, 250);
  fed += await feed(p, 1000 * SPEEDUP, (5 * 60) / SPEEDUP, (i) => line(start + i));
  clearInterval(sampler);
  lows.push(low);
  rows.push([`${minute - 5}-${minute}`, fed, low, high]);
}
await sleep(1_000);
// The first block is warm-up (the heap grows to its working size).
const trend = (lows.at(-1) as number) - Math.min(...lows.slice(1, 3));
printTable(`Accelerated soak: 1 h of 1 kHz x 4 channels at ${SPEEDUP}x, resident memory (RSS) of the bridge`, ['simulated minutes', 'lines fed', 'lowest RSS kB', 'highest RSS kB'], rows);
printTable('Soak verdict', ['measure', 'kB', 'target: flat (< 10 MiB)'], [['lowest RSS, last block minus minutes 5-15', trend, verdict(trend < 10 * 1024)]]);
const arrived = Math.min(...channels.map((c) => receiver.points.get(`tok-${c}`) ?? 0));
console.log(`\n${arrived.toLocaleString('en-US')} of ${fed.toLocaleString('en-US')} lines delivered on every token${arrived === fed ? '' : ' (NOT all)'}`);
await bridge.stop();
p.close();
await receiver.close();

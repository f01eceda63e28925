/**
 * Added latency of the bridge, from a line written into the serial pty to its point's bytes
 * arriving on the server's socket, with the 50 ms window, at 1 kHz for 10 s. The same-run
 * baseline is the pty alone: the same lines read straight from the device side.
 * Target (issue 4): p99 <= 55 ms.
 */
import { feed, pty, readPtyLines, sleep, startBridge } from './lib/processes.js';
import { startReceiver } from './lib/receiver.js';
import { percentile, printTable, verdict } from './lib/table.js';

const RATE = 1000;
const SECONDS = 10;
// Both processes read the same wall clock; y carries the send time in ms since the epoch.
const now = (): number => performance.timeOrigin + performance.now();
const line = (i: number): string => `{"n":${i & 0xffff},"v":${now()}}\n`;

async function ptyBaseline(): Promise<number[]> {
  const p = await pty();
  const lat: number[] = [];
  const stop = readPtyLines(p, (v, at) => lat.push(at - v));
  await sleep(200);
  await feed(p, RATE, SECONDS, line);
  await sleep(300);
  stop();
  p.close();
  return lat;
}

async function throughBridge(): Promise<number[]> {
  const lat: number[] = [];
  const receiver = await startReceiver((_token, obj, at) => {
    const arrived = performance.timeOrigin + at;
    for (const y of obj.append?.y ?? []) lat.push(arrived - y);
  });
  const p = await pty();
  const bridge = startBridge(['--serial', p.device, '--server', receiver.url, '--map', 'v=bench', '--reset-wait', '0', '--watchdog', '0']);
  await bridge.waitFor('connected');
  await sleep(500);
  await feed(p, RATE, SECONDS, line);
  await sleep(500);
  await bridge.stop();
  p.close();
  await receiver.close();
  return lat;
}

const base = await ptyBaseline();
const bridged = await throughBridge();
const row = (name: string, l: number[], target: string) => [name, l.length, percentile(l, 50), percentile(l, 99), Math.max(...l), target];
printTable(`Latency, line written to the pty -> bytes on the server socket (${RATE} lines/s for ${SECONDS} s)`, ['path', 'points', 'p50 ms', 'p99 ms', 'max ms', 'target p99 <= 55 ms'], [
  row('pty alone (baseline)', base, ''),
  row('bridge, 50 ms window', bridged, verdict(percentile(bridged, 99) <= 55)),
  ['added by the bridge', '', percentile(bridged, 50) - percentile(base, 50), percentile(bridged, 99) - percentile(base, 99), '', ''],
]);
if (bridged.length !== RATE * SECONDS) console.log(`warning: ${bridged.length} of ${RATE * SECONDS} points arrived`);

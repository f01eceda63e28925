/**
 * Two bridge CLIs on one token against the real server: the second takes the token over, the
 * first says so and stops sending (no flapping). And legacy decimation, which loses points on
 * purpose and says so in its counts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { sleep, until } from '../helpers/wait.js';
import type { StreamClientStats } from '../../bridge/stream-client.js';
import { startBridge, type BridgeProcess } from './helpers/bridge-cli.js';
import { openPtyPair, type PtyPair } from '../../firmware/sim/pty.js';
import { addUser, createToken, startServerProcess, storedPoints, streamNext, type ServerProcess } from './helpers/server-process.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-takeover-'));
const bridges: BridgeProcess[] = [];
const ptys: PtyPair[] = [];
let server: ServerProcess | undefined;
afterAll(async () => {
  for (const b of bridges) b.child.kill('SIGKILL');
  for (const p of ptys) await p.close();
  server?.child.kill('SIGKILL');
});

const common = ['--reset-wait', '0', '--watchdog', '0', '--max-backoff', '0.3', '--stats', '0.5'];

/** Writes `lines` sample lines at about 1 kHz. */
async function feed(pty: PtyPair, from: number, lines: number): Promise<void> {
  for (let i = from; i < from + lines; i += 10) {
    let text = '';
    for (let k = i; k < Math.min(i + 10, from + lines); k++) text += `{"n":${k & 0xffff},"t":${k},"v":${k}}\n`;
    await pty.write(text);
    await sleep(10);
  }
}

it('two bridges on one token: the older reports the takeover and stops; no flapping', { timeout: 60_000 }, async () => {
  const data = join(dir, 'data');
  server = await startServerProcess(data);
  addUser(data, 'alice');
  const token = createToken(data, 'alice');
  const [a, b] = [await openPtyPair(dir, 'a'), await openPtyPair(dir, 'b')];
  ptys.push(a, b);

  const first = startBridge(['--serial', a.device, '--server', server.url, '--map', `v=${token}`, ...common]);
  bridges.push(first);
  await first.waitFor((r) => r.event === 'connected');
  await feed(a, 0, 300);

  const second = startBridge(['--serial', b.device, '--server', server.url, '--map', `v=${token}`, ...common]);
  bridges.push(second);
  const takeover = await first.waitFor((r) => r.event === 'takeover').catch((err: Error) => {
    throw new Error(`${err.message}\nsecond bridge: ${second.records.map((r) => r.msg).join(' / ')} ${second.stderr()}`);
  });
  expect(takeover.msg).toMatch(/another connection took over token .* \(449\); not fighting it/);
  expect(takeover.level).toBe('error');

  // Both boards keep sending for 3 s: only the second bridge's stream carries on.
  const before = await streamNext(server.url, token);
  await Promise.all([feed(a, 300, 3000), feed(b, 0, 3000)]);
  const after = await until('the second board\'s lines stored', async () => {
    const next = await streamNext(server!.url, token);
    return next - before >= 3000 && next;
  });
  // The second board's 3000 lines (a few more would be the first's last ones before the 449).
  expect(after - before).toBeGreaterThanOrEqual(3000);

  const connects = (bp: BridgeProcess) => bp.records.filter((r) => r.event === 'connected').length;
  expect(connects(first)).toBe(1);
  expect(connects(second)).toBe(1);
  expect(second.records.filter((r) => r.event === 'takeover')).toHaveLength(0);
  const [fa, fb] = await Promise.all([first.stop(), second.stop()]);
  const sa = (fa.streams as StreamClientStats[])[0]!;
  const sb = (fb.streams as StreamClientStats[])[0]!;
  expect(sa).toMatchObject({ state: 'stopped', lastStatus: 449, reconnects: 0 });
  expect(sa.stopReason).toMatch(/took over/);
  // The stopped token's points are counted as dropped, not silently lost.
  expect(sa.dropped).toBe(sa.pushed - sa.stored);
  expect(sa.dropped).toBeGreaterThanOrEqual(3000);
  expect(sb).toMatchObject({ state: 'closed', reconnects: 0, errors: 0, buffered: 0 });
});

it('--legacy mean: one point per 50 ms window, the rest counted as dropped', { timeout: 30_000 }, async () => {
  const data = join(dir, 'data');
  const apiKey = addUser(data, 'bob');
  const token = createToken(data, 'bob');
  const p = await openPtyPair(dir, 'legacy');
  ptys.push(p);
  const bridge = startBridge([
    '--serial', p.device, '--server', server!.url, '--map', `v=${token}`, '--legacy', 'mean', '--x', 'seconds',
    '--create-plot', 'Legacy', '--api-key', apiKey, ...common,
  ]);
  bridges.push(bridge);
  const plot = await bridge.waitFor((r) => r.event === 'plot-created');
  await bridge.waitFor((r) => r.event === 'serial-open');
  expect((await bridge.waitFor((r) => r.event === 'connected')).msg).toMatch(/legacy, mean/);
  await feed(p, 0, 1000);
  // Every line read and handed to the stream before it stops (a stats record says so).
  await bridge.waitFor((r) => r.event === 'stats' && (r.streams as StreamClientStats[])[0]?.pushed === 1000);
  const final = await bridge.stop();
  const s = (final.streams as StreamClientStats[])[0]!;
  const points = await storedPoints(server!.url, apiKey, String(plot.id));
  expect(s.pushed).toBe(1000);
  // About one point per 50 ms over ~1 s.
  expect(points.length).toBeGreaterThanOrEqual(10);
  expect(points.length).toBeLessThanOrEqual(40);
  expect(s.written).toBe(points.length);
  expect(s.dropped).toBe(1000 - points.length);
  // Each stored y is the mean of its window's consecutive values, so they rise like the input.
  const ys = points.map((q) => q.y);
  for (let i = 1; i < ys.length; i++) expect(ys[i]!).toBeGreaterThan(ys[i - 1]!);
  expect(Number.isInteger(ys[0]!) || ys[0]! % 0.5 === 0).toBe(true);
});

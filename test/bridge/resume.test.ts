/**
 * The whole path for real: 1 kHz lines for 10 s into a socat pty, the built bridge CLI reading
 * it, and the real server (its CLI, a separate process) killed with SIGKILL in the middle and
 * restarted, then stopped with SIGTERM (its streams end with 503) and restarted again.
 * Every point arrives exactly once, in order.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { sleep, until } from '../helpers/wait.js';
import { DATE_PATTERN } from '../../shared/index.js';
import type { StreamClientStats } from '../../bridge/stream-client.js';
import type { BoardStats } from '../../bridge/board.js';
import { startBridge, type BridgeProcess } from './helpers/bridge-cli.js';
import { openPtyPair, type PtyPair } from '../../firmware/sim/pty.js';
import { addUser, createToken, startServerProcess, storedPoints, streamNext, type ServerProcess } from './helpers/server-process.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-resume-'));
let server: ServerProcess | undefined;
let pty: PtyPair | undefined;
let bridge: BridgeProcess | undefined;
afterAll(async () => {
  bridge?.child.kill('SIGKILL');
  await pty?.close();
  server?.child.kill('SIGKILL');
});

const RATE = 1000;
const SECONDS = 10;
const TOTAL = RATE * SECONDS;

it('1 kHz for 10 s with the server killed and restarted: every point exactly once, in order', { timeout: 90_000 }, async () => {
  server = await startServerProcess(join(dir, 'data'));
  const apiKey = addUser(join(dir, 'data'), 'alice');
  const token = createToken(join(dir, 'data'), 'alice');
  pty = await openPtyPair(dir, 'resume');
  bridge = startBridge([
    '--serial', pty.device, '--server', server.url, '--map', `v=${token}`,
    '--reset-wait', '0', '--watchdog', '0', '--max-backoff', '0.4', '--stats', '0.5',
    '--create-plot', 'Resume test', '--api-key', apiKey, '--maxpoints', String(TOTAL),
  ]);
  const plot = await bridge.waitFor((r) => r.event === 'plot-created');
  expect(String(plot.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/~alice\/\d+$/);
  await bridge.waitFor((r) => r.event === 'serial-open');
  await bridge.waitFor((r) => r.event === 'connected');

  await pty.write('{"hello":1,"fw":"0.1.0","board":"uno","rate":1000,"ch":["v"]}\n');
  const start = performance.now();
  let sent = 0;
  const events: Array<[number, () => Promise<void>]> = [
    [3_000, () => server!.kill9()],
    [4_500, () => server!.restart()],
    // SIGTERM: the server ends its streams with 503 and exits.
    [7_000, () => server!.stop()],
    [7_300, () => server!.restart()],
  ];
  while (sent < TOTAL) {
    const due = Math.min(TOTAL, Math.floor(performance.now() - start));
    let text = '';
    for (; sent < due; sent++) text += `{"n":${sent & 0xffff},"t":${100_000 + sent},"v":${sent}}\n`;
    if (text) await pty.write(text);
    while (events.length && performance.now() - start >= events[0]![0]) await events.shift()![1]();
    await sleep(5);
  }
  for (const [, event] of events) await event();

  // Everything the bridge read must end up stored, once the last resume has caught up.
  await until('every point stored', async () => (await streamNext(server!.url, token)) >= TOTAL, 20_000);
  expect(await streamNext(server.url, token)).toBe(TOTAL);
  const points = await storedPoints(server.url, apiKey, String(plot.id));
  expect(points).toHaveLength(TOTAL);
  expect(points.map((p) => p.y)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
  // x: date strings from the device clock, 1 ms apart.
  for (const p of points) expect(p.x).toMatch(DATE_PATTERN);
  const ms = points.map((p) => Date.parse(String(p.x).replace(' ', 'T')));
  for (let i = 1; i < ms.length; i++) expect(ms[i]! - ms[i - 1]!).toBe(1);

  const final = await bridge.stop();
  const stream = (final.streams as StreamClientStats[])[0]!;
  const board = (final.boards as BoardStats[])[0]!;
  expect(board.decoder).toMatchObject({ sample: TOTAL, invalid: 0, lost: 0 });
  expect(stream).toMatchObject({ pushed: TOTAL, stored: TOTAL, buffered: 0, dropped: 0 });
  // Two breaks close together can be spanned by one reconnect when the backoff outlasts both.
  expect(stream.reconnects).toBeGreaterThanOrEqual(1);
  // The bridge saw both kinds of break and said so.
  const said = bridge.records.map((r) => `${r.event} ${r.msg}`);
  expect(said.some((s) => s.startsWith('disconnected') && /stream broke/.test(s))).toBe(true);
  expect(said.some((s) => s.startsWith('status') && /503/.test(s))).toBe(true);
});

/**
 * End to end with nothing faked: the compiled Uno firmware in the avr8js simulator, fed an
 * MIT-BIH ECG, on a pty; the bridge CLI; the real server. Every sample line arrives, 2 ms apart,
 * and the beats come through as their own stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import type { BoardStats } from '../../bridge/board.js';
import type { StreamClientStats } from '../../bridge/stream-client.js';
import { cli, startBridge, type BridgeProcess } from './helpers/bridge-cli.js';
import { addUser, createToken, startServerProcess, storedPoints, type ServerProcess } from './helpers/server-process.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'pw-sim-'));
let server: ServerProcess | undefined;
let sim: ChildProcess | undefined;
let bridge: BridgeProcess | undefined;
afterAll(() => {
  bridge?.child.kill('SIGKILL');
  sim?.kill('SIGKILL');
  server?.child.kill('SIGKILL');
});

it('simulated Uno -> pty -> bridge -> server: every sample, 2 ms apart, and the beats', { timeout: 150_000 }, async () => {
  const data = join(dir, 'data');
  server = await startServerProcess(data);
  const apiKey = addUser(data, 'alice');
  const [ecg, bpm] = [createToken(data, 'alice'), createToken(data, 'alice')];

  sim = spawn(process.execPath, [cli, 'simulate', '--signal', join(root, 'test/data/heart/mitdb/100.adc.csv.gz'), '--pty', '--json'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const ptyPath = await new Promise<string>((resolve, reject) => {
    sim!.once('exit', (code) => reject(new Error(`simulate exited (${code})`)));
    createInterface({ input: sim!.stdout! }).on('line', (line) => {
      const row = JSON.parse(line) as { pty?: string };
      if (row.pty) resolve(row.pty);
    });
  });

  bridge = startBridge([
    '--serial', ptyPath, '--server', server.url, '--map', `ecg=${ecg}`, '--map', `beat.bpm=${bpm}`,
    '--stats', '0.5', '--create-plot', 'Simulated heart', '--api-key', apiKey,
  ]);
  const plot = await bridge.waitFor((r) => r.event === 'plot-created');
  await bridge.waitFor((r) => r.event === 'connected');
  // 8 s of ECG at the simulator's pace (slower than real time on a busy machine): after the
  // detector's 2 s of learning, ~7 beats of record 100, which come every ~0.8 s.
  await bridge.waitFor((r) => r.event === 'stats' && (r.boards as BoardStats[])[0]!.decoder.sample >= 800, 100_000);
  const final = await bridge.stop();

  const board = (final.boards as BoardStats[])[0]!;
  const streams = final.streams as StreamClientStats[];
  // At most the line cut by opening mid-line, and the one cut by the reset the open causes (as on an Uno).
  expect(board.decoder.invalid).toBeLessThanOrEqual(2);
  expect(board.decoder.hello).toBe(1);
  expect(board.decoder.lost).toBe(0);
  expect(board.decoder.sample).toBeGreaterThanOrEqual(800);
  for (const s of streams) expect(s).toMatchObject({ buffered: 0, dropped: 0, stored: s.pushed });

  const ecgPoints = await storedPoints(server.url, apiKey, String(plot.id), 0);
  expect(ecgPoints.length).toBe(streams[0]!.pushed);
  // Every sample line after the board's reset (the open resets it; lines from before are stale).
  expect(ecgPoints.length).toBeGreaterThanOrEqual((board.decoder.sample - board.staleDropped) * 5);
  const ms = ecgPoints.map((p) => Date.parse(String(p.x).replace(' ', 'T')));
  const steps = ms.slice(1).map((m, i) => m - ms[i]!);
  // 2 ms apart by the device clock; a simulator that falls far behind real time on a busy machine
  // makes the bridge re-anchor the clock once in a while (a step forward).
  for (const step of steps) expect(step).toBeGreaterThan(0);
  expect(steps.filter((d) => d === 2).length / steps.length).toBeGreaterThan(0.99);
  // --create-plot laid the plot out from the board's hello: ECG above, heart rate below.
  const figure = ((await (await fetch(new URL(`/api/v1/plots/${String(plot.id)}`, server.url), { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { figure: { layout: Record<string, { title?: { text: string }; range?: number[] }>; data: Array<{ mode: string; yaxis: string }> } }).figure;
  expect(figure.layout.yaxis?.title?.text).toBe('ecg (ADC counts)');
  expect(figure.layout.yaxis2).toMatchObject({ title: { text: 'heart rate (beats per minute)' }, range: [30, 220] });
  expect(figure.data.map((t) => [t.yaxis, t.mode])).toEqual([
    ['y', 'lines'],
    ['y2', 'lines+markers'],
  ]);
  // A beat carries a rate once three intervals are known, so the first beats give no point (no
  // drop to 0 at the start of the plot); record 100 runs at ~75 bpm.
  const beats = await storedPoints(server.url, apiKey, String(plot.id), 1);
  expect(beats.length).toBeGreaterThanOrEqual(3);
  for (const b of beats) expect(b.y).toBeGreaterThan(60);
  for (const b of beats) expect(b.y).toBeLessThan(90);
});

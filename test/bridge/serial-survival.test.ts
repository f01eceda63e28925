/**
 * What real ports send, through a real pty into the real CLI: boot noise, a partial first line,
 * debug prints, overlong lines, a reset mid-line, and a 100 MB flood without a newline.
 * The bridge survives, counts exactly, and its memory does not grow with the flood.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { MAX_LINE } from '../../shared/index.js';
import type { BoardStats } from '../../bridge/board.js';
import type { StreamClientStats } from '../../bridge/stream-client.js';
import { startBridge, type BridgeProcess } from './helpers/bridge-cli.js';
import { openPtyPair, type PtyPair } from '../../firmware/sim/pty.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-survive-'));
let pty: PtyPair | undefined;
let bridge: BridgeProcess | undefined;
afterAll(async () => {
  bridge?.child.kill('SIGKILL');
  await pty?.close();
});

const hello = '{"hello":1,"fw":"0.1.0","board":"uno","rate":1000,"ch":["v"]}\n';
const sample = (n: number) => `{"n":${n},"t":${1000 + n},"v":${n}}\n`;

it('survives noise, overlong lines and a 100 MB flood with exact counts and bounded memory', { timeout: 120_000 }, async () => {
  pty = await openPtyPair(dir, 'survive');
  // Nothing listens on port 9 of loopback: the points stay buffered, which is fine here.
  bridge = startBridge(['--serial', pty.device, '--server', 'http://127.0.0.1:9', '--map', 'v=tok', '--reset-wait', '0', '--watchdog', '0', '--stats', '0.2']);
  await bridge.waitFor((r) => r.event === 'serial-open');

  let n = 0;
  // A partial first line (the tail of one sent before the port opened), then boot noise.
  await pty.write('"t":12,"v":3}\n');
  await pty.write(Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x37, 0x0a]));
  await pty.write(hello);
  for (let i = 0; i < 50; i++) await pty.write(sample(n++));
  // A user's debug prints.
  await pty.write('debug: x=3\nSensor ready!\n');
  // Three overlong lines (each one byte over the limit with its newline, then much longer).
  await pty.write(`${'a'.repeat(MAX_LINE)}\n${'b'.repeat(MAX_LINE * 4)}\n${'c'.repeat(100_000)}\n`);
  for (let i = 0; i < 50; i++) await pty.write(sample(n++));
  // A reset mid-line: half a line, then the board starts over with a hello.
  await pty.write('{"n":100,"t":');
  await pty.write(hello);
  n = 0;
  for (let i = 0; i < 50; i++) await pty.write(sample(n++));
  await bridge.waitFor((r) => r.event === 'stats' || r.event === 'bad-line');
  const before = bridge.rssKb();

  // 100 MB without a newline.
  const chunk = Buffer.alloc(1024 * 1024, 0x41);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, bridge!.rssKb())), 50);
  for (let i = 0; i < 100; i++) await pty.write(chunk);
  await pty.write('\n');
  for (let i = 0; i < 50; i++) await pty.write(sample(n++));
  // Wait until the bridge has read everything: the last sample is counted.
  await until('the last sample counted', async () => (await statsNow(bridge!)) >= 200, 60_000);
  clearInterval(sampler);

  const final = await bridge.stop();
  const board = (final.boards as BoardStats[])[0]!;
  expect(board.decoder).toMatchObject({
    // Invalid: the partial first line, the noise, 2 debug prints, and the line cut by the reset;
    // the hello right after the cut is recovered from it (so n restarting at 0 is no loss).
    sample: 200,
    hello: 2,
    invalid: 5,
    lost: 0,
    seqRestarts: 0,
  });
  expect(board.serial.framer).toMatchObject({ overlong: 4 });
  expect(board.serial.framer.discardedBytes).toBe(MAX_LINE + 1 + MAX_LINE * 4 + 1 + 100_001 + 100 * 1024 * 1024 + 1);
  expect(board.points).toBe(200);
  const stream = (final.streams as StreamClientStats[])[0]!;
  expect(stream.pushed).toBe(200);
  // Memory: 100 MB went through; the bridge grew by far less (a leak would show ~100 MB).
  expect(peak - before, `RSS before ${before} kB, peak ${peak} kB`).toBeLessThan(40 * 1024);
  // The first bad lines were shown with the reason.
  const bad = bridge.records.filter((r) => r.event === 'bad-line');
  expect(bad.length).toBe(5);
  expect(String(bad[0]!.reason)).toMatch(/not valid JSON/);
});

/** Samples counted so far, from the latest stats record. */
async function statsNow(b: BridgeProcess): Promise<number> {
  const last = [...b.records].reverse().find((r) => r.event === 'stats');
  const boards = last?.boards as Array<{ decoder: { sample: number } }> | undefined;
  return boards?.[0]?.decoder.sample ?? 0;
}

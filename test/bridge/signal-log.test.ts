/**
 * The bridge's log shows the board's signal state (quality events): each change, at most every
 * qualityLogMs, a signal flapping between states summed up in one record; through a real pty.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Board } from '../../bridge/board.js';
import type { LogRecord } from '../../shared/log.js';
import { openPtyPair } from '../../firmware/sim/pty.js';
import { until } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-signal-log-'));
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const quality = (n: number, sig: string): string => `{"ev":"quality","n":${n},"t":${n * 10},"sig":"${sig}","q":0}\n`;
const sample = (n: number): string => `{"n":${n},"t":${n * 10},"ecg":512}\n`;

it('logs a change of the signal state, and sums up a flapping one', async () => {
  const p = await openPtyPair(dir, 'signal');
  cleanup.push(() => p.close());
  const logs: LogRecord[] = [];
  const board = new Board({ source: { port: p.device, list: async () => [], watchdogMs: 0 }, resetWaitMs: 0, qualityLogMs: 1000 }, new Map());
  board.on('log', (r) => logs.push(r));
  cleanup.push(() => board.close());
  board.start();
  await until('open', () => board.source.state === 'open');
  const signal = (): LogRecord[] => logs.filter((r) => r.event === 'signal');

  await p.write(quality(0, 'clipped') + sample(1));
  await until('the first change', () => signal().length === 1);
  expect(signal()[0]).toMatchObject({ level: 'warn', signal: 'clipped', changes: 1 });
  expect(signal()[0]!.message).toMatch(/signal clipped: at an ADC rail/);

  // Flapping: four changes within the window, the same state again needing no record.
  await p.write(quality(2, 'clipped') + quality(3, 'lost') + quality(4, 'clipped') + quality(5, 'lost') + quality(6, 'ok') + sample(7));
  await until('the flapping lines', () => board.stats.decoder.event === 6);
  expect(signal()).toHaveLength(1);
  // Lines keep coming: once the window has passed, one record says where it ended.
  for (let n = 8; signal().length < 2; n++) {
    const read = board.stats.decoder.sample;
    await p.write(sample(n));
    await until('the line', () => board.stats.decoder.sample > read);
  }
  expect(signal()[1]).toMatchObject({ level: 'info', signal: 'ok', changes: 4 });
  expect(signal()[1]!.message).toMatch(/signal ok: beats and a rate \(4 changes since the last report\)/);
});

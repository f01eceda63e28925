/**
 * A board that resets in the middle of a line, through a real pty into the bridge's Board: the
 * points of the one channel keep going forwards in time, whether the board's hello comes on a
 * line of its own (the firmware sends a newline first) or is glued to the cut line and lost (an
 * older firmware, or any sketch): then "n" and "t" starting over tell the bridge. Before, the
 * bridge kept the old device-time anchor and stored what came next up to a minute in the past.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Board } from '../../bridge/board.js';
import { openPtyPair } from '../../firmware/sim/pty.js';
import { until } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-device-reset-'));
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const hello = '{"hello":1,"fw":"0.1.0","board":"uno","rate":100,"ch":["v"]}\n';
/** A run of sample lines at 100 Hz from device time t0 on, numbered from n0. */
const samples = (n0: number, t0: number, count: number): string =>
  Array.from({ length: count }, (_, i) => `{"n":${n0 + i},"t":${t0 + 10 * i},"v":${n0 + i}}\n`).join('');

describe('a board reset mid-line', () => {
  it.each([
    ['its hello on a line of its own', `\n${hello}`],
    ['its hello glued to the cut line (lost)', hello],
  ])('%s: no point goes before an earlier one', async (_what, afterCut) => {
    const p = await openPtyPair(dir, 'reset');
    cleanup.push(() => p.close());
    const xs: number[] = [];
    const board = new Board(
      { source: { port: p.device, list: async () => [], watchdogMs: 0 }, resetWaitMs: 0 },
      new Map([['v', (x: Float64Array, _ys: Float64Array, from: number, to: number) => void xs.push(...x.subarray(from, to))]]),
    );
    cleanup.push(() => board.close());
    board.start();
    await until('open', () => board.source.state === 'open');
    // A minute of samples, read at once (a backlog): device time runs a minute ahead of the host.
    await p.write(hello + samples(0, 0, 6000));
    await until('the backlog', () => xs.length === 6000);
    // The reset cuts a line; the board starts over from n 0, t 0.
    await p.write(`{"n":6000,"t":6${afterCut}${samples(0, 0, 100)}`);
    await until('the lines after the reset', () => xs.length === 6100);
    const back = xs.findIndex((x, i) => i > 0 && !(x > xs[i - 1]!));
    expect(back, `point ${back} at ${xs[back]} ms is not after the one before, at ${xs[back - 1]} ms`).toBe(-1);
  });
});

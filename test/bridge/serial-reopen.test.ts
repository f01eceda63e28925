/**
 * The serial source over real ptys: reopening the same board by USB identity after it vanished
 * and came back under another path, the reset wait, and the no-data watchdog. The unplug and
 * replug cannot happen here, so the port list is a test binding; the data flows through real ptys.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, until } from '../helpers/wait.js';
import { Board } from '../../bridge/board.js';
import type { LogRecord } from '../../shared/log.js';
import type { PortInfo } from '../../bridge/ports.js';
import { createSource } from '../../bridge/sources/create-source.js';
import { openPtyPair, type PtyPair } from '../../firmware/sim/pty.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-reopen-'));
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function pty(name: string): Promise<PtyPair> {
  const p = await openPtyPair(dir, name);
  cleanup.push(() => p.close());
  return p;
}

const identity = { vendorId: '2341', productId: '0043', serialNumber: '85736323838351F0E1C1' };

describe('serial source', () => {
  // Both ways of reading: on a timer (the bridge's default) and as bytes arrive.
  it.each([52, 0])('reopens the board by its USB identity under a new path, not its old one (read interval %i ms)', async (readIntervalMs) => {
    const first = await pty(`first-${readIntervalMs}`);
    let listed: PortInfo[] = [
      { path: '/dev/ttyS0' },
      { path: first.device, ...identity },
    ];
    const source = createSource({ port: first.device, list: async () => listed, rescanMs: 50, watchdogMs: 0, readIntervalMs });
    cleanup.push(() => source.close());
    const lines: string[] = [];
    const logs: LogRecord[] = [];
    source.on('line', (buf, start, end) => lines.push(buf.toString('utf8', start, end)));
    source.on('log', (r) => logs.push(r));
    source.start();
    await until('open', () => source.state === 'open');
    expect(source.stats.identity).toBe('2341:0043 serial 85736323838351F0E1C1');
    await first.write('{"v":1}\n');
    await until('first line', () => lines.length === 1);

    // Unplug: the pty vanishes. A different board appears first, then ours under a new path.
    await first.close();
    await until('loss noticed', () => logs.some((r) => r.event === 'serial-lost'));
    const other = await pty(`other-${readIntervalMs}`);
    const second = await pty(`second-${readIntervalMs}`);
    listed = [
      { path: other.device, vendorId: '2341', productId: '0043', serialNumber: 'SOMEONE-ELSE' },
      { path: second.device, ...identity },
    ];
    await until('reopened', () => source.stats.opens === 2);
    expect(source.stats.path).toBe(second.device);
    await second.write('{"v":2}\n');
    await other.write('{"v":666}\n');
    await second.write('{"v":3}\n');
    await until('the lines after the reopen', () => lines.length === 3);
    expect(lines).toEqual(['{"v":1}', '{"v":2}', '{"v":3}']);
  });

  it.each([52, 0])('reads a burst far larger than the tty buffer whole and in order (read interval %i ms)', async (readIntervalMs) => {
    const p = await pty(`burst-${readIntervalMs}`);
    const source = createSource({ port: p.device, list: async () => [], watchdogMs: 0, readIntervalMs });
    cleanup.push(() => source.close());
    const seen: number[] = [];
    source.on('line', (buf, start, end) => seen.push((JSON.parse(buf.toString('utf8', start, end)) as { n: number }).n));
    source.start();
    await until('open', () => source.state === 'open');
    // 1 MB in one go: hundreds of the kernel's 4 KiB reads.
    const lines = 20_000;
    await p.write(Array.from({ length: lines }, (_, n) => `{"n":${n},"v":[${n},${n},${n},${n}]}\n`).join(''));
    await until('every line', () => seen.length === lines, 30_000);
    expect(seen.every((n, i) => n === i)).toBe(true);
  }, 40_000);

  it('finds a board given as usb:VID:PID:SERIAL and as auto', async () => {
    const p = await pty('byid');
    const list = async (): Promise<PortInfo[]> => [{ path: '/dev/ttyS0' }, { path: p.device, ...identity }];
    for (const port of [`usb:2341:0043:${identity.serialNumber}`, 'auto']) {
      const source = createSource({ port, list, watchdogMs: 0 });
      source.start();
      await until(`open ${port}`, () => source.state === 'open');
      expect(source.stats.path).toBe(p.device);
      await source.close();
    }
  });

  it('says what it waits for while the port is missing', async () => {
    const source = createSource({ port: join(dir, 'nothing-here'), list: async () => [], rescanMs: 50 });
    cleanup.push(() => source.close());
    const logs: LogRecord[] = [];
    source.on('log', (r) => logs.push(r));
    source.start();
    await until('wait message', () => logs.find((r) => r.event === 'serial-wait'));
    await until('five more looks for the port', () => source.stats.searches >= 6);
    expect(logs.filter((r) => r.event === 'serial-wait')).toHaveLength(1);
    expect(logs[0]?.message).toMatch(/waiting for .*nothing-here to appear/);
  });

  it('reopens a port that falls silent far past the pace it learned', async () => {
    const p = await pty('silent');
    const source = createSource({ port: p.device, list: async () => [], rescanMs: 50, watchdogMs: 300 });
    cleanup.push(() => source.close());
    const lines: string[] = [];
    source.on('line', (buf, start, end) => lines.push(buf.toString('utf8', start, end)));
    source.start();
    await until('open', () => source.state === 'open');
    // A line every 20 ms for longer than the floor: the pace is learned (limit: the 300 ms floor).
    for (let i = 0; i < 25; i++) {
      await p.write(`{"v":${i}}\n`);
      await sleep(20);
    }
    // The limit is at least the floor; a loaded machine stretches the gaps, and so the limit, too.
    await until('the pace learned', () => source.stats.watchdogLimitMs !== undefined);
    await until('watchdog reopen', () => source.stats.watchdogReopens >= 1 && source.stats.opens >= 2);
    await p.write('{"v":1}\n');
    await until('data after the reopen', () => lines.length === 26);
  });

  it('never reopens a board that is merely slow: it learns the pace from the gaps', async () => {
    const p = await pty('slow');
    // The floor is 300 ms, the board writes every 600 ms: a fixed watchdog reopened it at each gap.
    const source = createSource({ port: p.device, list: async () => [], rescanMs: 50, watchdogMs: 300 });
    cleanup.push(() => source.close());
    let lines = 0;
    source.on('line', () => lines++);
    source.start();
    await until('open', () => source.state === 'open');
    for (let i = 0; i < 6; i++) {
      await p.write(`{"temp":${20 + i}}\n`);
      await sleep(600);
    }
    await until('every line', () => lines === 6);
    expect(source.stats.watchdogReopens).toBe(0);
    expect(source.stats.opens).toBe(1);
    expect(source.stats.watchdogLimitMs).toBeGreaterThanOrEqual(4 * 600);
  });

  it('takes the pace from the hello: never fires before it knows it', async () => {
    const p = await pty('hello-pace');
    const board = new Board({ source: { port: p.device, list: async () => [], rescanMs: 50, watchdogMs: 300 }, resetWaitMs: 0 }, new Map());
    cleanup.push(() => board.close());
    board.start();
    await until('open', () => board.source.state === 'open');
    expect(board.source.stats.watchdogLimitMs).toBeUndefined();
    // 2 Hz, one sample a line: a line every 500 ms, so 10 x 500 ms of silence is a stall.
    await p.write('{"hello":1,"fw":"1","board":"uno","rate":2,"ch":["v"],"spl":1}\n');
    await until('the pace from the hello', () => board.source.stats.watchdogLimitMs === 5_000);
  });
});

describe('board reset wait', () => {
  it('drops lines held before a hello (stale, from before the reset), passes them on without one', async () => {
    const p = await pty('reset');
    const got: number[] = [];
    const board = new Board(
      { source: { port: p.device, list: async () => [], watchdogMs: 0 }, resetWaitMs: 400, xMode: 'seconds' },
      new Map([['v', (_xs: Float64Array, ys: Float64Array, from: number, to: number) => void got.push(...ys.subarray(from, to))]]),
    );
    cleanup.push(() => board.close());
    board.start();
    await until('open', () => board.source.state === 'open');
    await p.write('{"v":1}\n{"v":2}\n');
    await until('both lines read', () => board.stats.decoder.lines === 2);
    expect(got).toEqual([]);
    await p.write('{"hello":1,"fw":"1","board":"uno","rate":100,"ch":["v"]}\n{"v":3}\n');
    await until('after hello', () => got.length === 1);
    expect(got).toEqual([3]);
    expect(board.stats.staleDropped).toBe(2);

    // Reopen with no hello: the held lines are passed on when the wait ends.
    await p.close();
    const q = await openPtyPair(dir, 'reset');
    cleanup.push(() => q.close());
    await until('reopened', () => board.source.stats.opens === 2);
    await q.write('{"v":4}\n{"v":5}\n');
    await until('both lines read', () => board.stats.decoder.lines === 6);
    expect(got).toEqual([3]);
    await until('released after the wait', () => got.length === 3);
    expect(got).toEqual([3, 4, 5]);
  });
});

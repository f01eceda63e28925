/**
 * The serial source over real ptys: reopening the same board by USB identity after it vanished
 * and came back under another path, the reset wait, and the no-data watchdog. The unplug and
 * replug cannot happen here, so the port list is a test binding; the data flows through real ptys.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Board } from '../../bridge/board.js';
import type { LogRecord } from '../../bridge/log.js';
import type { PortInfo } from '../../bridge/ports.js';
import { SerialSource } from '../../bridge/serial-source.js';
import { ptyPair, type PtyPair } from './helpers/pty.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-reopen-'));
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function pty(name: string): Promise<PtyPair> {
  const p = await ptyPair(dir, name);
  cleanup.push(() => p.close());
  return p;
}

function until<T>(what: string, get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const v = get();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - start > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

const identity = { vendorId: '2341', productId: '0043', serialNumber: '85736323838351F0E1C1' };

describe('serial source', () => {
  it('reopens the board by its USB identity under a new path, not its old one', async () => {
    const first = await pty('first');
    let listed: PortInfo[] = [
      { path: '/dev/ttyS0' },
      { path: first.device, ...identity },
    ];
    const source = new SerialSource({ port: first.device, list: async () => listed, rescanMs: 50, watchdogMs: 0 });
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
    const other = await pty('other');
    const second = await pty('second');
    listed = [
      { path: other.device, vendorId: '2341', productId: '0043', serialNumber: 'SOMEONE-ELSE' },
      { path: second.device, ...identity },
    ];
    await until('reopened', () => source.stats.opens === 2);
    expect(source.stats.path).toBe(second.device);
    await second.write('{"v":2}\n');
    await other.write('{"v":666}\n');
    await until('second line', () => lines.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(lines).toEqual(['{"v":1}', '{"v":2}']);
  });

  it('finds a board given as usb:VID:PID:SERIAL and as auto', async () => {
    const p = await pty('byid');
    const list = async (): Promise<PortInfo[]> => [{ path: '/dev/ttyS0' }, { path: p.device, ...identity }];
    for (const port of [`usb:2341:0043:${identity.serialNumber}`, 'auto']) {
      const source = new SerialSource({ port, list, watchdogMs: 0 });
      source.start();
      await until(`open ${port}`, () => source.state === 'open');
      expect(source.stats.path).toBe(p.device);
      await source.close();
    }
  });

  it('says what it waits for while the port is missing', async () => {
    const source = new SerialSource({ port: join(dir, 'nothing-here'), list: async () => [], rescanMs: 50 });
    cleanup.push(() => source.close());
    const logs: LogRecord[] = [];
    source.on('log', (r) => logs.push(r));
    source.start();
    await until('wait message', () => logs.find((r) => r.event === 'serial-wait'));
    await new Promise((r) => setTimeout(r, 300));
    expect(logs.filter((r) => r.event === 'serial-wait')).toHaveLength(1);
    expect(logs[0]?.message).toMatch(/waiting for .*nothing-here to appear/);
  });

  it('reopens a port that falls silent longer than the watchdog allows', async () => {
    const p = await pty('silent');
    const source = new SerialSource({ port: p.device, list: async () => [], rescanMs: 50, watchdogMs: 300 });
    cleanup.push(() => source.close());
    const lines: string[] = [];
    source.on('line', (buf, start, end) => lines.push(buf.toString('utf8', start, end)));
    source.start();
    await until('open', () => source.state === 'open');
    await until('watchdog reopen', () => source.stats.watchdogReopens >= 1 && source.stats.opens >= 2);
    await p.write('{"v":1}\n');
    await until('data after the reopen', () => lines.length === 1);
  });
});

describe('board reset wait', () => {
  it('drops lines held before a hello (stale, from before the reset), passes them on without one', async () => {
    const p = await pty('reset');
    const got: number[] = [];
    const board = new Board(
      { serial: { port: p.device, list: async () => [], watchdogMs: 0 }, resetWaitMs: 400, xMode: 'seconds' },
      new Map([['v', (_x: number | string, y: number) => void got.push(y)]]),
    );
    cleanup.push(() => board.close());
    board.start();
    await until('open', () => board.source.state === 'open');
    await p.write('{"v":1}\n{"v":2}\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([]);
    await p.write('{"hello":1,"fw":"1","board":"uno","rate":100,"ch":["v"]}\n{"v":3}\n');
    await until('after hello', () => got.length === 1);
    expect(got).toEqual([3]);
    expect(board.stats.staleDropped).toBe(2);

    // Reopen with no hello: the held lines are passed on when the wait ends.
    await p.close();
    const q = await ptyPair(dir, 'reset');
    cleanup.push(() => q.close());
    await until('reopened', () => board.source.stats.opens === 2);
    await q.write('{"v":4}\n{"v":5}\n');
    await new Promise((r) => setTimeout(r, 150));
    expect(got).toEqual([3]);
    await until('released after the wait', () => got.length === 3);
    expect(got).toEqual([3, 4, 5]);
  });
});

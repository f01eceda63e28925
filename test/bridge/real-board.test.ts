/**
 * A maker's first hour (issue 13), each edge through a real pty, the real bridge CLI and a real
 * server: keys that clash with the protocol, lines without device time, a second program on the
 * port, discards with their reasons, waiting for a board, bad port specs, tokens the server
 * refuses, standard input.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sleep, until } from '../helpers/wait.js';
import type { BoardStats } from '../../bridge/board.js';
import { openPtyPair, type PtyPair } from '../../firmware/sim/pty.js';
import { cli, exitCode, startBridge, type BridgeProcess } from './helpers/bridge-cli.js';
import { createToken, plotFor, serverFixture, storedPoints } from './helpers/server-process.js';

const fx = serverFixture('real', 'maker');
const { dir, data, cleanup } = fx;

async function pty(name: string): Promise<PtyPair> {
  const p = await openPtyPair(dir, name);
  cleanup.push(() => p.close());
  return p;
}

function bridge(args: string[], options: { stdin?: boolean } = {}): BridgeProcess {
  const b = startBridge(['--server', fx.server.url, '--stats', '0.2', ...args], options);
  cleanup.push(() => b.child.kill('SIGKILL'));
  return b;
}

/** A date string's time in ms, to the microsecond (Date.parse keeps milliseconds only). */
const ms = (x: unknown): number => Date.parse(String(x).slice(0, 19).replace(' ', 'T')) + Number(String(x).slice(20)) / 1000;
const lastStats = (b: BridgeProcess): BoardStats | undefined => ([...b.records].reverse().find((r) => r.event === 'stats')?.boards as BoardStats[] | undefined)?.[0];

describe('keys a maker picks', () => {
  it('{"t":21.5,"h":40} without a hello: t (temperature) and h are both plotted, every line, said once', async () => {
    const p = await pty('clash');
    const [t, h] = [createToken(data, 'maker'), createToken(data, 'maker')];
    const plot = await plotFor(fx.server.url, fx.apiKey, [t, h]);
    const b = bridge(['--serial', p.device, '--map', `t=${t}`, '--map', `h=${h}`, '--reset-wait', '0']);
    await b.waitFor((r) => r.event === 'serial-open');
    for (let i = 0; i < 30; i++) {
      await p.write(`{"t":${21.5 + i / 10},"h":${40 + i}}\n`);
      await sleep(10);
    }
    await until('30 points on each trace', async () => (await storedPoints(fx.server.url, fx.apiKey, plot, 1)).length === 30 && (await storedPoints(fx.server.url, fx.apiKey, plot, 0)).length === 30, 20_000);
    const temps = await storedPoints(fx.server.url, fx.apiKey, plot, 0);
    expect(temps.map((p) => p.y)).toEqual(Array.from({ length: 30 }, (_, i) => 21.5 + i / 10));
    const hum = await storedPoints(fx.server.url, fx.apiKey, plot, 1);
    // Each line its own x (the issue: 150 points on 3 distinct x values).
    expect(new Set(hum.map((p) => p.x)).size).toBe(30);
    const said = b.records.filter((r) => r.event === 'unstamped-key');
    expect(said.map((r) => r.key)).toEqual(['t']);
    expect(lastStats(b)?.decoder.invalid ?? 0).toBe(0);
  });

  it('lines without device time, 5 to a read at 100 lines/s: every line its own x, in order', async () => {
    const p = await pty('spread');
    const v = createToken(data, 'maker');
    const plot = await plotFor(fx.server.url, fx.apiKey, [v]);
    const b = bridge(['--serial', p.device, '--map', `v=${v}`, '--reset-wait', '0']);
    await b.waitFor((r) => r.event === 'serial-open');
    for (let i = 0; i < 200; i++) {
      await p.write(`{"v":${i}}\n`);
      await sleep(10);
    }
    await until('200 points', async () => (await storedPoints(fx.server.url, fx.apiKey, plot)).length === 200, 20_000);
    const xs = (await storedPoints(fx.server.url, fx.apiKey, plot)).map((p) => ms(p.x));
    for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThan(xs[i - 1]!);
  });
});

describe('the port', () => {
  it('names a program that shares the port (it opened it first), and keeps later ones out (TIOCEXCL)', async () => {
    const p = await pty('shared');
    const v = createToken(data, 'maker');
    const thief = spawn('cat', [p.device], { stdio: ['ignore', 'ignore', 'ignore'] });
    cleanup.push(() => thief.kill('SIGKILL'));
    await until('cat has the port open', () => spawnSync('fuser', [realpathSync(p.device)]).status === 0 || undefined, 5_000).catch(() => undefined);
    const b = bridge(['--serial', p.device, '--map', `v=${v}`, '--reset-wait', '0']);
    const shared = await b.waitFor((r) => r.event === 'port-shared');
    expect(shared.msg).toMatch(new RegExp(`cat \\(pid ${thief.pid}\\) also has .* open: it takes lines meant for the bridge`));
    const open = await b.waitFor((r) => r.event === 'serial-open');
    expect(String(open.msg)).not.toMatch(/not exclusive/);
    // A second program now cannot open it (root may, as the kernel allows: so an ordinary user tries).
    chmodSync(realpathSync(p.device), 0o666);
    const late = spawnSync('runuser', ['-u', 'nobody', '--', 'cat', realpathSync(p.device)], { encoding: 'utf8', timeout: 5_000 });
    expect(late.stderr).toMatch(/Device or resource busy/);
  });

  it('names the program that holds the port when it cannot be opened', async () => {
    const p = await pty('held');
    const first = bridge(['--serial', p.device, '--map', `v=${createToken(data, 'maker')}`, '--reset-wait', '0']);
    await first.waitFor((r) => r.event === 'serial-open');
    const second = bridge(['--serial', p.device, '--map', `v=${createToken(data, 'maker')}`, '--reset-wait', '0']);
    const wait = await second.waitFor((r) => r.event === 'serial-wait');
    expect(wait.msg).toMatch(new RegExp(`cannot open .*: node \\(pid ${first.child.pid}\\) holds it`));
  });

  it('one "waiting" line for --serial auto with no board, then quiet while nothing changes', async () => {
    const b = bridge(['--serial', 'usb:ffff:fffe', '--map', `v=${createToken(data, 'maker')}`]);
    await b.waitFor((r) => r.event === 'serial-wait');
    await until('five more looks for the board', () => (lastStats(b)?.serial.searches ?? 0) >= 6, 15_000);
    expect(b.records.filter((r) => r.event === 'serial-wait')).toHaveLength(1);
    const auto = bridge(['--serial', 'auto', '--map', `v=${createToken(data, 'maker')}`]);
    await auto.waitFor((r) => r.event === 'serial-wait');
    await until('five more looks for a board', () => (lastStats(auto)?.serial.searches ?? 0) >= 6, 15_000);
    expect(auto.records.filter((r) => r.event === 'serial-wait')).toHaveLength(1);
  });

  it.each([
    ['usb:zzzz', /--serial: "usb:zzzz" is not a USB identity: write usb:VID:PID or usb:VID:PID:SERIAL/],
    ['tcp://yun.local', /--serial: "tcp:\/\/yun.local" is not a TCP address: write tcp:\/\/HOST:PORT/],
    ['ftp://x:1', /reads serial ports and tcp:\/\/ addresses, not ftp:\/\//],
  ])('refuses --serial %s when parsed, naming the form', (spec, message) => {
    const run = spawnSync(process.execPath, [cli, 'bridge', '--serial', spec, '--server', fx.server.url], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('what is thrown away is shown', () => {
  it('overlong, not text and bad JSON lines, each with its reason, control bytes escaped, then summarised', async () => {
    const p = await pty('discards');
    const child: ChildProcess = spawn(process.execPath, [cli, 'bridge', '--serial', p.device, '--server', fx.server.url, '--map', `v=${createToken(data, 'maker')}`, '--reset-wait', '0', '--stats', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString('latin1')));
    await until('open', () => out.includes('opened'));
    await p.write(`${'a\r'.repeat(200)}\n`);
    await p.write(Buffer.from([0x01, 0x9b, 0xff, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a]));
    await p.write('\x1b[2J\x07{"v": oops}\n');
    await until('three discards shown', () => (out.match(/discarded/g) ?? []).length === 3);
    expect(out).toMatch(/discarded \(too long\): no newline within 256 bytes; the lines seem to end with "\\r" alone/);
    expect(out).toMatch(/discarded \(not text lines\): not text: another framing, or the wrong baud rate \(the port is read at 115200 baud: --baud\)/);
    expect(out).toMatch(/discarded \(bad JSON\): invalid device line: is not valid JSON.*\\x1b\[2J\\x07/);
    // The board's ESC and BEL never reach the terminal.
    expect(out).not.toMatch(/[\x07\x1b\x9b]/);
    for (let i = 0; i < 20; i++) await p.write(`junk ${i}\n`);
    await until('a summary of the rest', () => /discarded \(bad JSON\)[\s\S]*discarded \(bad JSON\)[\s\S]*\d+ more discarded \(\d+ bad JSON\); latest: /.test(out), 20_000);
  });
});

describe('tokens the server refuses', () => {
  it('keeps streaming the others and says which stopped; exits 3 with the reason when none can stream', async () => {
    const p = await pty('refused');
    const good = createToken(data, 'maker');
    const b = bridge(['--serial', p.device, '--map', `a=${good}`, '--map', 'b=not-a-registered-token', '--reset-wait', '0']);
    await b.waitFor((r) => r.event === 'token-stopped');
    expect(b.child.exitCode).toBeNull();
    await b.stop();

    const alone = bridge(['--serial', p.device, '--map', 'a=unknown-1', '--map', 'b=unknown-2', '--reset-wait', '0']);
    const failed = await alone.waitFor((r) => r.event === 'no-token');
    expect(failed.msg).toMatch(/no token can stream any more: unknow…: server refused token unknown-1 with 404/);
    expect(await exitCode(alone.child)).toBe(3);
  });
});

describe('standard input', () => {
  it('--serial - streams the lines a script pipes in, and ends with its input', async () => {
    const v = createToken(data, 'maker');
    const plot = await plotFor(fx.server.url, fx.apiKey, [v]);
    const b = bridge(['--serial', '-', '--map', `lux=${v}`], { stdin: true });
    await b.waitFor((r) => r.event === 'serial-open');
    for (let i = 0; i < 20; i++) {
      b.child.stdin!.write(`{"lux":${i * 10}}\n`);
      await sleep(20);
    }
    b.child.stdin!.end();
    const final = await b.waitFor((r) => r.event === 'final');
    expect(await exitCode(b.child)).toBe(0);
    expect((final.streams as Array<{ stored: number }>)[0]!.stored).toBe(20);
    expect((await storedPoints(fx.server.url, fx.apiKey, plot)).map((p) => p.y)).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
  });
});

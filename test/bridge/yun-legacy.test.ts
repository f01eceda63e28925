/**
 * Plotly's Yún library (plotly_yun) through the bridge: the bytes its sketch prints (made by
 * helpers/plotly-yun.ts, following the library's own code path), over a real pty beside NDJSON
 * lines, and over a real TCP socket playing the Yún's Console (port 6571) that drops the
 * connection halfway; every message on the trace of the token it names, on a real server.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sleep, until } from '../helpers/wait.js';
import { formatDateInZone } from '../../shared/dates.js';
import { openPtyPair } from '../../firmware/sim/pty.js';
import { startBridge, type BridgeProcess } from './helpers/bridge-cli.js';
import { PlotlyYunPlotter, arduinoPrintFloat } from './helpers/plotly-yun.js';
import { createToken, plotFor, serverFixture, storedPoints } from './helpers/server-process.js';

const fx = serverFixture('yun', 'yun');
const { dir, data, cleanup } = fx;

function bridge(args: string[]): BridgeProcess {
  const b = startBridge(['--server', fx.server.url, '--reset-wait', '0', '--stats', '0.2', ...args]);
  cleanup.push(() => b.child.kill('SIGKILL'));
  return b;
}

/** A sketch's loop: plotter A plots (x, y) with x its own counter, plotter B plots y with a time zone. */
function sketch(a: PlotlyYunPlotter, b: PlotlyYunPlotter, i: number): string {
  return a.plot(i * 0.5, 100 + i * 1.25) + b.plotY(512 + i);
}

const N = 40;

async function expectTraces(plot: number, started: number): Promise<void> {
  await until('every message stored', async () => (await storedPoints(fx.server.url, fx.apiKey, plot, 0)).length === N && (await storedPoints(fx.server.url, fx.apiKey, plot, 1)).length === N, 20_000);
  const a = await storedPoints(fx.server.url, fx.apiKey, plot, 0);
  // x and y as the sketch printed them (Arduino's 2 decimals), on token A's trace only.
  expect(a.map((p) => [p.x, p.y])).toEqual(Array.from({ length: N }, (_, i) => [Number(arduinoPrintFloat(i * 0.5)), Number(arduinoPrintFloat(100 + i * 1.25))]));
  const b = await storedPoints(fx.server.url, fx.apiKey, plot, 1);
  expect(b.map((p) => p.y)).toEqual(Array.from({ length: N }, (_, i) => 512 + i));
  // x: the arrival time, on Montreal's wall clock.
  const earliest = formatDateInZone(started - 1000, 'America/Montreal');
  const latest = formatDateInZone(Date.now() + 1000, 'America/Montreal');
  for (const p of b) {
    expect(String(p.x) >= earliest && String(p.x) <= latest, `${String(p.x)} between ${earliest} and ${latest}`).toBe(true);
  }
}

describe('the Yún library', () => {
  it('over a pty, beside NDJSON lines: each message on its own token, with no --map', async () => {
    const p = await openPtyPair(dir, 'yun');
    cleanup.push(() => p.close());
    const [ta, tb, tv] = [createToken(data, 'yun'), createToken(data, 'yun'), createToken(data, 'yun')];
    const plot = await plotFor(fx.server.url, fx.apiKey, [ta, tb, tv]);
    const [a, b] = [new PlotlyYunPlotter(ta), new PlotlyYunPlotter(tb)];
    b.timezone = 'America/Montreal';
    const bp = bridge(['--serial', p.device, '--map', `v=${tv}`]);
    await bp.waitFor((r) => r.event === 'serial-open');
    const started = Date.now();
    for (let i = 0; i < N; i++) {
      await p.write(Buffer.from(`${sketch(a, b, i)}{"v":${i}}\n`, 'latin1'));
      await sleep(10);
    }
    await expectTraces(plot, started);
    expect((await storedPoints(fx.server.url, fx.apiKey, plot, 2)).map((q) => q.y)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(bp.records.filter((r) => r.event === 'legacy-token')).toHaveLength(2);
  });

  it('over TCP (the Console, port 6571): reconnects after the Yún drops the connection, nothing lost', async () => {
    const [ta, tb] = [createToken(data, 'yun'), createToken(data, 'yun')];
    const plot = await plotFor(fx.server.url, fx.apiKey, [ta, tb]);
    const [a, b] = [new PlotlyYunPlotter(ta), new PlotlyYunPlotter(tb)];
    b.timezone = 'America/Montreal';
    const sockets: Socket[] = [];
    const console6571: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => console6571.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => console6571.close(resolve)));
    cleanup.push(() => sockets.forEach((s) => s.destroy()));
    const port = (console6571.address() as { port: number }).port;
    const bp = bridge(['--serial', `tcp://127.0.0.1:${port}`]);
    await until('connected', () => sockets.length === 1);
    const started = Date.now();
    for (let i = 0; i < N / 2; i++) {
      sockets[0]!.write(Buffer.from(sketch(a, b, i), 'latin1'));
      await sleep(10);
    }
    await until('half stored', async () => (await storedPoints(fx.server.url, fx.apiKey, plot, 1)).length === N / 2, 20_000);
    // The Yún's Linux side restarts its Console: the bridge connects again.
    sockets[0]!.destroy();
    await bp.waitFor((r) => r.event === 'serial-lost');
    await until('connected again', () => sockets.length === 2, 10_000);
    for (let i = N / 2; i < N; i++) {
      sockets[1]!.write(Buffer.from(sketch(a, b, i), 'latin1'));
      await sleep(10);
    }
    await expectTraces(plot, started);
  });

  it('caps the tokens a port may open, and says which message was refused and why', async () => {
    const p = await openPtyPair(dir, 'cap');
    cleanup.push(() => p.close());
    const tokens = [createToken(data, 'yun'), createToken(data, 'yun')];
    const bp = bridge(['--serial', p.device, '--max-tokens', '1']);
    await bp.waitFor((r) => r.event === 'serial-open');
    for (const t of tokens) await p.write(Buffer.from(new PlotlyYunPlotter(t).plot(1, 2), 'latin1'));
    const refused = await bp.waitFor((r) => r.event === 'bad-line');
    expect(refused.msg).toMatch(/discarded \(Yún message refused\): token .* would be this port's token number 2, over its cap of 1/);
    // A String x is printed bare by the library: not JSON, said so.
    await p.write(Buffer.from(new PlotlyYunPlotter(tokens[0]!).plot({ string: 'Monday' }, 3), 'latin1'));
    await until('the bad message said', () => bp.records.filter((r) => r.event === 'bad-line').length === 2);
    expect(bp.records.filter((r) => r.event === 'bad-line')[1]!.msg).toMatch(/Yún message: not valid JSON/);
  });
});

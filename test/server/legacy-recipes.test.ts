/**
 * The recipes of docs/legacy-clients.md, step by step as typed there: the CLI makes the
 * credentials, the server runs on the ports the clients insist on (80, on a loopback address of
 * its own), and each client's bytes, built as its library builds them, arrive and are plotted.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ArduinoPlotly } from '../clients/arduino-plotly.js';
import { PlotlyPyStream } from '../clients/plotly-py.js';
import { cli, rawExchange, serverProcess, tempDir, type ServerProcess } from './helpers.js';

/** Port 80 on an address no other test uses (loopback is all of 127/8). */
const HOST = '127.0.0.2';
let running: ServerProcess | undefined;
const data = tempDir('plotwire-recipes-');
afterEach(async () => {
  await running?.stop();
  running = undefined;
});
afterAll(() => data.remove());

const plotwire = (...args: string[]): Record<string, unknown> =>
  JSON.parse(execFileSync(process.execPath, [cli, ...args, '--data', data.dir, '--json'], { encoding: 'utf8' })) as Record<string, unknown>;

function raw(port: number, parts: (string | number)[]): ReturnType<typeof rawExchange> {
  return rawExchange(port, parts, { host: HOST });
}

async function figure(port: number, user: string, key: string, fileId: string): Promise<{ data: { x: unknown[]; y: unknown[] }[] }> {
  const res = await fetch(`http://${HOST}:${port}/apigetfile/${user}/${fileId}`, { headers: { 'plotly-username': user, 'plotly-apikey': key } });
  return ((await res.json()) as { payload: { figure: { data: { x: unknown[]; y: unknown[] }[] } } }).payload.figure;
}

describe('docs/legacy-clients.md', () => {
  it('Arduino: Plotly-format credentials, the server on port 80 known as plot.ly, the library unchanged', async () => {
    const { apiKey } = plotwire('user', 'add', 'maker', '--plotly-format') as { apiKey: string };
    const tokens = [plotwire('token', 'create', '--user', 'maker', '--plotly-format').token, plotwire('token', 'create', '--user', 'maker', '--plotly-format').token] as string[];
    expect([apiKey, ...tokens].every((s) => /^[a-z0-9]{10}$/.test(s))).toBe(true);
    running = await serverProcess(data.dir, ['--host', HOST, '--port', '80', '--public-url', 'http://plot.ly']);
    const lib = new ArduinoPlotly({ username: 'maker', apiKey, tokens, filename: 'greenhouse' });
    const seen = lib.scan((await raw(80, [lib.init()])).body);
    expect(seen).toMatchObject({ proceed: true, printed: `https://plot.ly/~maker/${seen.fid}` });
    const res = await raw(80, [lib.openStream(), lib.plotInt(1000, 21, tokens[0] as string), lib.plotFloat(1010, 55.5, tokens[1] as string), lib.closeStream()]);
    expect(res.json).toMatchObject({ status: 200, points: 2 });
    const fig = await figure(80, 'maker', apiKey, seen.fid as string);
    expect(fig.data.map((t) => t.y)).toEqual([[21], [55.5]]);
  });

  it('plotly.py 1.x: /clientresp at plotly_domain, streams on --stream-port 80', async () => {
    const { apiKey } = plotwire('user', 'add', 'pyuser') as { apiKey: string };
    const token = plotwire('token', 'create', '--user', 'pyuser').token as string;
    running = await serverProcess(data.dir, ['--host', HOST, '--port', '8080', '--stream-port', '80']);
    // py.plot(...) as plotly.py 1.x posts it (URL-encoded form) to plotly_domain/clientresp.
    const form = new URLSearchParams({
      un: 'pyuser',
      key: apiKey,
      origin: 'plot',
      platform: 'python',
      version: '1.12.9',
      args: JSON.stringify([{ x: [], y: [], type: 'scatter', stream: { token, maxpoints: 100 } }]),
      kwargs: JSON.stringify({ filename: 'from python', fileopt: 'overwrite', world_readable: true }),
    });
    const made = (await (await fetch(`http://${HOST}:8080/clientresp`, { method: 'POST', body: form })).json()) as { url: string; 'stream-status': string };
    expect(made['stream-status']).toBe('All Streams Go!');
    const stream = new PlotlyPyStream(token, HOST);
    const res = await raw(80, [stream.open(), stream.write({ x: 1, y: 10 }), stream.write(null), stream.write({ x: 2, y: NaN, name: 'first' }), stream.close()]);
    expect(res.json).toMatchObject({ status: 200, points: 2, gaps: 1, ignored_keys: { name: 1 } });
    const fig = await figure(8080, 'pyuser', apiKey, made.url.split('/').pop() as string);
    expect(fig.data[0]).toMatchObject({ x: [1, 2], y: [10, null] });
  });

  it('plain curl: lines on standard input, streamed as they come', async () => {
    const token = plotwire('token', 'create', '--user', 'pyuser').token as string;
    running = await serverProcess(data.dir, ['--host', HOST, '--port', '8080']);
    const input = '{"x": 1, "y": 2}\n{"x": 2, "y": 3}\n';
    const run = spawnSync('curl', ['-sS', '-N', '-X', 'POST', '-T', '-', '-H', `plotly-streamtoken: ${token}`, `http://${HOST}:8080/`], { input, encoding: 'utf8', timeout: 15_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 200, points: 2, next: 2 });
    const state = await fetch(`http://${HOST}:8080/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } });
    expect(await state.json()).toMatchObject({ next: 2 });
  });
});

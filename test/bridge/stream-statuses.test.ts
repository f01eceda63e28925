/**
 * StreamClient against the real server (its CLI, a separate process): what it does on each
 * status and failure. 404, 403 (revoked) and 406 stop the token and say why; 408 after the idle
 * timeout and 503 reconnect and resume; connection refused buffers and delivers once the server
 * is up; the heartbeat keeps a quiet stream open; close() flushes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../bridge/log.js';
import { StreamClient, type StreamClientOptions } from '../../bridge/stream-client.js';
import { addUser, createToken, createTokenWithId, startServerProcess, streamNext, type ServerProcess } from './helpers/server-process.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-status-'));
const servers: ServerProcess[] = [];
const clients: StreamClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(500)));
});
afterAll(() => {
  for (const s of servers) s.child.kill('SIGKILL');
});

async function server(name: string, extra: string[] = []): Promise<{ s: ServerProcess; data: string }> {
  const data = join(dir, name);
  const s = await startServerProcess(data, extra);
  servers.push(s);
  addUser(data, 'alice');
  return { s, data };
}

function client(options: StreamClientOptions): { c: StreamClient; logs: LogRecord[] } {
  const c = new StreamClient({ minBackoffMs: 50, maxBackoffMs: 300, ackIntervalMs: 200, ...options });
  const logs: LogRecord[] = [];
  c.on('log', (r) => logs.push(r));
  clients.push(c);
  return { c, logs };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('StreamClient and the real server', () => {
  it('404: an unknown token stops, says why, and drops what it held (counted)', async () => {
    const { s } = await server('s404');
    const { c, logs } = client({ server: s.url, token: 'no-such-token' });
    const stopped = new Promise<{ status: number | undefined; reason: string }>((resolve) => c.once('stopped', resolve));
    c.push(1, 1);
    c.start();
    const why = await stopped;
    expect(why.status).toBe(404);
    expect(why.reason).toMatch(/refused token no-such-token with 404 Not Found: this stream token is not registered/);
    expect(c.state).toBe('stopped');
    c.push(2, 2);
    await sleep(300);
    expect(c.stats).toMatchObject({ dropped: 2, reconnects: 0, lastStatus: 404 });
    expect(logs.filter((r) => r.event === 'connected')).toHaveLength(0);
  });

  it('406: a proxy that drops the plotly-streamtoken header stops the token and says so', async () => {
    const { s, data } = await server('s406');
    const token = createToken(data, 'alice');
    // A middlebox that strips unknown headers, as some proxies do.
    const stripping: Dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
      const headers = { ...(opts.headers as Record<string, string>) };
      delete headers['plotly-streamtoken'];
      return dispatch({ ...opts, headers }, handler);
    });
    const { c } = client({ server: s.url, token, dispatcher: stripping });
    const stopped = new Promise<{ status: number | undefined; reason: string }>((resolve) => c.once('stopped', resolve));
    c.start();
    const why = await stopped;
    expect(why.status).toBe(406);
    expect(why.reason).toMatch(/406 Not Acceptable: missing header 'plotly-streamtoken'/);
  });

  it('403: a token revoked while it streams stops, and says why', async () => {
    const { s, data } = await server('s403');
    const apiKey = addUser(data, 'bob');
    const { token, id } = createTokenWithId(data, 'bob');
    const { c } = client({ server: s.url, token });
    const stopped = new Promise<{ status: number | undefined; reason: string }>((resolve) => c.once('stopped', resolve));
    c.start();
    c.push(1, 1);
    await until('stored', async () => (await streamNext(s.url, token)) === 1);
    const res = await fetch(new URL(`/api/v1/tokens/${id}`, s.url), { method: 'DELETE', headers: { authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBeLessThan(300);
    const why = await stopped;
    expect(why.status).toBe(403);
    expect(why.reason).toMatch(/403 Forbidden: this stream token was revoked; stopped/);
  });

  it('408: a stream quieter than the idle timeout is ended and comes back; a heartbeat keeps it open', async () => {
    const { s, data } = await server('s408', ['--idle-timeout', '600']);
    const quiet = client({ server: s.url, token: createToken(data, 'alice'), heartbeatMs: 5_000 });
    const beating = client({ server: s.url, token: createToken(data, 'alice'), heartbeatMs: 100 });
    quiet.c.start();
    beating.c.start();
    await until('a 408', () => quiet.logs.some((r) => r.event === 'status' && r.status === 408));
    expect(quiet.logs.find((r) => r.status === 408)?.message).toMatch(/408 Request Timeout: no data or heartbeat for 600 ms; reconnecting/);
    await until('reconnected', () => quiet.c.stats.reconnects >= 1 && quiet.c.state === 'streaming');
    quiet.c.push(1, 42);
    await until('point stored after the 408', async () => (await streamNext(s.url, quiet.c.token)) === 1);
    await sleep(1_200);
    expect(beating.c.stats).toMatchObject({ reconnects: 0, errors: 0, state: 'streaming' });
    expect(beating.c.stats.heartbeats).toBeGreaterThanOrEqual(5);
  });

  it('connection refused: buffers, backs off, and delivers everything once the server is up', async () => {
    const { s, data } = await server('srefused');
    const token = createToken(data, 'alice');
    await s.kill9();
    const { c, logs } = client({ server: s.url, token });
    c.start();
    for (let i = 0; i < 500; i++) c.push(i, i);
    await until('refusals', () => logs.filter((r) => r.event === 'disconnected').length >= 3);
    expect(logs.find((r) => r.event === 'disconnected')?.message).toMatch(/connection refused \(is the server running\?\)/);
    expect(c.stats.buffered).toBe(500);
    await s.restart();
    await until('all stored', async () => (await streamNext(s.url, token)) === 500);
    await until('acknowledged', () => c.stats.buffered === 0);
    expect(c.stats).toMatchObject({ stored: 500, dropped: 0 });
  });

  it('503 while the server stops: reconnects and resumes without loss or doubles', async () => {
    const { s, data } = await server('s503');
    const token = createToken(data, 'alice');
    const { c, logs } = client({ server: s.url, token });
    c.start();
    for (let i = 0; i < 100; i++) c.push(i, i);
    await until('first 100 stored', async () => (await streamNext(s.url, token)) === 100);
    s.terminate();
    await until('503', () => logs.some((r) => r.status === 503));
    expect(logs.find((r) => r.status === 503)?.message).toMatch(/503 Service Unavailable: the server is stopping; reconnecting/);
    await s.stop();
    for (let i = 100; i < 200; i++) c.push(i, i);
    await s.restart();
    await until('all 200 stored', async () => (await streamNext(s.url, token)) === 200);
    await until('acknowledged', () => c.stats.buffered === 0);
    expect(c.stats).toMatchObject({ stored: 200, dropped: 0, state: 'streaming' });
  });

  it('memory budget: while the server is away the oldest points are dropped and counted', async () => {
    const { s, data } = await server('sbudget');
    const token = createToken(data, 'alice');
    await s.kill9();
    const { c, logs } = client({ server: s.url, token, bufferBytes: 16 * 100 });
    c.start();
    for (let i = 0; i < 250; i++) c.push(i, i);
    expect(c.stats).toMatchObject({ buffered: 100, dropped: 150 });
    expect(logs.some((r) => r.event === 'buffer-full')).toBe(true);
    await s.restart();
    await until('the newest 100 stored', async () => (await streamNext(s.url, token)) === 100);
  });

  it('close() flushes what is buffered and ends the stream cleanly', async () => {
    const { s, data } = await server('sclose');
    const token = createToken(data, 'alice');
    const { c } = client({ server: s.url, token, windowMs: 50 });
    c.start();
    await until('streaming', () => c.state === 'streaming');
    for (let i = 0; i < 30_000; i++) c.push(i, i);
    const final = await c.close(10_000);
    expect(final).toMatchObject({ state: 'closed', stored: 30_000, buffered: 0 });
    expect(await streamNext(s.url, token)).toBe(30_000);
    // At most one object per 50 ms window: 30,000 points fit in 3 batches of MAX_BATCH_POINTS.
    expect(final.objects).toBe(3);
  });
});

/**
 * StreamClient against the real server (its CLI, a separate process): what it does on each
 * status and failure. 404, 403 (revoked) and 406 stop the token and say why; 408 after the idle
 * timeout, 503 and 423 reconnect (with backoff) and resume; a connection reset mid-body (what
 * the server logs as 520) resumes without loss or doubles; connection refused buffers and
 * delivers once the server is up; the heartbeat keeps a quiet stream open; close() flushes.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sleep, until } from '../helpers/wait.js';
import type { LogRecord } from '../../shared/log.js';
import { StreamClient, type StreamClientOptions } from '../../bridge/stream-client.js';
import { api, createPlot, testServer } from '../server/helpers.js';
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
    // Stopped for good: its loop has ended, so nothing more can connect.
    await c.close(100);
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
    // Heartbeats every 100 ms for twice the idle timeout: a stream that only beats stays open.
    await until('1.2 s of heartbeats', () => beating.c.stats.heartbeats >= 12);
    expect(beating.c.stats).toMatchObject({ reconnects: 0, errors: 0, state: 'streaming' });
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

  it('legacy mode while the server is away: bounded memory, the rest counted as dropped', async () => {
    const { s, data } = await server('slegacy');
    const token = createToken(data, 'alice');
    await s.kill9();
    const { c } = client({ server: s.url, token, decimate: 'last' });
    c.start();
    for (let i = 0; i < 100_000; i++) c.push(i, i);
    // A window of points filling up and two decimated objects, not 100,000 points.
    expect(c.stats.buffered).toBeLessThanOrEqual(1024 + 2);
    expect(c.stats.buffered + c.stats.dropped).toBe(100_000);
    await s.restart();
    await until('the backlog sent', () => c.stats.written >= 2 && c.stats.buffered === 0);
    expect(c.stats.dropped + c.stats.written).toBe(100_000);
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

  it('423: past the connection limit it backs off and keeps its points; it never stops', async () => {
    // Streams end quickly (idle 300 ms, no heartbeat in time), so the client reconnects until the
    // server's limit of 2 connections a minute answers 423.
    const t = await testServer({ connectsPerMinute: 2, idleTimeoutMs: 300 });
    try {
      const token = t.newToken();
      const { c, logs } = client({ server: t.server.url, token, heartbeatMs: 5_000, minBackoffMs: 20, maxBackoffMs: 200 });
      c.start();
      c.push(1, 1);
      await until('two 423s', () => logs.filter((r) => r.status === 423).length >= 2);
      const locked = logs.find((r) => r.status === 423);
      expect(locked?.message).toMatch(/423 Locked: more than 2 connections a minute for this token; reconnecting/);
      // Each failure counts as one more attempt, and waits within the backoff's bounds.
      const backoffs = logs.filter((r) => r.event === 'backoff');
      const attempts = backoffs.map((r) => r.attempt as number);
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts).toEqual(attempts.map((_, i) => (attempts[0] as number) + i));
      for (const r of backoffs) {
        expect(r.delayMs).toBeGreaterThanOrEqual(10);
        expect(r.delayMs).toBeLessThanOrEqual(200);
      }
      c.push(2, 2);
      expect(c.state).not.toBe('stopped');
      expect(c.stats).toMatchObject({ dropped: 0, stored: 1, buffered: 1 });
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close(500)));
      await t.close();
    }
  });

  it('a connection reset mid-body (the server ends such a stream with 520): reconnects and resumes without loss or doubles', async () => {
    const { s, data } = await server('s520');
    const token = createToken(data, 'alice');
    const upstream = new URL(s.url);
    // A proxy that cuts the first connection carrying a stream after 3000 of its bytes.
    let cut = false;
    const sockets: Socket[] = [];
    const proxy = createServer((down) => {
      const up = connect(Number(upstream.port), upstream.hostname);
      sockets.push(down, up);
      let sent = 0;
      down.on('data', (chunk: Buffer) => {
        const isStream = chunk.toString('latin1', 0, 6) === 'POST /' || sent > 0;
        if (isStream && !cut && (sent += chunk.length) > 3000) {
          cut = true;
          down.resetAndDestroy();
          up.resetAndDestroy();
          return;
        }
        up.write(chunk);
      });
      up.pipe(down);
      down.on('error', () => up.destroy());
      up.on('error', () => down.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const { c, logs } = client({ server: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, token, windowMs: 20 });
      c.start();
      for (let i = 0; i < 2000; i++) {
        c.push(i, i);
        if (i % 100 === 99) await sleep(25);
      }
      await until('all 2000 stored', async () => (await streamNext(s.url, token)) === 2000);
      await until('acknowledged', () => c.stats.buffered === 0);
      expect(cut).toBe(true);
      expect(logs.some((r) => r.event === 'disconnected' && /connection lost|other side closed|ECONNRESET/.test(r.message))).toBe(true);
      expect(c.stats).toMatchObject({ stored: 2000, dropped: 0, state: 'streaming' });
      expect(c.stats.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close(500)));
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('a new writer taking a token over numbers its points after the old writer\'s last ones: none taken for theirs', async () => {
    const t = await testServer();
    // Stream requests reach the server 300 ms late; state queries at once. In those 300 ms the
    // old writer still lands points after the new one first asked the server's count.
    const upstream = new URL(t.server.url);
    const sockets: Socket[] = [];
    const proxy = createServer((down) => {
      sockets.push(down);
      down.once('data', (first: Buffer) => {
        down.pause();
        setTimeout(() => {
          const up = connect(Number(upstream.port), upstream.hostname, () => {
            up.write(first);
            down.pipe(up).pipe(down);
            down.resume();
          });
          sockets.push(up);
          up.on('error', () => down.destroy());
          down.on('error', () => up.destroy());
        }, first.toString('latin1', 0, 6) === 'POST /' ? 300 : 0);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const token = t.newToken();
      const plot = await createPlot(t, [token], {}, 10_000);
      const old = client({ server: t.server.url, token });
      old.c.start();
      let o = 0;
      const oldWriter = setInterval(() => {
        for (let k = 0; k < 5; k++) old.c.push(o, 1_000_000 + o++);
      }, 5);
      await until('the old writer streams', async () => (await fetch(`${t.server.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } }).then((r) => r.json() as Promise<{ next: number }>)).next > 100);
      const fresh = client({ server: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, token });
      for (let i = 0; i < 500; i++) fresh.c.push(i, i);
      fresh.c.start();
      await until('the takeover', () => old.c.state === 'stopped');
      clearInterval(oldWriter);
      await until('the new writer stored all', () => fresh.c.stats.stored === 500 && fresh.c.stats.buffered === 0);
      const ys = ((await api(t, 'GET', `/api/v1/plots/${plot.id as number}`)).json.figure as { data: { y: number[] }[] }).data[0]!.y;
      expect(ys.filter((y) => y < 1_000_000)).toEqual(Array.from({ length: 500 }, (_, i) => i));
      // The old writer's points are all there too, once each, before the new writer's.
      const olds = ys.filter((y) => y >= 1_000_000);
      expect(new Set(olds).size).toBe(olds.length);
      expect(ys.indexOf(0)).toBe(olds.length);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close(500)));
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => proxy.close(r));
      await t.close();
    }
  });
});

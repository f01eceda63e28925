/**
 * The server under a careless or hostile client: each attack provoked over real sockets, its
 * bound or its status asserted, while a canary plot (a writer at 20 objects/s and a viewer) must
 * get every point through. bench/server-abuse.ts measures the same attacks (RSS, descriptors,
 * the canary's latency) against an idle baseline.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import type { ServerOptions } from '../../server/index.js';
import { sleep, until } from '../helpers/wait.js';
import { Canary } from './canary.js';
import { safeNext } from '../../server/http/web.js';
import { api, chunk, createPlot, rawExchange, streamHead, tempDir, withTestServer, type TestServer } from './helpers.js';

/** A server with a log the test can read, and the canary running for the whole body. */
async function underAttack(options: Partial<ServerOptions>, body: (t: TestServer, logs: Record<string, unknown>[]) => Promise<void>): Promise<void> {
  await withLogs(options, async (t, logs) => {
    const canary = await Canary.start(t.server.url, t.apiKey);
    await until('the canary flows', () => canary.count > 2);
    await body(t, logs);
    const report = await canary.stop();
    // Latency is the benchmark's to measure (npm run bench -- server-abuse); here: nothing lost.
    expect(report, 'the canary lost points during the attack').toMatchObject({ lost: 0, status: 200 });
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });
}

/** A server whose log (JSON records) the test can read. */
async function withLogs(options: Partial<ServerOptions>, body: (t: TestServer, logs: Record<string, unknown>[]) => Promise<void>): Promise<void> {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ json: true, write: (_level, line) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  await withTestServer({ ...options, log }, (t) => body(t, logs));
}

/** Opens a socket (from a given loopback address) and resolves once connected. */
function open(port: number, localAddress = '127.0.0.1'): Promise<Socket & { received: () => string; gone: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', () => undefined);
    const gone = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve(Object.assign(socket, { received: () => text, gone })));
    socket.once('error', reject);
  });
}

const bigText = (bytes: number): string => 'a'.repeat(bytes);

describe('memory: every point held is bounded', () => {
  it("one token's recent points are bounded by its traces' maxpoints and by bytes; its disk by --retention-mib", async () => {
    await underAttack({ retentionMiB: 2 }, async (t) => {
      const token = t.newToken();
      await createPlot(t, [token], {}, 10);
      // 40 lines of 20 points with 50 KB of text each (the issue's attack, shortened): 40 MB sent.
      const text = bigText(50_000);
      const line = `${JSON.stringify({ append: { y: Array.from({ length: 20 }, (_, i) => i), text: Array.from({ length: 20 }, () => text) } })}\n`;
      const res = await rawExchange(t.port, [streamHead(token), ...Array.from({ length: 40 }, () => chunk(line)), '0\r\n\r\n']);
      expect(res.json).toMatchObject({ status: 200, points: 800 });
      const id = t.server.core.accounts.tokenBySecret(token)?.id as number;
      // 10 points of 100 KB (2 bytes a character, estimated from above) and nothing else of this token.
      expect(t.server.core.store.memory.bytes).toBeLessThan(10 * 101_000 + 200_000);
      expect(t.server.core.store.tail(id, 10_000).y).toHaveLength(10);
      const stored = t.server.core.db.prepare('SELECT sum(size) AS bytes, sum(count) AS points FROM chunks WHERE token_id = ?').get(id) as { bytes: number; points: number };
      // Retention in bytes: at most 2 MiB plus the slack before a trim (1 MiB) and one chunk.
      expect(stored.bytes).toBeLessThan(4.2 * 1024 * 1024);
      expect(stored.points).toBeLessThan(800);
    });
  });

  it("one token's recent points are bounded by bytes when its traces could show more", async () => {
    await underAttack({ tokenMemoryKiB: 256 }, async (t) => {
      const token = t.newToken();
      await createPlot(t, [token], {}, 10_000);
      const text = bigText(10_000);
      const line = `${JSON.stringify({ append: { y: Array.from({ length: 50 }, (_, i) => i), text: Array.from({ length: 50 }, () => text) } })}\n`;
      expect((await rawExchange(t.port, [streamHead(token), chunk(line), chunk(line), '0\r\n\r\n'])).json).toMatchObject({ points: 100 });
      const id = t.server.core.accounts.tokenBySecret(token)?.id as number;
      // 20 KB a point (estimated): 256 KiB holds 13 of the 100.
      const kept = t.server.core.store.tail(id, 10_000).y as number[];
      expect(kept.length).toBeGreaterThan(5);
      expect(kept.length).toBeLessThan(20);
      expect(kept.at(-1)).toBe(49);
      expect(t.server.core.store.memory.bytes).toBeLessThanOrEqual(256 * 1024 + 20_100);
    });
  });

  it('all tokens together stay within --memory-mib: the least recently used are dropped and read back when needed', async () => {
    await underAttack({ memoryMiB: 2 }, async (t) => {
      const tokens = Array.from({ length: 8 }, () => t.newToken());
      const plots = [];
      for (const token of tokens) plots.push(await createPlot(t, [token], {}, 10_000));
      const text = bigText(200);
      for (const token of tokens) {
        const lines = Array.from({ length: 4 }, (_, b) => `${JSON.stringify({ append: { y: Array.from({ length: 500 }, (_, i) => b * 500 + i), text: Array.from({ length: 500 }, () => text) } })}\n`);
        expect((await rawExchange(t.port, [streamHead(token), ...lines.map(chunk), '0\r\n\r\n'])).status).toBe(200);
      }
      // Each token holds about 1 MB of recent points: 8 MB in all, four times the budget.
      const memory = t.server.core.store.memory;
      expect(memory.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
      expect(memory.tokens).toBeLessThan(8);
      // The first token was dropped from memory; its figure is read back whole from disk.
      const fig = (await api(t, 'GET', `/api/v1/plots/${plots[0]?.id}`)).json.figure as { data: { y: number[] }[] };
      expect(fig.data[0]?.y).toHaveLength(2000);
      expect(fig.data[0]?.y.at(-1)).toBe(1999);
      expect(t.server.core.store.memory.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    });
  });

  it("a trace's larger maxpoints is served from disk at once", async () => {
    await withTestServer({}, async (t) => {
      const token = t.newToken();
      const plot = await createPlot(t, [token], {}, 10);
      const line = `${JSON.stringify({ append: { y: Array.from({ length: 100 }, (_, i) => i) } })}\n`;
      await rawExchange(t.port, [streamHead(token), chunk(line), '0\r\n\r\n']);
      expect(((await api(t, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { data: { y: number[] }[] }).data[0]?.y).toHaveLength(10);
      await api(t, 'PATCH', `/api/v1/plots/${plot.id}`, { traces: [{ token, maxpoints: 100 }] });
      expect(((await api(t, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { data: { y: number[] }[] }).data[0]?.y).toHaveLength(100);
    });
  });
});

describe('deadlines: every byte a client can withhold', () => {
  const fast = { headTimeoutMs: 300, bodyTimeoutMs: 300, keepAliveMs: 300 };

  it('a silent connection, and one that stops before the dispatcher can tell, are answered 408 and closed', async () => {
    await underAttack(fast, async (t) => {
      const silent = await open(t.port);
      const partial = await open(t.port);
      partial.write('POS');
      await Promise.all([silent.gone, partial.gone]);
      expect(silent.received()).toMatch(/^HTTP\/1\.1 408/);
      expect(partial.received()).toMatch(/^HTTP\/1\.1 408/);
    });
  });

  it('a web request head trickled a byte at a time is cut at the head deadline', async () => {
    await underAttack(fast, async (t) => {
      const trickle = await open(t.port);
      const started = Date.now();
      trickle.write('GET /api/v1/health HTTP/1.1\r\n');
      const drip = setInterval(() => trickle.write('X'), 50);
      await trickle.gone;
      clearInterval(drip);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(trickle.received()).toMatch(/^HTTP\/1\.1 408/);
    });
  });

  it('the body of an API request must arrive within its deadline', async () => {
    await underAttack(fast, async (t) => {
      const slow = await open(t.port);
      slow.write(`POST /api/v1/plots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"traces":`);
      await slow.gone;
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
      expect(slow.received()).toContain('did not arrive within 300 ms');
    });
  });

  it('a kept-alive connection idle past the keep-alive time is closed; a stream on it is not cut by the body deadline', async () => {
    await underAttack(fast, async (t) => {
      const idle = await open(t.port);
      idle.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
      await idle.gone;
      expect(idle.received()).toMatch(/^HTTP\/1\.1 200/);

      const token = t.newToken();
      const kept = await open(t.port);
      kept.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
      await until('the first answer', () => kept.received().includes('"ok":true'));
      kept.write(streamHead(token));
      for (let i = 0; i < 6; i++) {
        kept.write(chunk(`{"x":${i},"y":${i}}\n`));
        await sleep(100);
      }
      kept.write('0\r\n\r\n');
      await kept.gone;
      expect(kept.received()).toContain('"points":6');
    });
  });
});

describe('connection limits: refused with 503 and Retry-After, never by running out of descriptors', () => {
  it('per client address and in total', async () => {
    await underAttack({ maxConnectionsPerAddress: 10, maxConnections: 20 }, async (t) => {
      // The canary holds two connections from 127.0.0.1, and fetch keeps one for the API.
      const fromTwo = await Promise.all(Array.from({ length: 12 }, () => open(t.port, '127.0.0.2')));
      const refused = await until('two refusals', () => {
        const r = fromTwo.filter((s) => s.received().startsWith('HTTP/1.1 503'));
        return r.length >= 2 && r;
      });
      expect(refused).toHaveLength(2);
      const answer = refused[0]?.received() ?? '';
      expect(answer).toMatch(/retry-after: \d+/i);
      expect(answer).toContain('--max-connections-per-address');
      const fromThree = await Promise.all(Array.from({ length: 10 }, () => open(t.port, '127.0.0.3')));
      const overTotal = await until('a refusal for the total', () => {
        const r = fromThree.filter((s) => s.received().startsWith('HTTP/1.1 503'));
        return r.length > 0 && r;
      });
      expect(overTotal[0]?.received()).toContain('--max-connections 20');
      for (const s of [...fromTwo, ...fromThree]) s.destroy();
    });
  });
});

describe('authentication before the body', () => {
  it('an API request with a wrong key is answered 401 at once, without reading its body, and the connection closes', async () => {
    await underAttack({}, async (t) => {
      const sock = await open(t.port);
      sock.write('POST /api/v1/plots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Type: application/json\r\nContent-Length: 8000000\r\n\r\n');
      await sock.gone;
      expect(sock.received()).toMatch(/^HTTP\/1\.1 401/);
      expect(sock.received()).toMatch(/connection: close/i);
    });
  });
});

describe("Plotly's /clientresp: credentials before the body", () => {
  const form = (fields: [string, string][]): string => fields.map(([k, v]) => `${k}=${v}`).join('&');

  it('a wrong un/key at the start of the form ends the request there, the rest of its 8 MB unread', async () => {
    await underAttack({}, async (t) => {
      const sock = await open(t.port);
      const start = form([['version', '2.3'], ['origin', 'plot'], ['platform', 'arduino'], ['un', 'alice'], ['key', 'wrong'], ['args', '[']]);
      sock.write(`POST /clientresp HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8000000\r\n\r\n${start}`);
      await sock.gone;
      expect(sock.received()).toMatch(/^HTTP\/1\.1 200/);
      expect(sock.received()).toContain('is not valid');
    });
  });

  it('wrong credentials in plotly-username/plotly-apikey headers are refused before any of the body', async () => {
    await underAttack({}, async (t) => {
      const sock = await open(t.port);
      sock.write('POST /clientresp HTTP/1.1\r\nHost: x\r\nplotly-username: alice\r\nplotly-apikey: wrong\r\nContent-Length: 8000000\r\n\r\nargs=[');
      await sock.gone;
      expect(sock.received()).toContain('is not valid');
    });
  });

  it('args before un and key (the npm client and plotly.py order): at most 1 MiB is held unauthenticated, and 16 MiB for all such forms', async () => {
    await underAttack({}, async (t) => {
      const head = (length: number) => `POST /clientresp HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n`;
      const big = await open(t.port);
      big.write(`${head(3_000_000)}platform=nodejs&args=[{"y":[${'1,'.repeat(600_000)}`);
      await big.gone;
      expect(big.received()).toMatch(/^HTTP\/1\.1 413/);
      expect(big.received()).toContain('before its un and key');
      // Many forms held just under the per-request bound: past 16 MiB in all, the next is refused with 503.
      const held = await Promise.all(Array.from({ length: 20 }, () => open(t.port)));
      for (const h of held) h.write(`${head(2_000_000)}platform=nodejs&args=[{"y":[${'1,'.repeat(450_000)}`);
      const refused = await until('a form refused for the server-wide bound', () => held.find((h) => h.received().startsWith('HTTP/1.1 503')));
      expect(refused.received()).toMatch(/retry-after: \d/i);
      for (const h of held) h.destroy();
      // The right credentials after the args still work.
      const ok = await fetch(`${t.server.url}/clientresp`, {
        method: 'POST',
        body: form([['platform', 'nodejs'], ['args', '[{"y":[1,2]}]'], ['kwargs', '{"filename":"late credentials"}'], ['un', 'alice'], ['key', t.apiKey], ['origin', 'plot']]),
      });
      expect(((await ok.json()) as { error: string; url: string }).url).toContain('/~alice/');
    });
  });

  it("fileopt=extend on a streamed trace never moves its token's sequence: a resuming writer loses nothing", async () => {
    await underAttack({}, async (t) => {
      const token = t.newToken();
      await createPlot(t, [token], { filename: 'extended' });
      const batch = (seq: number, n: number) => chunk(`${JSON.stringify({ append: { y: Array.from({ length: n }, (_, i) => seq + i) }, seq })}\n`);
      expect((await rawExchange(t.port, [streamHead(token), batch(0, 10), '0\r\n\r\n'])).json.next).toBe(10);
      const res = await fetch(`${t.server.url}/clientresp`, {
        method: 'POST',
        body: form([['un', 'alice'], ['key', t.apiKey], ['origin', 'plot'], ['args', JSON.stringify([{ y: [100, 101, 102] }])], ['kwargs', JSON.stringify({ filename: 'extended', fileopt: 'extend' })]]),
      });
      expect(((await res.json()) as { error: string }).error).toBe('');
      const state = await api(t, 'GET', '/api/v1/streams/state', undefined, { 'plotly-streamtoken': token });
      expect(state.json.next).toBe(10);
      expect((await rawExchange(t.port, [streamHead(token), batch(10, 5), '0\r\n\r\n'])).json).toMatchObject({ points: 5, next: 15 });
      const id = t.server.core.accounts.tokenBySecret(token)?.id as number;
      expect(t.server.core.store.tail(id, 100).y).toEqual([...Array.from({ length: 10 }, (_, i) => i), 100, 101, 102, 10, 11, 12, 13, 14]);
    });
  });
});

describe('layouts are bounded', () => {
  it("a stream's layouts that would grow past MAX_LAYOUT end it with 413; the layout stays as it was, and viewers of other plots do not wait", async () => {
    await underAttack({}, async (t) => {
      const token = t.newToken();
      const plot = await createPlot(t, [token]);
      const lines = Array.from({ length: 30 }, (_, i) => `${JSON.stringify({ layout: { [`k${i}`]: bigText(50_000) } })}\n`);
      const res = await rawExchange(t.port, [streamHead(token), ...lines.map(chunk), '0\r\n\r\n']);
      expect(res.status).toBe(413);
      expect(res.json).toMatchObject({ line: 3 });
      expect(res.json.error).toContain('MAX_LAYOUT');
      const layout = ((await api(t, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { layout: Record<string, unknown> }).layout;
      expect(Object.keys(layout)).toEqual(['title', 'k0', 'k1']);
    });
  });

  it('a layout over MAX_LAYOUT is refused with 413 and one nested 5,000 deep with 400; the plot keeps its layout', async () => {
    await underAttack({}, async (t, logs) => {
      const plot = await createPlot(t, [t.newToken()]);
      const big = await api(t, 'PATCH', `/api/v1/plots/${plot.id}`, { layout: { annotations: [{ text: bigText(200_000) }] } });
      expect(big.status).toBe(413);
      expect(big.json.error).toContain('MAX_LAYOUT');
      const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
      for (const [method, path, body] of [
        ['POST', '/api/v1/plots', `{"traces":[],"layout":${deep}}`],
        ['POST', '/api/v1/plots', `{"traces":[${deep}]}`],
        ['PATCH', `/api/v1/plots/${plot.id}`, `{"layout":${deep}}`],
      ] as const) {
        const res = await api(t, method, path, body);
        expect(res.status, `${method} ${path}`).toBe(400);
        expect(res.json.error).toContain('nested deeper');
      }
      expect(((await api(t, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { layout: unknown }).layout).toEqual({ title: { text: 'test plot' } });
      expect(logs.filter((l) => l.event === 'request-failed')).toEqual([]);
    });
  });
});

describe('client mistakes are 4xx with the reason, never a 500 or a stack trace in the log', () => {
  it('a malformed percent-encoding in the path', async () => {
    await underAttack({}, async (t, logs) => {
      const res = await fetch(`${t.server.url}/apigetfile/%ZZ/1`, { headers: { 'plotly-username': 'alice', 'plotly-apikey': t.apiKey } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain('percent-encoding');
      expect(logs.filter((l) => l.event === 'request-failed')).toEqual([]);
    });
  });

  it('a request aborted mid-body is one line in the log, without a stack', async () => {
    await underAttack({}, async (t, logs) => {
      const sock = await open(t.port);
      sock.write(`POST /api/v1/plots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"traces":[`);
      // Paced like a client that gives up: part of the body, then it is gone.
      await sleep(100);
      sock.destroy();
      const line = await until('the log line', () => logs.find((l) => l.event === 'request-aborted'));
      expect(String(line.msg)).not.toContain('\n');
      expect(logs.filter((l) => l.event === 'request-failed')).toEqual([]);
    });
  });
});

describe('durability: nothing acknowledged that is not stored', () => {
  it('a full database: the writer gets 503 with the reason, viewers saw only what is stored, the log says so loudly, and the server recovers by itself', async () => {
    // No canary here: a full database refuses every writer alike, which is the point.
    await withLogs({ maxDatabaseMiB: 2 }, async (t, logs) => {
      const token = t.newToken();
      await createPlot(t, [token]);
      const batch = `{"append":{"y":[${Array.from({ length: 5000 }, (_, i) => i).join(',')}]}}\n`;
      const res = await rawExchange(t.port, [streamHead(token), ...Array.from({ length: 120 }, () => [chunk(batch), 5]).flat(), '0\r\n\r\n']);
      expect(res.status).toBe(503);
      expect(res.json.error).toContain('database');
      const id = t.server.core.accounts.tokenBySecret(token)?.id as number;
      const stored = (t.server.core.db.prepare('SELECT coalesce(sum(count), 0) AS n FROM chunks WHERE token_id = ?').get(id) as { n: number }).n;
      // What the writer is told is stored is exactly what is on disk, and what the viewers have.
      expect(res.json.next).toBe(stored);
      expect(t.server.core.store.endIndex(id)).toBe(stored);
      expect(logs.find((l) => l.event === 'store-failed')).toMatchObject({ level: 'error' });
      // A layout edit meanwhile is refused the same way, and changes nothing.
      const plot = await createPlot(t, [t.newToken()]).catch(() => undefined);
      expect(plot).toBeUndefined();
      // Space returns (here: the cap is raised): the next write goes through, no restart needed.
      t.server.core.db.pragma('max_page_count = 1000000');
      // Within a second (the retry interval) writes go through again; until then they are refused without trying.
      await until('the database takes writes again', async () => (await api(t, 'POST', '/api/v1/plots', { title: 'after', traces: [] })).status === 201);
      const after = await rawExchange(t.port, [streamHead(token), chunk(`{"append":{"y":[1,2,3]},"seq":${stored}}\n`), '0\r\n\r\n']);
      expect(after.json).toMatchObject({ status: 200, next: stored + 3 });
      expect(logs.find((l) => l.event === 'store-recovered')).toBeDefined();
    });
  });
});

describe('no open doors', () => {
  it('after login, only a local path is followed, as a browser would parse it', async () => {
    for (const evil of ['/\\evil.example/x', '/\t/evil.example', '/.//evil.example', '//evil.example', 'https://evil.example/', '/\\/evil.example']) {
      expect(safeNext(evil), JSON.stringify(evil)).toBe('/');
    }
    expect(safeNext('/~alice/1?share_key=k#top')).toBe('/~alice/1?share_key=k#top');
    await underAttack({}, async (t) => {
      for (const next of ['/%5Cevil.example/x', '/%09/evil.example']) {
        const res = await fetch(`${t.server.url}/login?next=${next}`, { method: 'POST', body: new URLSearchParams({ un: 'alice', key: t.apiKey }), redirect: 'manual' });
        expect(res.status).toBe(303);
        expect(res.headers.get('location')).toBe('/');
      }
    });
  });

  it('a form posted from another site cannot log in or out (Origin, Sec-Fetch-Site)', async () => {
    await underAttack({}, async (t) => {
      const post = (path: string, headers: Record<string, string>) =>
        fetch(`${t.server.url}${path}`, { method: 'POST', body: new URLSearchParams({ un: 'alice', key: t.apiKey }), headers, redirect: 'manual' });
      for (const path of ['/login', '/logout']) {
        expect((await post(path, { origin: 'http://evil.example' })).status).toBe(403);
        expect((await post(path, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
        expect((await post(path, { origin: new URL(t.server.url).origin })).status).toBe(303);
      }
    });
  });

  it('under TLS the session cookie is Secure and HttpOnly', async () => {
    const work = tempDir();
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-keyout', join(work.dir, 'key.pem'), '-out', join(work.dir, 'cert.pem')], { stdio: 'ignore' });
      const tls = { cert: readFileSync(join(work.dir, 'cert.pem')), key: readFileSync(join(work.dir, 'key.pem')) };
      await withTestServer({ tls }, async (t) => {
        const body = new URLSearchParams({ un: 'alice', key: t.apiKey }).toString();
        const cookie = await new Promise<string>((resolve, reject) => {
          const req = httpsRequest(`${t.server.url}/login`, { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
            res.resume();
            resolve(String(res.headers['set-cookie']));
          });
          req.on('error', reject);
          req.end(body);
        });
        expect(cookie).toMatch(/HttpOnly/);
        expect(cookie).toMatch(/; Secure/);
      });
    } finally {
      work.remove();
    }
  });
});

/** The streaming endpoint over real sockets: legacy bytes, Plotly's rules, every status code. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAM_LINE, STREAM_STATE_PATH } from '../../shared/index.js';
import { until } from '../helpers/wait.js';
import { api, chunk, createPlot, rawExchange, streamHead, testServer, withTestServer, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  // The idle limit is short for the 408 test, and long enough that a busy machine does not trip it elsewhere.
  s = await testServer({ idleTimeoutMs: 2000, connectsPerMinute: 5 });
});
afterAll(() => s.close());

const storedNext = async (token: string): Promise<unknown> => (await api(s, 'GET', STREAM_STATE_PATH, undefined, { 'plotly-streamtoken': token })).json.next;
const figureOf = async (plot: Record<string, unknown>) => (await api(s, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { data: Record<string, unknown>[]; layout: Record<string, unknown> };

describe("plotly.py's chunked client, byte for byte", () => {
  it('accepts two Host headers, identity encoding, one chunk per object, heartbeats and the \\r\\n0\\r\\n\\r\\n close', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    const head =
      'POST / HTTP/1.1\r\nHost: stream.plot.ly\r\nHost: stream.plot.ly\r\nAccept-Encoding: identity\r\n' +
      `plotly-streamtoken: ${token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    const res = await rawExchange(s.port, [
      head,
      chunk('{"x": 1, "y": 10}\n'),
      '1\r\n\n\r\n',
      chunk('{"x": 2, "y": 20}\n'),
      '1\r\n\n\r\n',
      chunk('{"x": 3, "y": 30}\n'),
      '\r\n0\r\n\r\n',
    ]);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 200, points: 3 });
    const fig = await figureOf(plot);
    expect(fig.data[0]).toMatchObject({ x: [1, 2, 3], y: [10, 20, 30] });
  });

  it('takes objects split across chunks and several objects in one chunk: the newline delimits', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    const res = await rawExchange(s.port, [streamHead(token), chunk('{"x":1,'), chunk('"y":1}\n{"x":2,"y":2}\n{"x"'), chunk(':3,"y":3}\n'), '0\r\n\r\n']);
    expect(res.status).toBe(200);
    expect((await figureOf(plot)).data[0]).toMatchObject({ x: [1, 2, 3], y: [1, 2, 3] });
  });
});

describe("Plotly's rules", () => {
  it('scalars append, arrays replace, layout applies, maxpoints keeps the newest', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], {}, 3);
    const lines = ['{"x":[1,2],"y":[5,6]}', '{"x":3,"y":7}', '{"x":4,"y":8,"text":"four"}', '{"layout":{"title":{"text":"live title"}}}', '{"x":5,"y":9}'];
    const res = await rawExchange(s.port, [streamHead(token), ...lines.map((l) => chunk(`${l}\n`)), '0\r\n\r\n']);
    expect(res.status).toBe(200);
    const fig = await figureOf(plot);
    expect(fig.data[0]).toMatchObject({ x: [3, 4, 5], y: [7, 8, 9], text: [null, 'four', null] });
    expect(fig.layout.title).toEqual({ text: 'live title' });
  });

  it('one token on several traces (subplots) shows the same data in each', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token, token]);
    await rawExchange(s.port, [streamHead(token), chunk('{"x":1,"y":2}\n'), '0\r\n\r\n']);
    const fig = await figureOf(plot);
    expect(fig.data[0]).toMatchObject({ x: [1], y: [2] });
    expect(fig.data[1]).toMatchObject({ x: [1], y: [2] });
  });

  it('date strings and marker styles stream like numbers', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    await rawExchange(s.port, [streamHead(token), chunk('{"x":"2026-11-22 10:00:00.123456","y":1,"marker":{"size":12}}\n'), '0\r\n\r\n']);
    const fig = await figureOf(plot);
    expect(fig.data[0]).toMatchObject({ x: ['2026-11-22 10:00:00.123456'], y: [1], marker: { size: [12] } });
  });

  it('a heartbeat keeps a quiet stream past the idle limit', async () => {
    const token = s.newToken();
    const res = await rawExchange(s.port, [streamHead(token), chunk('{"x":1,"y":1}\n'), 1200, '1\r\n\n\r\n', 1200, '1\r\n\n\r\n', 1200, chunk('{"x":2,"y":2}\n'), '0\r\n\r\n']);
    expect(res.status).toBe(200);
    expect(res.json.points).toBe(2);
  });
});

describe('objects real clients send, which Plotly accepted', () => {
  it('unused keys, categories, ISO dates and NaN are stored or made gaps and counted; the stream goes on', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    // As Python's json.dumps writes them (plotly.py 1.x, pandas frames with gaps).
    const objects = [
      '{"x": 1, "y": 2, "type": "scatter"}',
      '{"x": "Monday", "y": 3}',
      '{"x": "2026-12-01T10:00:00", "y": 4}',
      '{"x": 5, "y": NaN}',
      '{"x": 6, "y": Infinity, "name": "n", "type": "bar"}',
      '{"x": 7, "y": 8}',
    ];
    const res = await rawExchange(s.port, [streamHead(token), ...objects.map((o) => chunk(`${o}\n`)), '0\r\n\r\n']);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ points: 6, next: 6, ignored_keys: { type: 2, name: 1 }, gaps: 2 });
    expect((await figureOf(plot)).data[0]).toMatchObject({ x: [1, 'Monday', '2026-12-01 10:00:00', 5, 6, 7], y: [2, 3, 4, null, null, 8] });
  });

  it('a token taken over on a connection that carries several ends only that token there', async () => {
    const [a, b] = [s.newToken(), s.newToken()];
    const plot = await createPlot(s, [a, b]);
    const obj = (token: string, x: number): string => chunk(`{"x": ${x}, "y": ${x}, "streamtoken": "${token}"}\n`);
    const shared = rawExchange(s.port, [streamHead(undefined), obj(a, 1), obj(b, 1), 300, obj(a, 2), obj(b, 2), '0\r\n\r\n'], { keepOpen: true });
    await until('both tokens stored', async () => (await storedNext(a)) === 1 && (await storedNext(b)) === 1);
    // Another writer takes token a with its own header stream.
    const taker = await rawExchange(s.port, [streamHead(a), chunk('{"x": 10, "y": 10}\n'), '0\r\n\r\n']);
    expect(taker.status).toBe(200);
    const res = await shared;
    expect(res.status).toBe(200);
    expect(res.json.tokens).toEqual([
      { token: `${a.slice(0, 4)}…`, points: 1, status: 449, error: 'another connection took over this stream token', dropped: 1 },
      { token: `${b.slice(0, 4)}…`, points: 2, next: 2 },
    ]);
    const fig = await figureOf(plot);
    expect(fig.data[0]?.x).toEqual([1, 10]);
    expect(fig.data[1]?.x).toEqual([1, 2]);
  });
});

describe('status codes, each from a request that provokes it', () => {
  it('200: the writer ended its body (healthy endpoint disconnect)', async () => {
    const res = await rawExchange(s.port, [streamHead(s.newToken()), '0\r\n\r\n']);
    expect(res.status).toBe(200);
  });

  it('308: bytes after the end of the stream, in the same read as the end or a later one', async () => {
    const same = await rawExchange(s.port, [streamHead(s.newToken()), `${chunk('{"x":1,"y":1}\n')}0\r\n\r\n{"x":2,"y":2}\n`]);
    expect(same.status).toBe(308);
    expect(same.json.error).toContain('after the end of the stream');
    expect(same.json.points).toBe(1);
    // The end and what follows it in separate writes (separate reads on the server), chunked and with Content-Length.
    const later = await rawExchange(s.port, [streamHead(s.newToken()), chunk('{"x":1,"y":1}\n'), '0\r\n\r\n', 5, '{"x":2,"y":2}\n'], { keepOpen: true });
    expect(later.status).toBe(308);
    const body = '{"x":1,"y":1}\n';
    const sized = await rawExchange(
      s.port,
      [`POST / HTTP/1.1\r\nHost: x\r\nplotly-streamtoken: ${s.newToken()}\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 5, '{"x":2,"y":2}\n'],
      { keepOpen: true },
    );
    expect(sized.status).toBe(308);
    // Blank lines after the end are not data: still 200.
    expect((await rawExchange(s.port, [streamHead(s.newToken()), chunk('{"x":1,"y":1}\n'), '0\r\n\r\n', 5, '\r\n'], { keepOpen: true })).status).toBe(200);
  });

  it('400: a malformed request line', async () => {
    const res = await rawExchange(s.port, ['POST / HTTP/1.1 extra\r\n\r\n']);
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('malformed request line');
  });

  it('403: a revoked token', async () => {
    const token = s.newToken();
    const id = (await api(s, 'GET', '/api/v1/tokens')).json.tokens as { id: number }[];
    await api(s, 'DELETE', `/api/v1/tokens/${id.at(-1)?.id}`);
    const res = await rawExchange(s.port, [streamHead(token), '0\r\n\r\n']);
    expect(res.status).toBe(403);
  });

  it('403: revoking a token ends its open stream', async () => {
    const token = s.newToken();
    const tokens = (await api(s, 'GET', '/api/v1/tokens')).json.tokens as { id: number }[];
    const pending = rawExchange(s.port, [streamHead(token), chunk('{"x":1,"y":1}\n'), 100], { keepOpen: true });
    await until('the stream is open and stored its point', async () => (await storedNext(token)) === 1);
    await api(s, 'DELETE', `/api/v1/tokens/${tokens.at(-1)?.id}`);
    expect((await pending).status).toBe(403);
  });

  it('404: an unknown token', async () => {
    const res = await rawExchange(s.port, [streamHead('not-a-token'), '0\r\n\r\n']);
    expect(res.status).toBe(404);
    expect(res.json.message).toContain('not registered');
  });

  it('405: streaming with another method', async () => {
    const res = await rawExchange(s.port, [`PUT / HTTP/1.1\r\nHost: x\r\nplotly-streamtoken: ${s.newToken()}\r\nContent-Length: 0\r\n\r\n`]);
    expect(res.status).toBe(405);
  });

  it('406: no plotly-streamtoken header', async () => {
    const res = await rawExchange(s.port, [streamHead(undefined), '0\r\n\r\n']);
    expect(res.status).toBe(406);
    expect(res.json.error).toContain('plotly-streamtoken');
  });

  it('408: no byte within the idle limit, with what was stored', async () => {
    const res = await rawExchange(s.port, [streamHead(s.newToken()), chunk('{"x":1,"y":1}\n'), 4000], { keepOpen: true });
    expect(res.status).toBe(408);
    expect(res.json.points).toBe(1);
  });

  it('413: a line longer than MAX_STREAM_LINE', async () => {
    const big = `{"text":"${'a'.repeat(MAX_STREAM_LINE)}"}\n`;
    const res = await rawExchange(s.port, [streamHead(s.newToken()), chunk('{"x":1,"y":1}\n'), chunk(big), '0\r\n\r\n']);
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ line: 2, points: 1 });
  });

  it('422: bad JSON, naming the line; what came before is kept', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    const res = await rawExchange(s.port, [streamHead(token), chunk('{"x":1,"y":1}\n{"x":2,\n'), '0\r\n\r\n']);
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ line: 2, points: 1 });
    expect(res.json.error).toContain('not valid JSON');
    expect((await figureOf(plot)).data[0]).toMatchObject({ x: [1], y: [1] });
  });

  it('422: a valid JSON object that breaks a rule names the field', async () => {
    const res = await rawExchange(s.port, [streamHead(s.newToken()), chunk('{"x":1,"y":2}\n{"x":"2026-99-99 99:99:99","y":1}\n'), '0\r\n\r\n']);
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ field: 'x', line: 2, points: 1 });
    expect(res.json.rule).toContain('a real date');
  });

  it('423: too many connections for one token in a minute', async () => {
    const token = s.newToken();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await rawExchange(s.port, [streamHead(token), '0\r\n\r\n'])).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 423]);
  });

  it('449: a second connection with the same token ends the oldest', async () => {
    const token = s.newToken();
    const first = rawExchange(s.port, [streamHead(token), chunk('{"x":1,"y":1}\n'), 1000], { keepOpen: true });
    await until('the first stream is open and stored its point', async () => (await storedNext(token)) === 1);
    const second = rawExchange(s.port, [streamHead(token), chunk('{"x":2,"y":2}\n'), 100, '0\r\n\r\n']);
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(449);
    expect(a.json.error).toContain('took over');
    expect(b.status).toBe(200);
  });

  it('400: broken chunk framing in the body (as docs/protocol.md says), with what was stored', async () => {
    const res = await rawExchange(s.port, [streamHead(s.newToken()), chunk('{"x":1,"y":1}\n'), 'zz\r\n{}\r\n']);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ points: 1, next: 1 });
    expect(res.json.error).toContain('invalid chunk size');
  });
});

describe('status codes that need a server of their own', () => {
  it('503: the database is full; the writer is told, nothing it was told is stored is lost', async () => {
    await withTestServer({ maxDatabaseMiB: 1 }, async (small) => {
      const token = small.newToken();
      const batch = `{"append":{"y":[${Array.from({ length: 5000 }, (_, i) => i).join(',')}]}}\n`;
      const res = await rawExchange(small.port, [streamHead(token), ...Array.from({ length: 60 }, () => [chunk(batch), 25]).flat(), '0\r\n\r\n']);
      expect(res.status).toBe(503);
      expect(res.json.error).toContain('database');
      const state = await fetch(`${small.server.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } });
      const { next } = (await state.json()) as { next: number };
      expect(next).toBeGreaterThan(0);
    });
  });

  it('500: a server fault is reported as such and logged', async () => {
    await withTestServer({}, async (t) => {
      const token = t.newToken();
      // Closing the database under the running server is a fault it cannot recover from.
      t.server.core.db.close();
      const res = await rawExchange(t.port, [streamHead(token), chunk('{"x":1,"y":1}\n'), '0\r\n\r\n']);
      expect(res.status).toBe(500);
    });
  });
});

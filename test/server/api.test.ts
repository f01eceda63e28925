/** The JSON API, Plotly's REST calls, access to private plots, and the pages' safety. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, chunk, createPlot, rawExchange, streamHead, testServer, withTestServer, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(() => s.close());

const clientresp = async (body: string) => {
  const res = await fetch(`${s.server.url}/clientresp`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
};
const form = (fields: Record<string, unknown>, encode: boolean): string =>
  Object.entries({ un: 'alice', key: s.apiKey, origin: 'plot', platform: 'python', version: '1.0', ...fields })
    .map(([k, v]) => `${k}=${encode ? encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v)) : typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('&');
const getFile = async (url: string) => {
  const [owner, fileId] = new URL(url).pathname.slice(2).split('/');
  const res = await fetch(`${s.server.url}/apigetfile/${owner}/${fileId}`, { headers: { 'plotly-username': 'alice', 'plotly-apikey': s.apiKey } });
  return { status: res.status, json: (await res.json()) as { payload: { figure: { data: Record<string, unknown>[]; layout: Record<string, unknown> } } } };
};

describe('/api/v1', () => {
  it('refuses requests without a valid key, saying how to send one', async () => {
    const none = await fetch(`${s.server.url}/api/v1/plots`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toContain('Authorization: Bearer');
    expect((await api(s, 'GET', '/api/v1/plots', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('creates, lists, reads with data, edits and deletes plots', async () => {
    const token = s.newToken();
    const created = await api(s, 'POST', '/api/v1/plots', { title: 'crud', traces: [{ token, name: 'ecg', maxpoints: 100 }, { x: [1, 2], y: [3, 4], name: 'static' }] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ title: 'crud', owner: 'alice', world_readable: true });
    expect(created.json.url).toMatch(/\/~alice\/\d+$/);
    await rawExchange(s.port, [streamHead(token), chunk('{"x":1,"y":2}\n'), '0\r\n\r\n']);
    const read = await api(s, 'GET', `/api/v1/plots/${created.json.id}`);
    const fig = read.json.figure as { data: Record<string, unknown>[] };
    expect(fig.data[0]).toMatchObject({ name: 'ecg', x: [1], y: [2], stream: { maxpoints: 100 } });
    expect(fig.data[1]).toMatchObject({ name: 'static', x: [1, 2], y: [3, 4] });
    const listed = await api(s, 'GET', '/api/v1/plots');
    expect((listed.json.plots as { id: number }[]).some((p) => p.id === created.json.id)).toBe(true);
    const edited = await api(s, 'PATCH', `/api/v1/plots/${created.json.id}`, { layout: { title: { text: 'renamed' }, yaxis: { range: [0, 5] } } });
    expect(edited.json.title).toBe('renamed');
    expect((edited.json.figure as { layout: unknown }).layout).toMatchObject({ yaxis: { range: [0, 5] } });
    expect((await api(s, 'DELETE', `/api/v1/plots/${created.json.id}`)).status).toBe(204);
    expect((await api(s, 'GET', `/api/v1/plots/${created.json.id}`)).status).toBe(404);
  });

  it('refuses bad input with the reason', async () => {
    expect((await api(s, 'POST', '/api/v1/plots', '{"traces": [')).json.error).toContain('not valid JSON');
    const big = await api(s, 'POST', '/api/v1/plots', { traces: [{ token: s.newToken(), maxpoints: 20000 }] });
    expect(big.status).toBe(400);
    expect(big.json.error).toContain('maxpoints must be an integer from 1 to 10000');
    const foreign = await api(s, 'POST', '/api/v1/plots', { traces: [{ token: 'someone-elses' }] });
    expect(foreign.json.error).toContain("not one of this user's tokens");
    const deep = await api(s, 'PATCH', `/api/v1/plots/${(await createPlot(s, [])).id}`, { layout: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) });
    expect(deep.status).toBe(400);
    expect(deep.json.error).toContain('nested deeper');
  });

  it('creates, lists and revokes tokens; a new token is shown once', async () => {
    const created = await api(s, 'POST', '/api/v1/tokens');
    expect(created.status).toBe(201);
    expect(created.json.token).toMatch(/^[a-z2-9]{20}$/);
    const list = (await api(s, 'GET', '/api/v1/tokens')).json.tokens as Record<string, unknown>[];
    const mine = list.find((t) => t.id === created.json.id);
    expect(mine).toMatchObject({ revoked: false, hint: `${(created.json.token as string).slice(0, 4)}…` });
    expect(JSON.stringify(list)).not.toContain(created.json.token);
    expect((await api(s, 'DELETE', `/api/v1/tokens/${created.json.id}`)).status).toBe(204);
    expect((await api(s, 'DELETE', `/api/v1/tokens/${created.json.id}`)).status).toBe(404);
  });

  it("exports a trace's history as CSV and NDJSON", async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], {}, 2);
    await rawExchange(s.port, [streamHead(token), chunk('{"append":{"x":[1,2,3],"y":[4,5,6],"text":["a","b,c","d\\"e"]}}\n'), '0\r\n\r\n']);
    const csv = await api(s, 'GET', `/api/v1/plots/${plot.id}/traces/0/data?format=csv`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text).toBe('index,x,y,text\n0,1,4,a\n1,2,5,"b,c"\n2,3,6,"d""e"\n');
    const nd = await api(s, 'GET', `/api/v1/plots/${plot.id}/traces/0/data`);
    expect(nd.text.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { index: 0, x: 1, y: 4, text: 'a' },
      { index: 1, x: 2, y: 5, text: 'b,c' },
      { index: 2, x: 3, y: 6, text: 'd"e' },
    ]);
    expect((await api(s, 'GET', `/api/v1/plots/${plot.id}/traces/0/data?format=xml`)).json.error).toContain('csv or ndjson');
  });

  it('the CSV export names every column, also one that first appears late, and text a spreadsheet would run as a formula is inert', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    const lines = ['{"x":1,"y":-1}', '{"x":2,"y":2,"text":"=HYPERLINK(\\"http://evil.example\\",\\"x\\")"}', '{"x":3,"y":3,"marker":{"color":"+red"}}', '{"x":4,"y":4,"text":"@a"}'];
    await rawExchange(s.port, [streamHead(token), ...lines.map((l) => chunk(`${l}\n`)), '0\r\n\r\n']);
    const csv = await api(s, 'GET', `/api/v1/plots/${plot.id}/traces/0/data?format=csv`);
    expect(csv.text).toBe(`index,x,y,text,marker.color\n0,1,-1,,\n1,2,2,"'=HYPERLINK(""http://evil.example"",""x"")",\n2,3,3,,'+red\n3,4,4,'@a,\n`);
  });
});

describe("Plotly's /clientresp and /apigetfile", () => {
  it.each([
    ['as the npm client sends it (JSON not URL-encoded)', false],
    ['URL-encoded, as plotly.py sends it', true],
  ])('creates a streaming plot %s', async (_how, encode) => {
    const token = s.newToken();
    const filename = `plotly & co = 100% ${encode}`;
    const answer = await clientresp(form({ args: [{ x: [], y: [], stream: { token, maxpoints: 50 } }], kwargs: { filename, fileopt: 'overwrite', layout: { title: 'from python' } } }, encode));
    expect(answer).toMatchObject({ 'stream-status': 'All Streams Go!', 'stream-host': s.server.url, filename, error: '' });
    expect(answer.url).toMatch(/\/~alice\/\d+$/);
    await rawExchange(s.port, [streamHead(token), chunk('{"x":1,"y":1}\n'), '0\r\n\r\n']);
    const file = await getFile(answer.url as string);
    expect(file.status).toBe(200);
    expect(file.json.payload.figure.data[0]).toMatchObject({ x: [1], y: [1], stream: { maxpoints: 50 } });
    expect(file.json.payload.figure.layout).toMatchObject({ title: 'from python' });
  });

  it('fileopt: overwrite replaces, new makes another, extend appends data, append adds traces', async () => {
    const base = { kwargs: { filename: 'opts', fileopt: 'overwrite' } };
    const first = await clientresp(form({ args: [{ x: [1], y: [1] }], ...base }, true));
    const over = await clientresp(form({ args: [{ x: [9], y: [9] }], ...base }, true));
    expect(over.url).toBe(first.url);
    expect((await getFile(over.url as string)).json.payload.figure.data).toMatchObject([{ x: [9], y: [9] }]);
    const extended = await clientresp(form({ args: [{ x: [10], y: [10] }], kwargs: { filename: 'opts', fileopt: 'extend' } }, true));
    expect((await getFile(extended.url as string)).json.payload.figure.data).toMatchObject([{ x: [9, 10], y: [9, 10] }]);
    const appended = await clientresp(form({ args: [{ x: [0], y: [0], name: 'b' }], kwargs: { filename: 'opts', fileopt: 'append' } }, true));
    expect((await getFile(appended.url as string)).json.payload.figure.data).toHaveLength(2);
    const fresh = await clientresp(form({ args: [{ x: [1], y: [1] }], kwargs: { filename: 'opts', fileopt: 'new' } }, true));
    expect(fresh.url).not.toBe(first.url);
    expect(fresh.filename).toBe('opts (1)');
  });

  it('answers errors in the "error" field', async () => {
    expect((await clientresp(form({ key: 'wrong', args: [] }, true))).error).toContain('not valid');
    expect((await clientresp(form({ args: '[{' }, false))).error).toContain('args is not valid JSON');
    expect((await clientresp(form({ args: [], kwargs: { fileopt: 'sideways', filename: 'opts' } }, true))).error).toContain('fileopt must be');
  });

  it('apigetfile needs a valid user and key', async () => {
    const res = await fetch(`${s.server.url}/apigetfile/alice/1`, { headers: { 'plotly-username': 'alice', 'plotly-apikey': 'nope' } });
    expect(res.status).toBe(401);
  });
});

describe('private plots and page safety', () => {
  it('a private plot needs the share link or the owner logged in', async () => {
    const plot = await createPlot(s, [s.newToken()], { world_readable: false, title: 'secret' });
    const page = plot.url as string;
    expect((await fetch(page)).status).toBe(404);
    expect((await fetch(`${page}/events`)).status).toBe(404);
    expect((await fetch(plot.share_url as string)).status).toBe(200);
    expect((await fetch(`${page}?share_key=wrong`)).status).toBe(404);
    const login = await fetch(`${s.server.url}/login?next=${encodeURIComponent(new URL(page).pathname)}`, {
      method: 'POST',
      body: new URLSearchParams({ un: 'alice', key: s.apiKey }),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') as string).split(';')[0] as string;
    expect(cookie).toMatch(/^pw_session=/);
    expect((await fetch(page, { headers: { cookie } })).status).toBe(200);
    const wrong = await fetch(`${s.server.url}/login`, { method: 'POST', body: new URLSearchParams({ un: 'alice', key: 'x' }) });
    expect(wrong.status).toBe(401);
  });

  it('titles are text, never markup', async () => {
    const plot = await createPlot(s, [], { title: '<script>alert(1)</script><img src=x onerror=alert(2)>' });
    const html = await (await fetch(plot.url as string)).text();
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it.each(['/static/../package.json', '/static/%2e%2e/package.json', '/static/..%2fpackage.json', '/static//etc/passwd', '/static/viewer.js/../../../package.json'])(
    'no path traversal: %s',
    async (path) => {
      const res = await fetch(`${s.server.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('"name": "plotwire"');
    },
  );

  it('serves plotly.js itself, no CDN', async () => {
    const res = await fetch(`${s.server.url}/static/plotly.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    const html = await (await fetch((await createPlot(s, [])).url as string)).text();
    expect(html).toContain('src="/static/plotly.min.js"');
    expect(html).not.toMatch(/src="https?:/);
  });
});

describe('slow, idle and oversized clients', () => {
  it('a request head that never finishes is answered 408', async () => {
    await withTestServer({ headTimeoutMs: 300 }, async (t) => {
      const res = await rawExchange(t.port, ['POST / HTTP/1.1\r\nHost: x\r\n', 2000], { keepOpen: true });
      expect(res.status).toBe(408);
      expect(res.json.error).toContain('request head');
    });
  });

  it('an API body over 8 MiB is refused with 413', async () => {
    const res = await api(s, 'POST', '/api/v1/plots', `{"traces":[],"pad":"${'x'.repeat(9 * 1024 * 1024)}"}`);
    expect(res.status).toBe(413);
    expect(res.json.error).toContain('larger than');
  });
});

describe('retention', () => {
  it('keeps the newest --retention points of a token on disk', async () => {
    await withTestServer({ retentionPoints: 100 }, async (t) => {
      const token = t.newToken();
      const plot = await createPlot(t, [token]);
      const lines = Array.from({ length: 5 }, (_, i) => chunk(`${JSON.stringify({ append: { y: Array.from({ length: 50 }, (_, j) => i * 50 + j) } })}\n`));
      await rawExchange(t.port, [streamHead(token), ...lines, '0\r\n\r\n']);
      t.server.core.store.enforceRetention();
      const rows = (await api(t, 'GET', `/api/v1/plots/${plot.id}/traces/0/data`)).text.trim().split('\n');
      expect(rows.map((r) => (JSON.parse(r) as { y: number }).y)).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i));
    });
  });
});

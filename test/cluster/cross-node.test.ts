/**
 * Three plotwire nodes on one real PostgreSQL and one real Redis: what one node does, every node
 * shows, in the same order with the same event ids; Plotly's rules hold across nodes.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, cli, rawExchange, streamHead } from '../server/helpers.js';
import { TestWriter } from '../e2e/writer.js';
import { openEvents, type EventStream, type SseEvent } from '../helpers/sse.js';
import { until } from '../helpers/wait.js';
import { openPool } from '../../server/cluster/pg.js';
import { PgHistory } from '../../server/cluster/pg-history.js';
import { createLogger } from '../../shared/log.js';
import { m4 } from '../../server/web/m4.js';
import { nodeApi, startCluster, type Cluster, type Node } from './fixture.js';

let c: Cluster;
let a: Node;
let b: Node;
let cc: Node;
beforeAll(async () => {
  c = await startCluster();
  [a, b, cc] = c.nodes as [Node, Node, Node];
}, 60_000);
afterAll(() => c?.close());

/** A plot made on `node` whose one trace streams from `token`. */
async function plotOn(node: Node, token: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await nodeApi(c, node, 'POST', '/api/v1/plots', { title: 'cluster plot', traces: [{ token, maxpoints: 1000 }], ...extra });
  if (res.status !== 201) throw new Error(`plot not made: ${res.status} ${res.text}`);
  return res.json;
}

/** The plot's events URL on another node. */
const eventsOn = (node: Node, plot: Record<string, unknown>, query = ''): string => `${node.url}${new URL(plot.url as string).pathname}/events${query}`;

/** Reads appends until the viewer has `count` points; returns every event read. */
async function readUntil(stream: EventStream, count: number): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  let have = 0;
  while (have < count) {
    const e = await stream.next();
    events.push(e);
    if (e.event === 'init') have = ((e.data.data as { x: number[] }[])[0]?.x ?? []).length;
    if (e.event === 'append') have += ((e.data.update as { x: number[] }).x ?? []).length;
  }
  return events;
}

const xsOf = (events: SseEvent[]): number[] =>
  events.flatMap((e) => (e.event === 'init' ? ((e.data.data as { x: number[] }[])[0]?.x ?? []) : e.event === 'append' ? (e.data.update as { x: number[] }).x : []));

describe('streams across nodes', () => {
  it('a writer on A, viewers on B and C: every point, in the same order, with the same event ids', async () => {
    const token = await c.newToken(a);
    const plot = await plotOn(a, token);
    const onB = await openEvents(eventsOn(b, plot));
    const onC = await openEvents(eventsOn(cc, plot));
    expect((await onB.next()).event).toBe('init');
    expect((await onC.next()).event).toBe('init');
    const writer = new TestWriter(a.url, token);
    await writer.open();
    for (let i = 0; i < 20; i++) writer.push(25);
    const [seenB, seenC] = await Promise.all([readUntil(onB, 500), readUntil(onC, 500)]);
    expect(xsOf(seenB)).toEqual(writer.xs);
    expect(xsOf(seenC)).toEqual(writer.xs);
    expect(seenB.map((e) => e.id)).toEqual(seenC.map((e) => e.id));
    const answer = await writer.end();
    expect(answer).toMatchObject({ status: 200, next: 500 });
    onB.close();
    onC.close();
  });
});

describe('viewers across nodes', () => {
  it('a viewer that moves from B to C mid-stream resumes there with Last-Event-ID and misses nothing', async () => {
    const token = await c.newToken(a);
    const plot = await plotOn(a, token);
    const writer = new TestWriter(a.url, token);
    await writer.open();
    writer.push(50);
    const onB = await openEvents(eventsOn(b, plot));
    const before = await readUntil(onB, 50);
    onB.close();
    // Points the viewer never saw, while it was between nodes.
    writer.push(30);
    writer.push(20);
    await until('node C to have the points', async () => ((await nodeApi(c, cc, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { data: { x: number[] }[] }).data[0]?.x.length === 100);
    const onC = await openEvents(eventsOn(cc, plot), { 'last-event-id': (before.at(-1) as SseEvent).id });
    const after = await readUntil(onC, 50);
    expect(after.every((e) => e.event === 'append')).toBe(true);
    expect([...xsOf(before), ...xsOf(after)]).toEqual(writer.xs);
    onC.close();
    await writer.end();
  });

  it('layout edits and deletion made on A reach viewers on B and C', async () => {
    const token = await c.newToken(a);
    const plot = await plotOn(a, token);
    const viewers = await Promise.all([openEvents(eventsOn(b, plot)), openEvents(eventsOn(cc, plot))]);
    for (const v of viewers) expect((await v.next()).event).toBe('init');
    expect((await nodeApi(c, a, 'PATCH', `/api/v1/plots/${plot.id}`, { layout: { yaxis: { title: { text: 'mV' } } } })).status).toBe(200);
    for (const v of viewers) expect(await v.next()).toMatchObject({ event: 'layout', data: { layout: { yaxis: { title: { text: 'mV' } } } } });
    expect((await nodeApi(c, a, 'DELETE', `/api/v1/plots/${plot.id}`)).status).toBe(204);
    for (const v of viewers) {
      expect((await v.next()).event).toBe('deleted');
      await v.ended;
    }
    expect((await nodeApi(c, b, 'GET', `/api/v1/plots/${plot.id}`)).status).toBe(404);
  });

  it('private plots, share links and sessions are enforced the same on every node', async () => {
    const token = await c.newToken(a);
    const plot = await plotOn(a, token, { world_readable: false });
    const path = new URL(plot.url as string).pathname;
    const shareKey = new URL(plot.share_url as string).searchParams.get('share_key') as string;
    for (const node of [b, cc]) {
      expect((await fetch(`${node.url}${path}.json`)).status).toBe(404);
      expect((await fetch(`${node.url}${path}.json?share_key=${shareKey}`)).status).toBe(200);
      expect((await fetch(`${node.url}${path}.json?share_key=wrong${shareKey}`)).status).toBe(404);
    }
    // A session made on B opens the plot on C; after logging out on C it opens nothing on B.
    const login = await fetch(`${b.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `un=${c.user}&key=${c.apiKey}` });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect((await fetch(`${cc.url}${path}.json`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${cc.url}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } })).status).toBe(303);
    expect((await fetch(`${b.url}${path}.json`, { headers: { cookie } })).status).toBe(404);
    // Made private on A while a viewer on C watches: that viewer is let go.
    const open = await plotOn(a, await c.newToken(a));
    const viewer = await openEvents(eventsOn(cc, open));
    await viewer.next();
    expect((await nodeApi(c, a, 'PATCH', `/api/v1/plots/${open.id}`, { world_readable: false })).status).toBe(200);
    await viewer.ended;
  });
});

describe("Plotly's rules across nodes", () => {
  it('a token made on A streams on B at once', async () => {
    const token = await c.newToken(a);
    const writer = new TestWriter(b.url, token);
    await writer.open();
    writer.push(5);
    expect(await writer.end()).toMatchObject({ status: 200, next: 5 });
  });

  it('a second writer on another node takes the token over: the first gets 449, and seq resumes exactly', async () => {
    const token = await c.newToken(a);
    const plot = await plotOn(a, token);
    const first = new TestWriter(a.url, token);
    await first.open();
    first.push(40);
    await until('40 points stored', async () => ((await fetch(`${cc.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } }).then((r) => r.json())) as { next: number }).next === 40);
    // The writer moves to another node: it asks there what is stored and resends the rest, then goes on.
    const second = new TestWriter(b.url, token);
    second.points.push(...first.points);
    expect(await second.resume()).toBe(40);
    expect(await first.ended()).toMatchObject({ status: 449 });
    second.push(10);
    const viewer = await openEvents(eventsOn(cc, plot));
    const seen = await readUntil(viewer, 50);
    expect(xsOf(seen)).toEqual(second.xs);
    viewer.close();
    expect(await second.end()).toMatchObject({ status: 200, next: 50 });
  });

  it('the connections-a-minute limit of a token counts on all nodes together: 423 past 30, whichever node', async () => {
    const token = await c.newToken(a);
    const statuses: number[] = [];
    // Ten to each node: under the limit on every one of them, 31 in all.
    for (let i = 0; i < 31; i++) statuses.push((await rawExchange((c.nodes[i % 3] as Node).port, [streamHead(token), '0\r\n\r\n'])).status);
    expect(statuses.slice(0, 30)).toEqual(Array.from({ length: 30 }, () => 200));
    const refused = await rawExchange(b.port, [streamHead(token), chunk('{"x":1,"y":1}\n'), '0\r\n\r\n']);
    expect(refused.status).toBe(423);
    expect(refused.json.error).toMatch(/more than 30 connections a minute for this token \(on all nodes together\)/);
    // Refused, it took nothing: the point it sent is not stored.
    expect(((await fetch(`${cc.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } }).then((r) => r.json())) as { next: number }).next).toBe(0);
  });

  it('a token revoked on A ends its stream on B (403) and is refused on C', async () => {
    const token = await c.newToken(a);
    const writer = new TestWriter(b.url, token);
    await writer.open();
    writer.push(3);
    await until('the stream to hold the token', async () => ((await fetch(`${a.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } }).then((r) => r.json())) as { next: number }).next === 3);
    const id = ((await nodeApi(c, a, 'GET', '/api/v1/tokens')).json.tokens as { id: number; hint: string }[]).find((t) => token.startsWith(t.hint.slice(0, 4)))?.id;
    expect((await nodeApi(c, a, 'DELETE', `/api/v1/tokens/${id}`)).status).toBe(204);
    expect(await writer.ended()).toMatchObject({ status: 403 });
    const again = new TestWriter(cc.url, token);
    await again.open();
    expect(await again.end()).toMatchObject({ status: 403 });
  });
});

describe('the history in PostgreSQL', () => {
  it('exports every point from any node, and retention drops whole day partitions past --history-days', async () => {
    const token = await c.newToken(a);
    const plot = await plotOn(a, token);
    const writer = new TestWriter(b.url, token);
    await writer.open();
    for (let i = 0; i < 10; i++) writer.push(30);
    expect(await writer.end()).toMatchObject({ status: 200, next: 300 });
    const csv = await fetch(`${cc.url}/api/v1/plots/${plot.id}/traces/0/data?format=csv`, { headers: { authorization: `Bearer ${c.apiKey}` } });
    const rows = (await csv.text()).trim().split('\n');
    expect(rows[0]).toBe('index,x,y');
    expect(rows.slice(1).map((r) => Number(r.split(',')[1]))).toEqual(writer.xs);

    const pool = openPool(c.postgres.url);
    try {
      // A partition from long ago, with a batch in it, and today's.
      await pool.query("CREATE TABLE points_20200101 PARTITION OF points FOR VALUES FROM ('2020-01-01T00:00:00Z') TO ('2020-01-02T00:00:00Z')");
      await pool.query("INSERT INTO points VALUES (1, 1, 1, false, 1, '{\"x\":[0],\"y\":[0]}', '2020-01-01T12:00:00Z')");
      const history = new PgHistory(pool, createLogger({ quiet: true }), 30);
      await history.start();
      await history.close();
      const { rows: parts } = await pool.query<{ name: string }>("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'points'");
      const names = parts.map((p) => p.name);
      expect(names).not.toContain('points_20200101');
      expect(names).toContain(`points_${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`);
    } finally {
      await pool.end();
    }
    // What retention kept is all still there.
    expect((await fetch(`${a.url}/api/v1/plots/${plot.id}/traces/0/data?format=ndjson`, { headers: { authorization: `Bearer ${c.apiKey}` } }).then((r) => r.text())).trim().split('\n')).toHaveLength(300);
  });
});

describe('the history range in PostgreSQL', () => {
  /** The range answer for `query` of the plot, asked on `node`. */
  const rangeOn = async (node: Node, plot: Record<string, unknown>, query: string) => {
    const res = await fetch(`${node.url}${new URL(plot.url as string).pathname}/range${query}`);
    return { status: res.status, body: (await res.json()) as { traces: { columns: Record<string, unknown[]>; reduced: boolean }[] } };
  };

  it('serves points older than the trace keeps, written on A, from B and C: whole in a short range, min/max per column in a long one', async () => {
    const token = await c.newToken(a);
    const res = await nodeApi(c, a, 'POST', '/api/v1/plots', { title: 'history range', traces: [{ token, maxpoints: 100 }] });
    const plot = res.json;
    const writer = new TestWriter(a.url, token, (seq) => seq / 100);
    await writer.open();
    for (let i = 0; i < 40; i++) writer.push(100);
    expect(await writer.end()).toMatchObject({ status: 200, next: 4000 });
    const short = await rangeOn(b, plot, '?from=12.5&to=14');
    expect(short.status).toBe(200);
    const want = writer.points.filter((p) => p.x >= 12.5 && p.x <= 14);
    expect(want).toHaveLength(151);
    expect(short.body.traces[0]).toEqual({ reduced: false, columns: { x: want.map((p) => p.x), y: want.map((p) => p.y) } });
    // Past the limit, as a long range is: min and max per column, the same answer the embedded store gives (RangeCollector).
    const pool = openPool(c.postgres.url);
    try {
      const { rows } = await pool.query<{ token_id: number }>('SELECT token_id FROM points ORDER BY received_at DESC LIMIT 1');
      const history = new PgHistory(pool, createLogger({ quiet: true }), 30);
      const answer = await history.range(rows[0]?.token_id as number, { from: 0, to: 39.99, limit: 1000, columns: 50 });
      const xs = writer.xs;
      const ys = writer.points.map((p) => p.y);
      const keep = m4(xs, ys, 0, 39.99, 50);
      expect(answer).toEqual({ reduced: true, columns: { x: keep.map((i) => xs[i]), y: keep.map((i) => ys[i]) } });
      expect(keep.length).toBeLessThanOrEqual(200);
    } finally {
      await pool.end();
    }
    expect((await rangeOn(a, plot, '?from=900&to=1000')).body.traces[0]?.columns.x).toEqual([]);
  });
});

describe('the command line with --postgres', () => {
  it('user and token commands work on the cluster, and their hints name --postgres so they work as typed', async () => {
    const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    const made = run(['token', 'create', '--user', c.user, '--postgres', c.postgres.url, '--json']);
    expect(made.status, made.stderr).toBe(0);
    const listed = run(['token', 'list', '--user', c.user, '--postgres', c.postgres.url, '--json']);
    expect((JSON.parse(listed.stdout) as { tokens: unknown[] }).tokens.length).toBeGreaterThan(1);
    const missing = run(['token', 'create', '--user', 'nobody', '--postgres', c.postgres.url]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`user add nobody --postgres ${c.postgres.url}`);
    // A URL with a password: hints leave it out (they end up in logs), and work as typed with PGPASSWORD.
    const pool = openPool(c.postgres.url);
    await pool.query("CREATE ROLE keeper LOGIN SUPERUSER PASSWORD 'hunter2secret'").finally(() => pool.end());
    await c.postgres.requirePassword('keeper');
    const secretUrl = c.postgres.url.replace('//postgres@', '//keeper:hunter2secret@');
    const bareUrl = c.postgres.url.replace('//postgres@', '//keeper@');
    const refused = run(['token', 'create', '--user', 'nobody', '--postgres', secretUrl]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).not.toContain('hunter2secret');
    expect(refused.stderr).toContain(`user add nobody --postgres ${bareUrl} (with the password in PGPASSWORD or ~/.pgpass)`);
    const runWith = (env: NodeJS.ProcessEnv, args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    const hinted = ['token', 'list', '--user', c.user, '--postgres', bareUrl, '--json'];
    expect(runWith({ PGPASSWORD: 'hunter2secret' }, hinted).status).toBe(0);
    const without = runWith({ PGPASSWORD: 'wrong' }, hinted);
    expect(without.status).toBe(2);
    expect(without.stderr).toMatch(/cannot reach PostgreSQL at --postgres: .*password authentication failed/);
    const half = run(['server', '--postgres', c.postgres.url]);
    expect(half.status).toBe(2);
    expect(half.stderr).toContain('--postgres and --redis go together');
  });
});

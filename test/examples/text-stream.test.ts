/**
 * examples/text-stream.ts, run as a user runs it, against a local server replaying each source's
 * fixture in its own wire format (test/data/text-stream: Mastodon's streaming API, Wikimedia's
 * EventStreams, Bluesky's Jetstream), cut into seeded random writes. The counts the tests expect
 * were taken by hand from the posts' texts, not by the example's code.
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { KeywordRates, keywordPattern, textOf, visibleText } from '../../examples/lib/keyword-rates.js';
import { lineFeed } from '../../examples/lib/text-source.js';
import { fuzzParams, splitAt } from '../fuzz/fuzz.js';
import { api, testServer, type TestServer } from '../server/helpers.js';

const fixtures = join(import.meta.dirname, '../data/text-stream');
const example = join(import.meta.dirname, '../../examples/text-stream.ts');
const fixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');
const WINDOW = 600;

/** Writes text in seeded random pieces, a few ms apart, as a network delivers it. */
async function trickle(res: ServerResponse, text: string, seed: number): Promise<void> {
  let rnd = seed;
  for (let at = 0; at < text.length && !res.destroyed; ) {
    rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (rnd % 2000);
    res.write(text.slice(at, at + n));
    at += n;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** SSE events of a fixture, each whole ("...\n\n"), comments kept with the event after them. */
const sseEvents = (text: string): string[] => text.split(/(?<=\n\n)/);

let s: TestServer;
let source: Server;
let base: string;
const seen = { wikimediaLastEventIds: [] as (string | undefined)[], jetstreamCursors: [] as (string | null)[] };

beforeAll(async () => {
  s = await testServer();
  const wikimedia = sseEvents(fixture('wikimedia-recentchange.sse'));
  const jetstream = fixture('jetstream-posts.ndjson').trim().split('\n');
  source = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/api/v1/streaming/public') {
      // Mastodon's answer without a token, on instances that require one.
      if (req.headers.authorization !== 'Bearer test-token') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"This method requires an authenticated user"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      void trickle(res, fixture('mastodon-public.sse'), 1);
    } else if (path === '/v2/stream/recentchange') {
      // The first connection breaks after 12 events; the next must resume after the last id it saw.
      const last = req.headers['last-event-id'] as string | undefined;
      seen.wikimediaLastEventIds.push(last);
      const from = last === undefined ? 0 : wikimedia.findIndex((e) => e.includes(`id: ${last}\n`)) + 1;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      const part = last === undefined ? wikimedia.slice(0, 13) : wikimedia.slice(from);
      void trickle(res, `retry: 100\n\n${part.join('')}`, 2).then(() => {
        if (last === undefined) res.destroy();
      });
    } else if (path === '/posts.ndjson') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      void trickle(res, fixture('jetstream-posts.ndjson'), 3);
    } else res.writeHead(404).end();
  });
  // Jetstream: one event a message; the first connection closes after 10, the next resumes at its cursor.
  const wss = new WebSocketServer({ server: source, path: '/subscribe' });
  wss.on('connection', (socket, req) => {
    const cursor = new URL(req.url ?? '/', 'http://x').searchParams.get('cursor');
    seen.jetstreamCursors.push(cursor);
    const from = cursor === null ? 0 : jetstream.findIndex((e) => (JSON.parse(e) as { time_us: number }).time_us > Number(cursor));
    const part = cursor === null ? jetstream.slice(0, 10) : jetstream.slice(from);
    for (const e of part) socket.send(e);
    if (cursor === null) socket.close(1011, 'going away');
  });
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(source.address() as AddressInfo).port}`;
});
afterAll(async () => {
  source.closeAllConnections();
  await new Promise((r) => source.close(r));
  await s.close();
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly traces: { name: string; x: string[]; y: number[] }[];
}

/** Runs the example for `seconds` (or until standard input ends); returns what it said and its plot. */
async function run(args: string[], options: { seconds?: number; stdin?: string } = {}): Promise<Run> {
  const argv = ['--import', 'tsx', example, '--server', s.server.url, '--api-key', s.apiKey, '--keywords', 'rust,python,coffee', '--window', String(WINDOW), '--seconds', String(options.seconds ?? 6), ...args];
  const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let [stdout, stderr] = ['', ''];
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  if (options.stdin) createReadStream(options.stdin).pipe(child.stdin);
  else child.stdin.end();
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const url = /streaming to (\S+)/.exec(stdout)?.[1];
  if (!url) return { code, stdout, stderr, traces: [] };
  const plot = ((await api(s, 'GET', '/api/v1/plots')).json.plots as { id: number; url: string }[]).find((p) => p.url === url);
  const figure = (await api(s, 'GET', `/api/v1/plots/${plot?.id}`)).json.figure as { data: Run['traces'] };
  return { code, stdout, stderr, traces: figure.data };
}

/** The run's counts as it printed them last, and its plot agrees: the last rate is count x 60 / window. */
function counted(r: Run): Record<string, number> {
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  const m = /^(\d+) records.*: rust (\d+), python (\d+), coffee (\d+)$/.exec(last);
  expect(m, `last line: ${last}\nstderr: ${r.stderr}`).not.toBeNull();
  const counts = { records: Number(m?.[1]), rust: Number(m?.[2]), python: Number(m?.[3]), coffee: Number(m?.[4]) };
  expect(r.traces.map((t) => t.name)).toEqual(['rust', 'python', 'coffee', 'all records']);
  const lastY = r.traces.map((t) => t.y.at(-1));
  expect(lastY).toEqual([counts.rust, counts.python, counts.coffee, counts.records].map((n) => (n * 60) / WINDOW));
  for (const t of r.traces) expect(t.x.every((x) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(x))).toBe(true);
  return counts;
}

describe('examples/text-stream.ts', () => {
  it('Mastodon (SSE with a token): new posts counted, deletes and edits not, HTML read as a person reads it', async () => {
    const r = await run(['--source', `http://${base}/api/v1/streaming/public`, '--header', 'Authorization: Bearer test-token']);
    expect(counted(r)).toEqual({ records: 40, rust: 14, python: 7, coffee: 13 });
  });

  it('Wikimedia (SSE broken mid-stream): reconnects with Last-Event-ID and counts each change once', async () => {
    const r = await run(['--source', `http://${base}/v2/stream/recentchange`]);
    expect(counted(r)).toEqual({ records: 30, rust: 6, python: 6, coffee: 9 });
    const events = sseEvents(fixture('wikimedia-recentchange.sse'));
    expect(seen.wikimediaLastEventIds.slice(0, 2)).toEqual([undefined, /^id: (.*)$/m.exec(events[12] as string)?.[1]]);
    expect(r.stderr).toMatch(/reconnecting in 0\.1 s/);
  });

  it('Bluesky Jetstream (WebSocket closed mid-stream): resumes at its cursor; identity and delete events name no keyword', async () => {
    const r = await run(['--source', `ws://${base}/subscribe?wantedCollections=app.bsky.feed.post`]);
    expect(counted(r)).toEqual({ records: 25, rust: 7, python: 4, coffee: 6 });
    const tenth = JSON.parse(fixture('jetstream-posts.ndjson').split('\n')[9] as string) as { time_us: number };
    expect(seen.jetstreamCursors.slice(0, 2)).toEqual([null, String(tenth.time_us)]);
  });

  it('NDJSON over HTTP and on standard input, with the text at a field named by --field', async () => {
    const http = await run(['--source', `http://${base}/posts.ndjson`, '--field', 'commit.record.text'], { seconds: 4 });
    const stdin = await run(['--source', '-', '--field', 'commit.record.text'], { seconds: 60, stdin: join(fixtures, 'jetstream-posts.ndjson') });
    expect(counted(http)).toEqual({ records: 25, rust: 7, python: 4, coffee: 6 });
    expect(counted(stdin)).toEqual(counted(http));
  });

  it('a source that refuses says so in one line and exits 1; a bad option exits 2 with the usage', async () => {
    const refused = await run(['--source', `http://${base}/api/v1/streaming/public`], { seconds: 30 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`text-stream: http://${base}/api/v1/streaming/public answered 401: {"error":"This method requires an authenticated user"}\n`);
    const bad = await promisify(execFile)(process.execPath, ['--import', 'tsx', example, '--api-key', 'k', '--source', 'x', '--keywords', 'a', '--window', '0']).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toBe('text-stream: --window must be a whole number of seconds from 1 to 86400; npx tsx examples/text-stream.ts --help says more\n');
  });
});

describe('keyword counting', () => {
  it('a keyword is a whole word in any case and script', () => {
    const rust = keywordPattern('rust');
    for (const yes of ["Rust's borrow checker", '#rust', 'RUST', 'coffee-fuelled rust', '日本語 rust を']) expect(rust.test(yes), yes).toBe(true);
    for (const no of ['trust', 'rusty', '#rustlang', 'rust_env', 'rust2']) expect(rust.test(no), no).toBe(false);
    expect(keywordPattern('c++').test('I write C++ daily')).toBe(true);
    expect(keywordPattern('café').test('CAFÉ au lait')).toBe(true);
  });

  it('HTML is read as a person reads it; only the named fields count', () => {
    expect(visibleText('<p>a &amp; b</p><p>next&#39;s &#x1F980;</p>')).toBe("\na & b\n\nnext's 🦀\n");
    expect(visibleText('#<span>rust</span>')).toBe('#rust');
    expect(textOf({ content: '<p>x</p>', account: { note: 'rust' } })).toBe('\nx\n');
    expect(textOf({ kind: 'identity', identity: { handle: 'python-fan.bsky.social' } })).toBe('');
    expect(textOf({ a: { b: 'deep' } }, ['a.b'])).toBe('deep');
  });

  it('the rate is over the window, and what left the window no longer counts', () => {
    const rates = new KeywordRates(['rust'], 10);
    rates.count('rust', 1_000);
    rates.count('nothing', 5_500);
    expect(rates.perMinute(9_999)).toEqual([6, 12]);
    expect(rates.perMinute(11_000)).toEqual([0, 6]);
    expect(rates.perMinute(60_000)).toEqual([0, 0]);
    expect(rates.counted()).toEqual([1, 2]);
  });

  it('lines: any cuts give the same lines; a line over the limit is skipped whole and the rest kept', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40, unit: 'binary-ascii' }).map((l) => l.replace(/\n/g, ' ')), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
        const text = lines.map((l) => `${l}\n`).join('');
        const got: string[] = [];
        let tooLong = 0;
        const feed = lineFeed(20, (l) => got.push(l), () => tooLong++);
        for (const piece of splitAt(Buffer.from(text, 'latin1'), cuts)) feed(piece.toString('latin1'));
        expect(got).toEqual(lines.filter((l) => l.length <= 20));
        expect(tooLong).toBe(lines.filter((l) => l.length > 20).length);
      }),
      fuzzParams(500, 2000),
    );
  });
});

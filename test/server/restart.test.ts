/** A restart, even kill -9, loses no point the server reported as stored; plots and history come back. */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { chunk, cli, rawExchange, serverProcess, streamHead, tempDir, type ServerProcess } from './helpers.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const batch = (from: number, to: number): string => `${JSON.stringify({ append: { x: range(from, to), y: range(from, to) }, seq: from })}\n`;

let running: ServerProcess | undefined;
const data = tempDir();
afterEach(async () => {
  await running?.stop('SIGKILL');
});

async function state(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } });
  return ((await res.json()) as { next: number }).next;
}

/** The first SSE event of a plot's page: what a viewer gets on joining. */
async function firstEvent(url: string): Promise<{ event: string; data: { data: { x: number[] }[] } }> {
  const res = await fetch(url);
  const reader = res.body!.getReader();
  let text = '';
  while (!/\n\n(?:id|event)[^]*?\n\n/.test(text.slice(text.indexOf('\n\n')))) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  const block = text.split('\n\n').find((b) => b.includes('event: ')) as string;
  return {
    event: /event: (\w+)/.exec(block)?.[1] as string,
    data: JSON.parse(/data: (.*)/.exec(block)?.[1] as string) as { data: { x: number[] }[] },
  };
}

describe('restart', () => {
  it('kill -9 in the middle of a stream: everything reported stored is there after the restart, once', async () => {
    running = await serverProcess(data.dir);
    const apiKey = running.logs.find((l) => l.event === 'default-user')?.apiKey as string;
    const token = (JSON.parse(execFileSync(process.execPath, [cli, 'token', 'create', '--user', 'plotwire', '--data', data.dir, '--json'], { encoding: 'utf8' })) as { token: string }).token;
    const created = await fetch(`${running.url}/api/v1/plots`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'survivor', traces: [{ token, maxpoints: 10000 }] }),
    });
    const plot = (await created.json()) as { id: number; url: string };
    expect(created.status, JSON.stringify(plot)).toBe(201);

    // A stream that is still open when the server dies.
    const open = rawExchange(running.port, [streamHead(token), ...range(0, 20).flatMap((i) => [chunk(batch(i * 100, i * 100 + 100)), 50]), 5000], { keepOpen: true });
    // Killed mid-stream, once some of it is stored.
    const reported = await until('some points stored', async () => {
      const next = await state(running!.url, token);
      return next > 0 && next;
    });
    await running.stop('SIGKILL');
    await open;

    running = await serverProcess(data.dir);
    const after = await state(running.url, token);
    expect(after).toBeGreaterThanOrEqual(reported);
    const history = await fetch(`${running.url}/api/v1/plots/${plot.id}/traces/0/data?format=ndjson`, { headers: { authorization: `Bearer ${apiKey}` } });
    const historyText = await history.text();
    expect(history.status, historyText.slice(0, 300)).toBe(200);
    const xs = historyText.trim().split('\n').map((l) => (JSON.parse(l) as { x: number }).x);
    expect(xs).toEqual(range(0, after));

    // The writer resumes from what is stored and finishes: nothing lost, nothing doubled.
    const rest = await rawExchange(running.port, [streamHead(token), chunk(batch(Math.max(0, after - 50), 2100)), '0\r\n\r\n']);
    expect(rest.json).toMatchObject({ status: 200, next: 2100 });
    const all = await fetch(`${running.url}/api/v1/plots/${plot.id}/traces/0/data?format=csv`, { headers: { authorization: `Bearer ${apiKey}` } });
    const rows = (await all.text()).trim().split('\n');
    expect(rows[0]).toBe('index,x,y');
    expect(rows.slice(1).map((r) => Number(r.split(',')[1]))).toEqual(range(0, 2100));

    // A viewer joining after the restart gets the history (the newest maxpoints).
    const path = new URL(plot.url).pathname;
    const joined = await firstEvent(`${running.url}${path}/events`);
    expect(joined.event).toBe('init');
    expect(joined.data.data[0]?.x).toEqual(range(0, 2100));
  });

  it('SIGTERM ends open streams with 503 so writers come back, and exits 0', async () => {
    running = await serverProcess(data.dir);
    const token = (JSON.parse(execFileSync(process.execPath, [cli, 'token', 'create', '--user', 'plotwire', '--data', data.dir, '--json'], { encoding: 'utf8' })) as { token: string }).token;
    const open = rawExchange(running.port, [streamHead(token), chunk(batch(0, 10)), 3000], { keepOpen: true });
    await until('the stream is open and stored its points', async () => (await state(running!.url, token)) === 10);
    const code = await running.stop('SIGTERM');
    const res = await open;
    expect(res.status).toBe(503);
    expect(res.json.next).toBe(10);
    expect(code).toBe(0);
    running = undefined;
  });
});

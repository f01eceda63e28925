/** The viewers' event streams (SSE) over real HTTP: ids, resume with Last-Event-ID, edits, access, slow viewers, writes. */
import { spawn } from 'node:child_process';
import { Socket, connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { sleep } from '../helpers/wait.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TestWriter } from '../e2e/writer.js';
import { api, createPlot, testServer, type TestServer } from './helpers.js';
import { openEvents, type SseEvent } from '../helpers/sse.js';
import { cpuWaitMs } from '../../server/viewers/fanout.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(() => s.close());

const eventsUrl = (plot: Record<string, unknown>): string => `${plot.url}/events`;
/** "1.shape-3-2" -> ["1.shape", 3, 2] */
const idParts = (id: string): [string, ...number[]] => {
  const [version, ...indices] = id.split('-');
  return [version as string, ...indices.map(Number)];
};

async function writerFor(token: string): Promise<TestWriter> {
  const writer = new TestWriter(s.server.url, token);
  await writer.open();
  return writer;
}

describe('what a viewer gets', () => {
  it('the figure first, then each append with the points it adds and an id that counts them', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], {}, 100);
    const writer = await writerFor(token);
    writer.push(3);
    await expect.poll(async () => ((await api(s, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { data: { x?: number[] }[] }).data[0]?.x?.length).toBe(3);

    const stream = await openEvents(eventsUrl(plot));
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-store');
    const init = await stream.next();
    expect(init.event).toBe('init');
    expect(init.data).toMatchObject({ data: [{ x: [0, 1, 2], y: writer.points.map((p) => p.y), stream: { maxpoints: 100 } }], layout: { title: { text: 'test plot' } } });
    expect(idParts(init.id).slice(1)).toEqual([3]);

    writer.push(2);
    const append = await stream.next();
    expect(append).toMatchObject({ event: 'append', data: { traces: [0], start: 3, update: { x: [3, 4], y: writer.points.slice(3).map((p) => p.y) } } });
    expect(idParts(append.id)).toEqual([idParts(init.id)[0], 5]);
    // A later joiner's figure has those points too (the first joiner's init is not served again).
    const later = await openEvents(eventsUrl(plot));
    const laterInit = await later.next();
    expect(laterInit.data).toMatchObject({ data: [{ x: [0, 1, 2, 3, 4] }] });
    expect(laterInit.id).toBe(append.id);
    later.close();
    stream.close();
    await writer.end();
  });

  it('a replace gets an id that does not count the points appended with it', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    const stream = await openEvents(eventsUrl(plot));
    await stream.next();
    const writer = await writerFor(token);
    writer.push(4);
    await stream.next();
    // Arrays replace, a scalar appends: one object that does both.
    await api(s, 'GET', '/api/v1/health');
    const raw = connect(s.port, '127.0.0.1');
    raw.write(`POST / HTTP/1.1\r\nHost: x\r\nplotly-streamtoken: ${token}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const line = '{"x":[10,11],"y":[1,2],"text":"t"}\n';
    raw.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n0\r\n\r\n`);
    const replace = await stream.next();
    const append = await stream.next();
    expect(replace).toMatchObject({ event: 'replace', data: { traces: [0], update: { x: [10, 11], y: [1, 2] } } });
    expect(append).toMatchObject({ event: 'append', data: { traces: [0], start: 6, update: { text: ['t'] } } });
    expect(idParts(replace.id).slice(1)).toEqual([6]);
    expect(idParts(append.id).slice(1)).toEqual([7]);
    // A viewer cut off right after the replace gets the append when it resumes.
    const resumed = await openEvents(eventsUrl(plot), { 'last-event-id': replace.id });
    expect(await resumed.next()).toMatchObject({ event: 'append', data: { start: 6, update: { text: ['t'] } } });
    resumed.close();
    stream.close();
    raw.destroy();
    await writer.end();
  });
});

describe('resuming with Last-Event-ID', () => {
  it('sends exactly what was missed, token by token, each id counting only what came before it', async () => {
    const [a, b] = [s.newToken(), s.newToken()];
    const plot = await createPlot(s, [a, b, a]);
    const [wa, wb] = await Promise.all([writerFor(a), writerFor(b)]);
    const first = await openEvents(eventsUrl(plot));
    await first.next();
    wa.push(3);
    wb.push(2);
    await first.next();
    const last = await first.next();
    expect(idParts(last.id).slice(1)).toEqual([3, 2, 3]);
    first.close();

    wa.push(4);
    wb.push(1);
    await expect.poll(async () => ((await api(s, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { data: { x?: number[] }[] }).data[1]?.x?.length).toBe(3);
    const resumed = [
      await openEvents(eventsUrl(plot), { 'last-event-id': last.id }),
      await openEvents(`${eventsUrl(plot)}?last_event_id=${encodeURIComponent(last.id)}`),
    ];
    for (const stream of resumed) {
      const missedA = await stream.next();
      const missedB = await stream.next();
      expect(missedA).toMatchObject({ event: 'append', data: { traces: [0, 2], start: 3, update: { x: [3, 4, 5, 6] } } });
      expect(idParts(missedA.id).slice(1)).toEqual([7, 2, 7]);
      expect(missedB).toMatchObject({ event: 'append', data: { traces: [1], start: 2, update: { x: [2] } } });
      expect(idParts(missedB.id).slice(1)).toEqual([7, 3, 7]);
    }
    // Nothing else was sent: the next event each gets is the next new point.
    wb.push(1);
    for (const stream of resumed) {
      expect(await stream.next()).toMatchObject({ event: 'append', data: { traces: [1], start: 3 } });
      stream.close();
    }
    await Promise.all([wa.end(), wb.end()]);
  });

  it('starts over with the whole figure when the id no longer matches what the server has', async () => {
    const [a, b] = [s.newToken(), s.newToken()];
    const plot = await createPlot(s, [a]);
    const writer = await writerFor(a);
    writer.push(5);
    const stream = await openEvents(eventsUrl(plot));
    const { id } = await stream.next();
    stream.close();
    const initAfter = async (lastEventId: string): Promise<SseEvent> => {
      const again = await openEvents(eventsUrl(plot), { 'last-event-id': lastEventId });
      const event = await again.next();
      again.close();
      return event;
    };
    // Up to date: nothing to send, no init; the next event it gets is the next new point.
    const same = await openEvents(eventsUrl(plot), { 'last-event-id': id });
    writer.push(1);
    expect(await same.next()).toMatchObject({ event: 'append', data: { traces: [0], start: idParts(id)[1] } });
    same.close();
    const { id: current } = await (async () => {
      const probe = await openEvents(eventsUrl(plot));
      const init = await probe.next();
      probe.close();
      return init;
    })();
    for (const bad of ['garbage', `${idParts(current)[0]}-5-5`, `${idParts(current)[0]}-99`, `${idParts(current)[0]}--1`, '0.x-5']) expect((await initAfter(bad)).event).toBe('init');

    // Another token feeds the trace now: same trace count, same layout version, yet the points are not the same.
    await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { traces: [{ token: b, maxpoints: 500 }] });
    const afterTraces = await initAfter(current);
    expect(afterTraces).toMatchObject({ event: 'init', data: { data: [{ stream: { maxpoints: 500 } }] } });
    expect(idParts(afterTraces.id)[0]).not.toBe(idParts(current)[0]);
    // The layout changed since.
    await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { title: 'new title' });
    expect(await initAfter(afterTraces.id)).toMatchObject({ event: 'init', data: { layout: { title: { text: 'new title' } } } });
    await writer.end();
  });
});

describe('edits and access', () => {
  it('layout edits and deletion reach every viewer', async () => {
    const plot = await createPlot(s, [s.newToken()]);
    const viewers = await Promise.all([openEvents(eventsUrl(plot)), openEvents(eventsUrl(plot))]);
    for (const v of viewers) await v.next();
    await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { layout: { yaxis: { title: { text: 'BPM' } } } });
    for (const v of viewers) expect(await v.next()).toMatchObject({ event: 'layout', data: { layout: { title: { text: 'test plot' }, yaxis: { title: { text: 'BPM' } } } } });
    expect((await api(s, 'DELETE', `/api/v1/plots/${plot.id}`)).status).toBe(204);
    for (const v of viewers) {
      expect(await v.next()).toMatchObject({ event: 'deleted' });
      await v.ended;
    }
    expect((await openEvents(eventsUrl(plot))).status).toBe(404);
  });

  it('private plots: refused without credentials, served with the share link or the owner’s session', async () => {
    const plot = await createPlot(s, [s.newToken()], { world_readable: false });
    expect((await openEvents(eventsUrl(plot))).status).toBe(404);
    expect((await openEvents(`${eventsUrl(plot)}?share_key=wrong`)).status).toBe(404);
    const shareKey = new URL(plot.share_url as string).searchParams.get('share_key') as string;
    const withKey = await openEvents(`${eventsUrl(plot)}?share_key=${shareKey}`);
    expect(withKey.status).toBe(200);
    expect((await withKey.next()).event).toBe('init');
    withKey.close();

    const login = await fetch(`${s.server.url}/login`, { method: 'POST', body: new URLSearchParams({ un: s.user, key: s.apiKey }), redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const owner = await openEvents(eventsUrl(plot), { cookie });
    expect(owner.status).toBe(200);
    expect((await owner.next()).event).toBe('init');
    owner.close();
  });

  it('a plot made private lets go of the viewers who may no longer see it', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    const anonymous = await openEvents(eventsUrl(plot));
    await anonymous.next();
    const patched = await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { world_readable: false });
    const shareKey = new URL(patched.json.share_url as string).searchParams.get('share_key') as string;
    const withKey = await openEvents(`${eventsUrl(plot)}?share_key=${shareKey}`);
    await withKey.next();
    const writer = await writerFor(token);
    writer.push(2);
    expect(await withKey.next()).toMatchObject({ event: 'append', data: { update: { x: [0, 1] } } });
    await anonymous.ended;
    expect(anonymous.unread()).toEqual([]);
    expect((await openEvents(eventsUrl(plot))).status).toBe(404);
    withKey.close();
    await writer.end();
  });

  it('the edit that makes a plot private lets them go itself, with no new point to send', async () => {
    const plot = await createPlot(s, [s.newToken()]);
    const anonymous = await openEvents(eventsUrl(plot));
    await anonymous.next();
    await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { world_readable: false });
    await anonymous.ended;
    expect(anonymous.unread()).toEqual([]);
  });
});

describe('slow viewers', () => {
  it('a viewer that stops reading is cut off instead of piling up in the server; the others keep up', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], {}, 10_000);
    const reader = await openEvents(eventsUrl(plot));
    await reader.next();
    const stalled = connect(s.port, '127.0.0.1');
    stalled.write(`GET ${new URL(eventsUrl(plot)).pathname} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await expect.poll(() => s.server.core.fanout.count).toBeGreaterThanOrEqual(2);
    stalled.pause();
    const before = s.server.core.fanout.count;
    const writer = await writerFor(token);
    // About 110 KB per object: well past the 4 MiB a viewer may leave unread, plus the kernel's buffers.
    let objects = 0;
    while (s.server.core.fanout.count === before && objects < 400) {
      writer.push(10_000);
      objects++;
      await sleep(5);
    }
    expect(s.server.core.fanout.count).toBe(before - 1);
    const last = await (async () => {
      let e: SseEvent | undefined;
      while (e?.data.start !== (objects - 1) * 10_000) e = await reader.next();
      return e;
    })();
    expect(idParts(last.id).slice(1)).toEqual([objects * 10_000]);
    stalled.destroy();
    reader.close();
    await writer.end();
  });
});

/** The server's socket writes that carry a plot's events (its version leads each id); `before(n)` runs before the nth is written. */
function recordWrites(version: string, before?: (n: number) => void): { writes: { at: number; text: string }[]; restore(): void } {
  const writes: { at: number; text: string }[] = [];
  const write = Socket.prototype.write;
  const spy = vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if ((typeof chunk === 'string' || Buffer.isBuffer(chunk)) && chunk.toString().includes(`id: ${version}-`)) {
      before?.(writes.length);
      writes.push({ at: performance.now(), text: chunk.toString() });
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  });
  return { writes, restore: () => spy.mockRestore() };
}

describe('writes to viewers', () => {
  it('a HEAD gets the head alone', async () => {
    const plot = await createPlot(s, [s.newToken()]);
    const head = await fetch(eventsUrl(plot), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await head.text()).toBe('');
  });

  it('the messages of one turn leave in one write to each viewer, in order', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], {}, 100);
    const stream = await openEvents(eventsUrl(plot));
    const { writes, restore } = recordWrites(idParts((await stream.next()).id)[0]);
    try {
      // Five objects in one chunk: the store commits them together, five appends in one turn.
      const raw = connect(s.port, '127.0.0.1');
      const lines = [1, 2, 3, 4, 5].map((i) => `{"x":${i},"y":${i * 10}}\n`).join('');
      raw.write(`POST / HTTP/1.1\r\nHost: x\r\nplotly-streamtoken: ${token}\r\nTransfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(lines).toString(16)}\r\n${lines}\r\n0\r\n\r\n`);
      const appends = [await stream.next(), await stream.next(), await stream.next(), await stream.next(), await stream.next()];
      expect(appends.map((a) => [a.event, a.data.start, (a.data.update as { y: number[] }).y[0]])).toEqual([1, 2, 3, 4, 5].map((i) => ['append', i - 1, i * 10]));
      expect(writes).toHaveLength(1);
      expect(writes[0]?.text.match(/event: append/g)).toHaveLength(5);
      raw.destroy();
    } finally {
      restore();
    }
    stream.close();
  });

  /**
   * A viewer's writes when the round that wrote its first batch waited `waitedMs` for a CPU (other
   * processes had the machine, as the kernel would count it) and `more` batches follow in turns of
   * their own: each write's time and how many appends it carried.
   */
  async function afterWaitedRound(waitedMs: number, more: number): Promise<{ at: number; appends: number }[]> {
    const token = s.newToken();
    const plot = await createPlot(s, [token], {}, 100);
    const stream = await openEvents(eventsUrl(plot));
    const { writes, restore } = recordWrites(idParts((await stream.next()).id)[0]);
    const tokenId = s.server.core.plots.tokensOf(plot.id as number)[0] as number;
    const waits = vi.spyOn(s.server.core.fanout as unknown as { cpuWaitMs(): number }, 'cpuWaitMs').mockReturnValueOnce(1000).mockReturnValueOnce(1000 + waitedMs);
    try {
      const writer = await writerFor(token);
      writer.push(1);
      await stream.next();
      for (let i = 2; i <= more + 1; i++) {
        writer.push(1);
        await expect.poll(() => s.server.core.store.endIndex(tokenId)).toBe(i);
      }
      for (let i = 0; i < more; i++) await stream.next();
      await writer.end();
      return writes.map((w) => ({ at: w.at, appends: w.text.match(/event: append/g)?.length ?? 0 }));
    } finally {
      restore();
      waits.mockRestore();
      stream.close();
    }
  }

  it('a server that waited for a CPU during its last round of writes holds the next messages as long, then sends them together', async () => {
    // Two batches in two turns, well within the 200 ms the last round waited.
    const writes = await afterWaitedRound(200, 2);
    expect(writes.map((w) => w.appends)).toEqual([1, 2]);
    expect((writes[1]?.at as number) - (writes[0]?.at as number)).toBeGreaterThanOrEqual(150);
  });

  it('holds them 250 ms at most, however long the last round waited', async () => {
    const writes = await afterWaitedRound(10_000, 1);
    const gap = (writes[1]?.at as number) - (writes[0]?.at as number);
    expect(gap).toBeGreaterThanOrEqual(200);
    expect(gap).toBeLessThan(2000);
  });

  it('counts the time this thread waits for a CPU, from the kernel', async () => {
    // Three busy processes beside this busy thread on this machine's cores: it must wait its turn.
    const hogs = Array.from({ length: Math.max(2, availableParallelism()) + 1 }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
    try {
      const before = cpuWaitMs();
      for (const end = performance.now() + 1000; performance.now() < end && cpuWaitMs() - before < 20; );
      expect(cpuWaitMs() - before).toBeGreaterThanOrEqual(20);
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
  });

  it('a viewer who joins while messages wait for their write gets them in its figure, not again after it', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], {}, 100);
    const first = await openEvents(eventsUrl(plot));
    await first.next();
    const { core } = s.server;
    const tokenId = core.plots.tokensOf(plot.id as number)[0] as number;
    // The second viewer's request is joined in the same turn as a commit whose messages are not written yet.
    const attach = core.fanout.attach.bind(core.fanout);
    const spy = vi.spyOn(core.fanout, 'attach').mockImplementationOnce((...args) => {
      core.service.points(tokenId, { append: { x: [7], y: [70] }, appendCount: 1 }, undefined, { sequenced: false });
      core.store.commit();
      attach(...args);
    });
    const second = await openEvents(eventsUrl(plot));
    spy.mockRestore();
    const init = await second.next();
    expect(init.data).toMatchObject({ data: [{ x: [7], y: [70] }] });
    expect(await first.next()).toMatchObject({ event: 'append', data: { start: 0, update: { x: [7], y: [70] } } });
    // The next append is the second viewer's next event: nothing doubled before it.
    const writer = await writerFor(token);
    writer.push(1);
    expect(await second.next()).toMatchObject({ event: 'append', data: { start: 1 } });
    first.close();
    second.close();
    await writer.end();
  });
});

describe('pages and static files', () => {
  it('serves the viewer script and style from a fixed list, and nothing else', async () => {
    const js = await fetch(`${s.server.url}/static/viewer.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain('EventSource');
    expect((await fetch(`${s.server.url}/static/viewer.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    for (const path of ['/static/../package.json', '/static/%2e%2e/package.json', '/static/..%2fpackage.json', '/static/viewer.ts']) {
      expect((await fetch(`${s.server.url}${path}`)).status, path).toBe(404);
    }
  });

  it('writes a title into the page as text, and refuses a private plot with a page that links to the login', async () => {
    const title = '<script>alert(1)</script>&"\'';
    const plot = await createPlot(s, [s.newToken()], { title });
    const html = await (await fetch(plot.url as string)).text();
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('<h1 id="title">&#60;script&#62;alert(1)&#60;/script&#62;&#38;&#34;&#39;</h1>');
    const hidden = await createPlot(s, [s.newToken()], { world_readable: false });
    const refused = await fetch(hidden.url as string);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const path = new URL(hidden.url as string).pathname;
    expect(await refused.text()).toContain(`<a href="/login?next=${encodeURIComponent(path)}">Log in</a>`);
  });
});

/**
 * The live viewer in headless Debian Chromium against a real server on loopback, with points
 * streamed over the real streaming endpoint: what every browser draws is compared with what was
 * streamed. Then the viewer as an instrument: pause and resume, a zoomed view of the past filled
 * from the server's stored history, the stalled state, and the big readout of a marked trace.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/wait.js';
import { api, createPlot, serverProcess, tempDir, testServer, type TestServer } from '../server/helpers.js';
import { launchChromium, openPage, plotted, viewerStats } from './browser.js';
import { TestWriter, waveY } from './writer.js';
import { startBridge } from '../bridge/helpers/bridge-cli.js';
import { until } from '../helpers/wait.js';

let browser: Browser;
let s: TestServer;
beforeAll(async () => {
  [browser, s] = await Promise.all([launchChromium(), testServer()]);
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

const POLL = { timeout: 10_000, interval: 50 };

const textOf = (page: Page, selector: string): Promise<string | null> => page.locator(selector).first().textContent();
const stateOf = (page: Page): Promise<string | null> => page.locator('#state').getAttribute('data-state');
const live = (page: Page): Promise<void> => expect.poll(() => stateOf(page), POLL).toBe('live');

async function openPlot(url: string): Promise<Page & { errors: string[] }> {
  const page = await openPage(browser);
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  await live(page);
  return page;
}

const closeAll = (...pages: Page[]): Promise<void[]> => Promise.all(pages.map((p) => p.context().close()));

describe('live points', () => {
  it('two browsers on one plot both show the same new points, text padded with nulls as on the server', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'two viewers' }, 1000);
    const [a, b] = await Promise.all([openPlot(plot.url as string), openPlot(plot.url as string)]);
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    writer.push(5);
    writer.push(5, true);
    writer.push(5);
    const want = { x: writer.xs, y: writer.points.map((p) => p.y), text: writer.points.map((p) => p.text) };
    for (const page of [a, b]) await expect.poll(() => plotted(page), POLL).toEqual([want]);
    // The server's own figure holds the same.
    const fig = (await api(s, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { data: Record<string, unknown>[] };
    expect(fig.data[0]).toMatchObject(want);
    for (const page of [a, b]) expect((await viewerStats(page)).received).toBe(15);
    expect(await writer.end()).toMatchObject({ status: 200, points: 15 });
    expect([...a.errors, ...b.errors]).toEqual([]);
    await closeAll(a, b);
  });

  it("an owner's layout edit shows live in another browser", async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'before' });
    const viewer = await openPlot(plot.url as string);
    await expect.poll(() => textOf(viewer, '#title'), POLL).toBe('before');
    const res = await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { title: 'after the edit', layout: { yaxis: { title: { text: 'BPM' } } } });
    expect(res.status).toBe(200);
    await expect.poll(() => textOf(viewer, '#title'), POLL).toBe('after the edit');
    await expect.poll(() => viewer.title(), POLL).toBe('after the edit · plotwire');
    const yTitle = () => viewer.evaluate(() => (document.getElementById('plot') as unknown as { layout: { yaxis?: { title?: { text?: string } } } }).layout.yaxis?.title?.text);
    await expect.poll(yTitle, POLL).toBe('BPM');
    await closeAll(viewer);
  });

  it('a late joiner gets the history up to maxpoints, then the new points', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], {}, 300);
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    for (let i = 0; i < 8; i++) writer.push(100);
    await expect.poll(async () => ((await api(s, 'GET', `/api/v1/plots/${plot.id}`)).json.figure as { data: { x: number[] }[] }).data[0]?.x.at(-1), POLL).toBe(799);
    const late = await openPlot(plot.url as string);
    await expect.poll(async () => (await plotted(late))[0]?.x, POLL).toEqual(writer.xs.slice(-300));
    writer.push(50);
    await expect.poll(async () => (await plotted(late))[0]?.x, POLL).toEqual(writer.xs.slice(-300));
    expect((await plotted(late))[0]?.y).toEqual(writer.points.slice(-300).map((p) => p.y));
    await writer.end();
    await closeAll(late);
  });

  it('traces updated together keep each its own maxpoints', async () => {
    const tokens = [s.newToken(), s.newToken()];
    const res = await api(s, 'POST', '/api/v1/plots', { title: 'two limits', traces: [{ token: tokens[0], maxpoints: 50, mode: 'lines' }, { token: tokens[1], maxpoints: 20, mode: 'lines' }] });
    expect(res.status).toBe(201);
    const page = await openPlot(res.json.url as string);
    const writers = tokens.map((token) => new TestWriter(s.server.url, token as string));
    await Promise.all(writers.map((w) => w.open()));
    // Both streams at once, many times: their appends reach the page together and are drawn in one redraw.
    for (let round = 0; round < 20; round++) {
      for (const w of writers) w.push(10);
      await sleep(15);
    }
    await expect.poll(async () => (await plotted(page)).map((t) => t?.x), POLL).toEqual([writers[0]!.xs.slice(-50), writers[1]!.xs.slice(-20)]);
    await closeAll(page);
  });

  it('a fast stream (2,000 objects/s) leaves the page responsive, drawn at display rate and trimmed to maxpoints', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'fast' }, 1000);
    const page = await openPlot(plot.url as string);
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    const lengths: number[] = [];
    const started = Date.now();
    // 20 single-point Plotly objects every 10 ms, for 3 s; meanwhile the page must keep answering.
    const timer = setInterval(() => writer.pushSingles(20), 10);
    while (Date.now() - started < 3000) {
      const [trace] = await plotted(page);
      lengths.push(trace?.x?.length ?? 0);
      await sleep(100);
    }
    clearInterval(timer);
    const sent = writer.points.length;
    await expect.poll(async () => (await viewerStats(page)).received, POLL).toBe(sent);
    await expect.poll(async () => (await plotted(page))[0]?.x, POLL).toEqual(writer.xs.slice(-1000));
    const stats = await viewerStats(page);
    // Every answer came back during the stream, and the drawn data never grew past maxpoints.
    expect(lengths.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(1000);
    // Appends are coalesced: far fewer draws than updates.
    expect(stats.updates).toBeGreaterThanOrEqual(sent);
    expect(stats.draws).toBeLessThan(stats.updates / 5);
    // The header shows the rate it measured.
    await expect.poll(() => textOf(page, '#rate'), POLL).toMatch(/^[\d,.]+ points\/s · [\d,.]+ updates\/s$|^no new points for \d+ s$/);
    expect(await page.locator('#rate').getAttribute('data-points-per-second')).toMatch(/^\d+(\.\d+)?$/);
    expect(await writer.end()).toMatchObject({ status: 200, points: sent });
    expect(page.errors).toEqual([]);
    await closeAll(page);
  });

  it('the header shows the connection state and the update rate', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    const page = await openPlot(plot.url as string);
    await expect.poll(() => textOf(page, '#state'), POLL).toBe('live');
    await expect.poll(() => textOf(page, '#rate'), POLL).toBe('waiting for points');
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    // 20 objects/s of 10 points: the header settles on about 200 points/s and 20 updates/s.
    const timer = setInterval(() => writer.push(10), 50);
    await expect.poll(async () => Number(await page.locator('#rate').getAttribute('data-points-per-second')), POLL).toBeGreaterThan(50);
    await expect.poll(() => textOf(page, '#rate'), POLL).toMatch(/^\d+(\.\d)? points\/s · \d+(\.\d)? updates\/s$/);
    clearInterval(timer);
    await writer.end();
    await expect.poll(() => textOf(page, '#rate'), POLL).toMatch(/^no new points for \d+ s$/);
    await api(s, 'DELETE', `/api/v1/plots/${plot.id}`);
    await expect.poll(() => textOf(page, '#state'), POLL).toBe('plot deleted');
    await closeAll(page);
  });
});

describe('embedding', () => {
  it('the embed shows live points inside another site’s iframe; the share page refuses to be framed', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'framed' });
    const host = await openPage(browser);
    await host.setContent(`<iframe src="${plot.embed_url}" width="600" height="360"></iframe><iframe src="${plot.url}" width="300" height="200"></iframe>`);
    const frameAt = (url: string) => host.frames().find((f) => f.url() === url);
    await expect.poll(() => frameAt(plot.embed_url as string)?.locator('#state').getAttribute('data-state'), POLL).toBe('live');
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    writer.push(12);
    const embedded = frameAt(plot.embed_url as string);
    await expect.poll(() => embedded?.evaluate(() => (document.getElementById('plot') as unknown as { data: { x: number[] }[] }).data[0]?.x), POLL).toEqual(writer.xs);
    // The host here is about:blank, as notebook outputs and local files are. The share page says frame-ancestors 'self': an error in its place.
    await expect.poll(() => host.frames().length, POLL).toBe(3);
    expect(frameAt(plot.url as string)).toBeUndefined();
    await writer.end();
    await closeAll(host);
  });
});

describe('reconnecting', () => {
  const freePort = (): Promise<number> =>
    new Promise((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });

  it('a viewer whose connection drops (the server restarts) resumes and misses no point, none doubled', async () => {
    const data = tempDir();
    const port = await freePort();
    let server = await serverProcess(data.dir, ['--port', String(port)]);
    try {
      // The first start creates user "plotwire" and logs its key (just after "listening").
      const defaultUser = () => server.logs.find((l) => l.event === 'default-user');
      await expect.poll(defaultUser, POLL).toBeDefined();
      const apiKey = defaultUser()?.apiKey as string;
      const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
      const { token } = (await (await fetch(`${server.url}/api/v1/tokens`, { method: 'POST', headers: auth })).json()) as { token: string };
      const plot = (await (await fetch(`${server.url}/api/v1/plots`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'restart', traces: [{ token, maxpoints: 10_000 }] }) })).json()) as { url: string };
      const page = await openPlot(plot.url);
      const writer = new TestWriter(server.url, token);
      await writer.open();
      for (let i = 0; i < 10; i++) {
        writer.push(7);
        await sleep(20);
      }
      await expect.poll(async () => (await viewerStats(page)).received, POLL).toBe(70);

      // Stop: the viewer loses its event stream and says so; the writer keeps making points.
      await server.stop('SIGTERM');
      expect(await writer.ended()).toMatchObject({ status: 503 });
      await expect.poll(() => stateOf(page), POLL).not.toBe('live');
      await expect.poll(() => textOf(page, '#state'), POLL).toMatch(/reconnecting|offline/);
      for (let i = 0; i < 5; i++) writer.push(9);

      server = await serverProcess(data.dir, ['--port', String(port)]);
      expect(await writer.resume()).toBe(70);
      for (let i = 0; i < 10; i++) {
        writer.push(6);
        await sleep(20);
      }
      await live(page);
      const sent = writer.points.length;
      await expect.poll(async () => (await plotted(page))[0]?.x, POLL).toEqual(writer.xs);
      expect((await plotted(page))[0]?.y).toEqual(writer.xs.map(waveY));
      // Resumed, not reloaded: every point arrived once as an append (an init would leave the count short).
      expect((await viewerStats(page)).received).toBe(sent);
      expect(await writer.end()).toMatchObject({ status: 200, next: sent });
      await closeAll(page);
    } finally {
      await server.stop('SIGTERM');
      data.remove();
    }
  });
});

describe('private plots', () => {
  it('are refused without login, shown with the share link, and shown after logging in through /login', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'private heart', world_readable: false });
    const path = new URL(plot.url as string).pathname;
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    writer.push(20);

    const stranger = await openPage(browser);
    const refused = await stranger.goto(plot.url as string);
    expect(refused?.status()).toBe(404);
    await expect.poll(() => textOf(stranger, 'h1'), POLL).toBe('No plot here you may see');
    expect(await stranger.locator('#plot').count()).toBe(0);
    expect((await fetch(`${plot.url}/events`)).status).toBe(404);
    expect((await fetch(`${plot.url}.json`)).status).toBe(404);

    const withLink = await openPlot(plot.share_url as string);
    await expect.poll(async () => (await plotted(withLink))[0]?.x, POLL).toEqual(writer.xs);

    // The refused page links to the login form, which comes back to the plot.
    await stranger.getByRole('link', { name: 'Log in' }).click();
    await stranger.getByLabel('User').fill(s.user);
    await stranger.getByLabel('API key').fill('not the key');
    await stranger.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => textOf(stranger, '.error'), POLL).toBe('That user name and API key do not match.');
    await stranger.getByLabel('User').fill(s.user);
    await stranger.getByLabel('API key').fill(s.apiKey);
    await stranger.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => stranger.url(), POLL).toBe(plot.url);
    expect(new URL(stranger.url()).pathname).toBe(path);
    await live(stranger);
    writer.push(5);
    for (const page of [stranger, withLink]) await expect.poll(async () => (await plotted(page))[0]?.x, POLL).toEqual(writer.xs);
    await writer.end();
    await closeAll(stranger, withLink);
  });
});

describe('markup in titles', () => {
  const evil = `<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">"quoted" & 'single'`;

  it('is shown as text and runs nothing, on the page, in the embed and after a live edit', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'harmless' });
    const page = await openPlot(plot.url as string);
    const embed = await openPlot(plot.embed_url as string);
    expect((await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { title: evil })).status).toBe(200);
    await expect.poll(() => textOf(page, '#title'), POLL).toBe(evil);
    await expect.poll(() => page.title(), POLL).toBe(`${evil} · plotwire`);
    // A new page gets the title from the server's HTML.
    const fresh = await openPlot(plot.url as string);
    await expect.poll(() => textOf(fresh, '#title'), POLL).toBe(evil);
    expect(await fresh.evaluate(() => document.querySelector('title')?.textContent)).toBe(`${evil} · plotwire`);
    // plotly.js draws the title in the embed; nothing of it may become an element.
    await expect.poll(() => embed.evaluate(() => document.querySelector('.gtitle')?.textContent ?? ''), POLL).toContain('window.pwned');
    for (const p of [page, fresh, embed]) {
      expect(await p.evaluate(() => ({ pwned: (window as unknown as { pwned?: number }).pwned, imgs: document.querySelectorAll('img').length, scripts: Array.from(document.scripts, (el) => el.getAttribute('src')) }))).toEqual({
        pwned: undefined,
        imgs: 0,
        scripts: ['/static/plotly.min.js', '/static/viewer.js'],
      });
      expect(p.errors).toEqual([]);
    }
    await closeAll(page, fresh, embed);
  });
});

// Generous: the machine is shared, and these pages hold up to 180,000 points.
const SLOW = { timeout: 30_000, interval: 100 };

type Held = { x: number[]; y: number[] };
const held = (page: Page): Promise<Held> => page.evaluate(() => (window as unknown as { plotwire: { held(i: number): Held } }).plotwire.held(0));
const waiting = (page: Page): Promise<number> => page.evaluate(() => (window as unknown as { plotwire: { waiting(): number } }).plotwire.waiting());
const lastX = async (page: Page): Promise<unknown> => (await plotted(page))[0]?.x?.at(-1);

describe('pause and history', () => {
  it('Pause holds the last x while points arrive and counts them; Resume catches up with none missing', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'pause' }, 2000);
    const page = await openPlot(plot.url as string);
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    writer.push(100);
    await expect.poll(() => lastX(page), SLOW).toBe(99);

    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Resume' }).getAttribute('aria-pressed'), SLOW).toBe('true');
    for (let i = 0; i < 3; i++) {
      writer.push(100);
      await sleep(50);
    }
    await expect.poll(() => waiting(page), SLOW).toBe(300);
    await expect.poll(() => page.locator('#waiting').textContent(), SLOW).toBe('300 new points waiting');
    // Everything arrived and is held, but the view still ends where it was paused.
    expect((await held(page)).x).toEqual(writer.xs);
    expect(await lastX(page)).toBe(99);

    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(async () => (await plotted(page))[0]?.x, SLOW).toEqual(writer.xs);
    expect((await plotted(page))[0]?.y).toEqual(writer.points.map((p) => p.y));
    expect(await page.locator('#waiting').isHidden()).toBe(true);
    await writer.end();
    expect(page.errors).toEqual([]);
    await page.context().close();
  });

  it('a view zoomed two minutes into the past shows its points from stored history, and keeps them while 30 s more arrive', async () => {
    const token = s.newToken();
    // Device time in seconds at 1 kHz; a 10 s window (10,000 points) of 150 s streamed at once.
    const plot = await createPlot(s, [token], { title: 'history' }, 10_000);
    const page = await openPlot(plot.url as string);
    const writer = new TestWriter(s.server.url, token, (seq) => seq / 1000);
    await writer.open();
    for (let i = 0; i < 150; i++) writer.push(1000);
    await expect.poll(() => lastX(page), SLOW).toBe(149.999);
    expect((await held(page)).x[0]).toBeGreaterThan(100);

    // What a drag over the x axis does: plotly.js relayouts x and tells the page.
    await page.evaluate(() => (window as unknown as { Plotly: { relayout(el: unknown, u: unknown): Promise<unknown> } }).Plotly.relayout(document.getElementById('plot'), { 'xaxis.range[0]': 28, 'xaxis.range[1]': 30 }));
    const inRange = (p: { x: number }) => p.x >= 28 && p.x <= 30;
    const want = writer.points.filter(inRange);
    const shown = async () => {
      const [t] = await plotted(page);
      const xs = (t?.x ?? []) as number[];
      const ys = (t?.y ?? []) as number[];
      return xs.map((x, i) => ({ x, y: ys[i] })).filter(inRange);
    };
    await expect.poll(shown, SLOW).toEqual(want.map(({ x, y }) => ({ x, y })));
    expect(want).toHaveLength(2001);
    await expect.poll(() => page.getByRole('button', { name: 'Resume' }).count(), SLOW).toBe(1);

    // 30 s more (device time): they arrive and wait; the view keeps its points.
    for (let i = 0; i < 30; i++) writer.push(1000);
    await expect.poll(async () => (await held(page)).x.at(-1), SLOW).toBe(179.999);
    expect(await waiting(page)).toBe(30_000);
    expect(await shown()).toEqual(want.map(({ x, y }) => ({ x, y })));

    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(async () => (await plotted(page))[0]?.x?.length, SLOW).toBeLessThanOrEqual(10_000);
    await expect.poll(() => lastX(page), SLOW).toBe(179.999);
    await writer.end();
    expect(page.errors).toEqual([]);
    await page.context().close();
  }, 120_000);
});

describe('state and readouts', () => {
  it('says stalled when the writer stops sending, and live again when points come back', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'stall' });
    const page = await openPlot(plot.url as string);
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    for (let i = 0; i < 10; i++) {
      writer.push(5);
      await sleep(50);
    }
    await expect.poll(() => stateOf(page), SLOW).toBe('live');
    await expect.poll(() => stateOf(page), SLOW).toBe('stalled');
    expect(await page.locator('#state').textContent()).toBe('stalled');
    writer.push(5);
    await expect.poll(() => stateOf(page), SLOW).toBe('live');
    await writer.end();
    await page.context().close();
  });

  it('a trace marked for a readout shows its last value big, with its unit', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [], {
      title: 'heart',
      traces: [{ token, maxpoints: 100, name: 'heart rate', mode: 'lines+markers', meta: { readout: 'BPM' } }],
    });
    const page = await openPlot(plot.url as string);
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    const readout = page.getByRole('status', { name: 'heart rate' });
    for (let i = 1; i <= 3; i++) {
      writer.push(i);
      const last = writer.points.at(-1)?.y as number;
      await expect.poll(() => readout.locator('.value').textContent(), SLOW).toBe(String(last));
    }
    expect(await readout.locator('.unit').textContent()).toBe('BPM');
    await writer.end();
    await page.context().close();
  });
});

describe("the owner's editor", () => {
  /** A page logged in as the test user through the login form. */
  async function ownerPage(next: string): Promise<Page & { errors: string[] }> {
    const page = await openPage(browser);
    await page.goto(`${s.server.url}/login?next=${encodeURIComponent(next)}`);
    await page.getByLabel('User').fill(s.user);
    await page.getByLabel('API key').fill(s.apiKey);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => new URL(page.url()).pathname, POLL).toBe(next.split('?')[0]);
    return page;
  }
  const plotLayout = (page: Page) => page.evaluate(() => (document.getElementById('plot') as unknown as { layout: { yaxis?: { range?: number[] } } }).layout.yaxis?.range);
  const traceName = (page: Page) => page.evaluate(() => (document.getElementById('plot') as unknown as { data: { name?: string }[] }).data[0]?.name);

  it("an owner's edit of the title, a y range and a trace name shows live in a second browser; a non-owner has no editor", async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'before the edit' });
    const path = new URL(plot.url as string).pathname;
    const owner = await ownerPage(path);
    await live(owner);
    const other = await openPlot(plot.url as string);
    expect(await other.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await other.locator('#editor').count()).toBe(0);

    await owner.getByRole('button', { name: 'Edit' }).click();
    const editor = owner.getByRole('complementary', { name: 'Edit plot' });
    await editor.getByLabel('Title', { exact: true }).fill('edited in place');
    await editor.getByLabel('Y axis range', { exact: true }).selectOption('fixed');
    await editor.getByLabel('Y axis from', { exact: true }).fill('0');
    await editor.getByLabel('Y axis to', { exact: true }).fill('1000');
    await editor.getByLabel('Trace 1 name', { exact: true }).fill('pulse');
    await editor.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => editor.isHidden(), POLL).toBe(true);

    for (const page of [other, owner]) {
      await expect.poll(() => textOf(page, '#title'), POLL).toBe('edited in place');
      await expect.poll(() => plotLayout(page), POLL).toEqual([0, 1000]);
      await expect.poll(() => traceName(page), POLL).toBe('pulse');
    }
    const saved = (await api(s, 'GET', `/api/v1/plots/${plot.id}`)).json as { title: string; figure: { data: { name: string }[] } };
    expect(saved.title).toBe('edited in place');
    expect(saved.figure.data[0]?.name).toBe('pulse');

    // The session edits only from this server's pages: another Origin, or none, is refused.
    const cookie = (await owner.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    for (const headers of [{ origin: 'http://evil.example' }, {}] as Record<string, string>[]) {
      const res = await fetch(`${s.server.url}/api/v1/plots/${plot.id}`, { method: 'PATCH', headers: { cookie, 'content-type': 'application/json', ...headers }, body: '{"title":"hijacked"}' });
      expect(res.status).toBe(403);
    }
    expect([...owner.errors, ...other.errors]).toEqual([]);
    await closeAll(owner, other);
  });

  it('the plot list renames, copies the link of and deletes a plot', async () => {
    const plot = await createPlot(s, [s.newToken()], { title: 'listed plot', world_readable: false });
    const page = await ownerPage('/');
    const item = page.locator(`li[data-plot-id="${plot.id}"]`);
    await item.getByRole('button', { name: 'Rename listed plot' }).click();
    await item.getByLabel('New title').fill('renamed plot');
    await item.getByRole('button', { name: 'Save title' }).click();
    await expect.poll(() => item.getByRole('link').textContent(), POLL).toBe('renamed plot');
    expect((await api(s, 'GET', `/api/v1/plots/${plot.id}`)).json.title).toBe('renamed plot');

    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await item.getByRole('button', { name: /^Copy link of/ }).click();
    await expect.poll(() => item.locator('.status').textContent(), POLL).toBe('Link copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(plot.share_url);

    await item.getByRole('button', { name: /^Delete/ }).click();
    await item.getByRole('button', { name: /^Delete/ }).click();
    await expect.poll(() => item.count(), POLL).toBe(0);
    expect((await api(s, 'GET', `/api/v1/plots/${plot.id}`)).status).toBe(404);
    expect(page.errors).toEqual([]);
    await closeAll(page);
  });
});

describe('the board status', () => {
  it('shows what the board says through the real bridge: the signal state, and a lead off within a second', async () => {
    const [ecg, lead, sig] = [s.newToken(), s.newToken(), s.newToken()];
    const bridge = startBridge(
      ['--serial', '-', '--server', s.server.url, '--reset-wait', '0', '--map', `v=${ecg}`, '--map', `lead.off=${lead}`, '--map', `quality.sig=${sig}`, '--create-plot', 'board status', '--api-key', s.apiKey],
      { stdin: true },
    );
    const send = (line: string): boolean => bridge.child.stdin?.write(`${line}\n`) ?? false;
    try {
      send('{"hello":1,"fw":"0.1.0","board":"uno","rate":100,"ch":["v"]}');
      const created = await bridge.waitFor((r) => r.event === 'plot-created');
      const page = await openPlot(created.url as string);
      const flag = (kind: string) => page.locator(`#board .flag[data-kind="${kind}"]`);
      for (let n = 0; n < 5; n++) send(`{"n":${n},"t":${n * 10},"v":${n}}`);
      send('{"ev":"quality","sig":"noisy","q":20,"n":5,"t":50}');
      await expect.poll(() => flag('signal').textContent(), SLOW).toBe('signal too noisy: no beats');
      expect(await flag('signal').getAttribute('data-level')).toBe('warn');

      send('{"ev":"lead","off":true,"n":6,"t":60}');
      await until('"lead off" on the page', async () => (await flag('lead').textContent()) === 'lead off', 1000);
      expect(await flag('lead').getAttribute('data-level')).toBe('alert');
      expect(await page.getByRole('status', { name: 'Board status' }).textContent()).toContain('lead off');

      send('{"ev":"lead","off":false,"n":7,"t":70}');
      send('{"ev":"quality","sig":"ok","q":90,"n":8,"t":80}');
      await expect.poll(() => page.locator('#board').textContent(), SLOW).toBe('leads onsignal ok');
      expect(page.errors).toEqual([]);
      await closeAll(page);
    } finally {
      await bridge.stop();
    }
  }, 60_000);
});

describe('long live lines', () => {
  /**
   * The canvas read back against the points the page holds: each point in view lights a pixel
   * within a pixel of where plotly.js's axes put it, and nothing is lit in a column beyond the
   * span of its points (joined to the point before), so a blank or a filled canvas both fail.
   */
  const canvasCheck = `(() => {
    const el = document.getElementById('plot');
    const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    const c = document.querySelector('canvas.live-lines');
    const r = window.devicePixelRatio || 1;
    const img = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    // The canvas covers the plot areas only: pixels counted from its corner.
    const ox = c.getBoundingClientRect().left - el.getBoundingClientRect().left, oy = c.getBoundingClientRect().top - el.getBoundingClientRect().top;
    const lit = (X, Y) => { X -= Math.round(ox * r); Y -= Math.round(oy * r); return X >= 0 && Y >= 0 && X < c.width && Y < c.height && img.data[(Y * c.width + X) * 4 + 3] > 0; };
    const h = window.plotwire.held(0);
    const x0 = xa.r2l(xa.range[0]);
    const missed = [];
    const spans = new Map();
    let before;
    for (let k = 0; k < h.x.length; k++) {
      if (h.x[k] < x0) continue;
      const px = Math.round(xa._offset + xa.l2p(h.x[k]));
      const py = ya._offset + ya.l2p(h.y[k]);
      const span = spans.get(px) || [py, py];
      span[0] = Math.min(span[0], py, before ?? py); span[1] = Math.max(span[1], py, before ?? py);
      spans.set(px, span);
      before = py;
      let hit = false;
      for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) if (lit(Math.round((px + dx) * r), Math.round((Math.round(py) + dy) * r))) hit = true;
      if (!hit) missed.push([h.x[k], h.y[k]]);
    }
    // A line 2 pixels wide lights its neighbour columns too: a column may show its neighbours' spans.
    let stray = 0;
    for (const px of spans.keys()) {
      const near = [spans.get(px - 1), spans.get(px), spans.get(px + 1)].filter(Boolean);
      const lo = Math.min(...near.map((n) => n[0])), hi = Math.max(...near.map((n) => n[1]));
      for (let Y = 0; Y < el.clientHeight * r; Y++) if (lit(Math.round(px * r), Y) && (Y / r < lo - 3 || Y / r > hi + 3)) stray++;
    }
    return { missed: missed.length, stray, columns: spans.size, last: h.x[h.x.length - 1], right: xa.r2l(xa.range[1]) };
  })()`;
  const counts = (page: Page): Promise<{ draws: number; plotly: number; lines: number }> =>
    page.evaluate('({ draws: window.plotwire.draws(), plotly: window.plotwire.plotlyDraws(), lines: window.plotwire.canvasLines() })');

  it('are drawn on the canvas through every point; new points are drawn by the canvas alone until the line reaches the right edge', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token], { title: 'long line' }, 10_000);
    const page = await openPlot(plot.url as string);
    const writer = new TestWriter(s.server.url, token);
    await writer.open();
    for (let i = 0; i < 8; i++) writer.push(1000);
    await expect.poll(async () => (await viewerStats(page)).received, SLOW).toBe(8000);
    await expect.poll(async () => (await counts(page)).lines, SLOW).toBe(1);
    await expect.poll(async () => (await page.evaluate(canvasCheck)) as Record<string, number>, SLOW).toMatchObject({ missed: 0, stray: 0, last: 7999 });

    // 500 points more in small batches, 6 % of the span shown, within the room ahead of the line.
    const before = await counts(page);
    for (let i = 0; i < 20; i++) {
      writer.push(25);
      await sleep(30);
    }
    await expect.poll(async () => ((await page.evaluate(canvasCheck)) as { last: number }).last, SLOW).toBe(8499);
    const after = await counts(page);
    expect(after.draws - before.draws).toBeGreaterThanOrEqual(5);
    expect(after.plotly - before.plotly).toBeLessThanOrEqual(1);
    const check = (await page.evaluate(canvasCheck)) as { missed: number; stray: number; columns: number; last: number; right: number };
    expect(check).toMatchObject({ missed: 0, stray: 0 });
    expect(check.columns).toBeGreaterThan(500);
    expect(check.right).toBeGreaterThanOrEqual(check.last);
    expect(await writer.end()).toMatchObject({ status: 200 });
    expect(page.errors).toEqual([]);
    await page.context().close();
  });
});

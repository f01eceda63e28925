/**
 * The viewer's drawing speed: 1, 4 and 8 channels at 1 kHz each, a 10 s window (10,000 points a
 * trace), in headless Chromium (no GPU). Per case: frames drawn a second, the CPU Chromium takes
 * (all its processes, % of one core) and points lost (sent minus received by the page once the
 * writers stop), for plotwire's viewer and, in the same run, a bare plotly.js page on the same
 * event stream doing what a page does without plotwire's drawing (extendTraces with maxpoints at
 * each animation frame). Target (issue 14): >= 30 fps at 8 x 1 kHz with nothing lost. A page
 * draws only when new points came: with one channel (20 batches a second) 20 fps is the most there is to draw.
 */
import { chromium, type Page } from 'playwright-core';
import { createLogger } from '../shared/log.js';
import { startServer } from '../server/index.js';
import { tempDir } from '../test/server/helpers.js';
import { TestWriter } from '../test/e2e/writer.js';
import { childNamed, sleep, treeCpuSeconds } from './lib/processes.js';
import { printTable, verdict } from './lib/table.js';
import { BenchError } from './lib/bench-error.js';

const RATE_HZ = 1000;
const WINDOW_S = 10;
const BATCH_MS = 50;
const WARMUP_S = 3;
const MEASURE_S = 10;
const TARGET_FPS = 30;
const CHANNELS = [1, 4, 8];

/** The bare page: plotly.js alone on the plot's event stream, the way a page without plotwire's viewer draws it. */
const barePage = (eventsUrl: string): string => `<!doctype html><html><head><script src="/static/plotly.min.js"></script></head>
<body style="margin:0"><div id="plot" style="width:100vw;height:100vh"></div><script>
const el = document.getElementById('plot');
let draws = 0, pending = new Map(), busy = false, requested = false, maxpoints = [];
window.bare = { draws: () => draws };
function draw() {
  requested = false;
  if (busy || pending.size === 0) return;
  const batch = pending; pending = new Map(); busy = true;
  const indices = [...batch.keys()];
  const update = { x: indices.map((i) => batch.get(i).x), y: indices.map((i) => batch.get(i).y) };
  Plotly.extendTraces(el, update, indices, indices.map((i) => maxpoints[i])).then(() => { draws++; busy = false; if (pending.size) schedule(); });
}
function schedule() { if (!requested) { requested = true; requestAnimationFrame(draw); } }
const source = new EventSource(${JSON.stringify(eventsUrl)});
source.addEventListener('init', (e) => {
  const fig = JSON.parse(e.data);
  maxpoints = fig.data.map((t) => t.stream.maxpoints);
  Plotly.react(el, fig.data, fig.layout, { responsive: true });
});
source.addEventListener('append', (e) => {
  const m = JSON.parse(e.data);
  for (const i of m.traces) {
    const p = pending.get(i) || { x: [], y: [] };
    p.x.push(...m.update.x); p.y.push(...m.update.y);
    pending.set(i, p);
  }
  schedule();
});
</script></body></html>`;

interface Result {
  readonly fps: number;
  readonly cpu: number;
  readonly lost: number;
}

const draws = (page: Page, bare: boolean): Promise<number> =>
  page.evaluate((isBare) => {
    const w = window as unknown as Record<string, { draws(): number }>;
    return (isBare ? w.bare : w.plotwire)?.draws() ?? 0;
  }, bare);

/** The x of trace i the page holds: all of it in plotwire's viewer (it draws fewer), what plotly.js has on the bare page. */
const windowXs = (page: Page, bare: boolean, i: number): Promise<number[]> =>
  page.evaluate(
    ([isBare, index]) => {
      if (isBare) return ((document.getElementById('plot') as unknown as { data: { x: number[] }[] }).data[index]?.x ?? []).slice();
      return (window as unknown as { plotwire: { held(i: number): { x: number[] } } }).plotwire.held(index).x;
    },
    [bare, i] as const,
  );

async function run(): Promise<void> {
  const data = tempDir('plotwire-bench-viewer-');
  const server = await startServer({ dataDir: data.dir, port: 0, createDefaultUser: false, log: createLogger({ quiet: true }) });
  const { user } = server.core.accounts.addUser('bench');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const chromiumPid = childNamed(process.pid, 'chromium');
  if (chromiumPid === undefined) throw new BenchError('no chromium process under this one');

  async function measure(channels: number, bare: boolean): Promise<Result> {
    const tokens = Array.from({ length: channels }, () => server.core.accounts.createToken(user.id));
    const maxpoints = RATE_HZ * WINDOW_S;
    const plot = await server.core.service.create(user.id, {
      filename: `bench ${channels} ${bare ? 'bare' : 'plotwire'} ${Date.now()}`,
      layout: { title: { text: `${channels} x 1 kHz` }, xaxis: { title: { text: 'seconds' } }, showlegend: false },
      traces: tokens.map((t) => ({ props: { type: 'scatter', mode: 'lines', line: { width: 1 } }, tokenId: t.row.id, maxpoints })),
      worldReadable: true,
    });
    const url = `${server.url}/~${plot.owner}/${plot.fileId}`;
    const writers = tokens.map((t) => new TestWriter(server.url, t.token, (seq) => seq / RATE_HZ));
    await Promise.all(writers.map((w) => w.open()));
    // A full window first, so every draw is of 10,000 points a trace.
    for (const w of writers) for (let i = 0; i < WINDOW_S; i++) w.push(RATE_HZ);
    while (tokens.some((t) => server.core.store.token(t.row.id).committedNext < maxpoints)) await sleep(20);
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    if (bare) {
      await page.route(`${server.url}/bare`, (route) => route.fulfill({ contentType: 'text/html', body: barePage(`${url}/events`) }));
      await page.goto(`${server.url}/bare`);
    } else await page.goto(url);
    await page.waitForFunction(() => (document.getElementById('plot') as unknown as { data?: unknown[] }).data?.length);
    // 1 kHz a channel, one batch per 50 ms per channel, as the bridge sends; the channels' windows
    // are spread over the 50 ms (independent boards and timers), so new points come more often than 20 times a second.
    const perBatch = (RATE_HZ * BATCH_MS) / 1000;
    let open = true;
    const started = performance.now();
    const batches = writers.map(() => 0);
    const feeding = (async () => {
      while (open) {
        const now = performance.now() - started;
        writers.forEach((w, k) => {
          const due = Math.floor((now - (k * BATCH_MS) / channels) / BATCH_MS);
          for (; (batches[k] as number) < due; batches[k]!++) w.push(perBatch);
        });
        await sleep(2);
      }
    })();
    await sleep(WARMUP_S * 1000);
    const a = await draws(page, bare);
    const cpuA = treeCpuSeconds(chromiumPid as number);
    const t0 = performance.now();
    await sleep(MEASURE_S * 1000);
    const b = await draws(page, bare);
    const cpuB = treeCpuSeconds(chromiumPid as number);
    const seconds = (performance.now() - t0) / 1000;
    open = false;
    await feeding;
    // Lost: of each channel's last window, the points the page does not hold once the writers stopped and the stream settled (30 s at most).
    let lost = 0;
    for (let waited = 0; waited < 30_000; waited += 200) {
      lost = 0;
      for (const [i, w] of writers.entries()) {
        const shown = new Set(await windowXs(page, bare, i));
        lost += w.xs.slice(-maxpoints).filter((x) => !shown.has(x)).length;
      }
      if (lost === 0) break;
      await sleep(200);
    }
    await Promise.all(writers.map((w) => w.end()));
    await context.close();
    return { fps: (b - a) / seconds, cpu: ((cpuB - cpuA) / seconds) * 100, lost };
  }

  const rows: (string | number)[][] = [];
  try {
    for (const channels of CHANNELS) {
      const mine = await measure(channels, false);
      const bare = await measure(channels, true);
      rows.push([channels, Math.round(mine.fps * 10) / 10, Math.round(mine.cpu), mine.lost, Math.round(bare.fps * 10) / 10, Math.round(bare.cpu), bare.lost, channels === 8 ? verdict(mine.fps >= TARGET_FPS && mine.lost === 0) : '']);
    }
  } finally {
    await browser.close();
    await server.close();
    data.remove();
  }
  printTable(
    `Viewer drawing: N channels x 1 kHz, ${WINDOW_S} s window, ${MEASURE_S} s measured after ${WARMUP_S} s, 1280x720 headless Chromium (Chromium CPU: % of one core, all its processes)`,
    ['channels', 'plotwire fps', 'plotwire CPU %', 'plotwire lost', 'bare plotly.js fps', 'bare CPU %', 'bare lost', `>= ${TARGET_FPS} fps, none lost`],
    rows,
  );
}

await run();

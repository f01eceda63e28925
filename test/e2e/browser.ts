/// <reference lib="dom" />
// (for the functions that page.evaluate runs in the browser)
/** Headless Debian Chromium through playwright-core (never a downloaded browser), for the viewer's tests. */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** A fresh Chromium (playwright gives it a new temporary user-data dir each launch). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A page in its own browser context (own cookies, own connections), failing the test on any page error. */
export async function openPage(browser: Browser): Promise<Page & { errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const page = (await context.newPage()) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.errors.push(msg.text());
  });
  return page;
}

export interface PlottedTrace {
  x?: unknown[];
  y?: unknown[];
  text?: unknown[];
}

/** What plotly.js has drawn: the plot element's data, trace by trace. */
export const plotted = (page: Page): Promise<PlottedTrace[]> =>
  page.evaluate(() => ((document.getElementById('plot') as unknown as { data?: PlottedTrace[] }).data ?? []).map((t) => ({ x: t.x, y: t.y, text: t.text })));

/** The page's own counters (window.plotwire in server/web/viewer.ts). */
export const viewerStats = (page: Page): Promise<{ received: number; updates: number; draws: number; state: string }> =>
  page.evaluate(() => {
    const w = (window as unknown as { plotwire: { received(): number; updates(): number; draws(): number; state(): string } }).plotwire;
    return { received: w.received(), updates: w.updates(), draws: w.draws(), state: w.state() };
  });

/** Every point of each trace's live window, as the viewer holds it (a long line is drawn with fewer). */
export const windowed = (page: Page): Promise<PlottedTrace[]> =>
  page.evaluate(() => (window as unknown as { plotwire: { windows(): PlottedTrace[] } }).plotwire.windows().map((t) => ({ x: t.x, y: t.y, text: t.text })));

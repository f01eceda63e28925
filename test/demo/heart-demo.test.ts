/**
 * The heart-rate demo end to end, seen in headless Debian Chromium: the real Uno image in the
 * simulator, the bridge on its pty, the server, two browsers. What the page draws must be the
 * firmware's output, the same in both browsers, and its heart rate must match the cardiologists'
 * annotations of the recording.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../shared/package-root.js';
import { gunzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { createLogger } from '../../shared/log.js';
import { DEMO_RECORDING, startHeartDemo, type HeartDemo } from '../../demo/heart.js';
import { adcCodes, readSignalVolts } from '../../firmware/sim/recordings.js';
import { tempDir } from '../server/helpers.js';
import { launchChromium, openPage, windowed } from '../e2e/browser.js';
import { layoutProblems } from '../e2e/layout-rules.js';

const data = tempDir();
let demo: HeartDemo;
let browser: Browser;

beforeAll(async () => {
  demo = await startHeartDemo({ dataDir: data.dir, port: 0, log: createLogger({ quiet: true }) });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  data.remove();
});

interface Trace {
  x: string[];
  y: number[];
}
const traces = async (page: Parameters<typeof windowed>[0]): Promise<Trace[]> => (await windowed(page)) as Trace[];


/** Mean heart rate of the annotated beats in [from, to) seconds of MIT-BIH record 100. */
function referenceBpm(fromS: number, toS: number): number {
  const beats = readFileSync(DEMO_RECORDING.replace('.adc.csv.gz', '.beats.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[0]) / 360)
    .filter((t) => t >= fromS && t < toS);
  const rr = beats.slice(1).map((t, i) => t - (beats[i] as number));
  return 60 / (rr.reduce((a, b) => a + b, 0) / rr.length);
}

it('two browsers show the firmware\'s samples and a heart rate within 2 bpm of the reference', async () => {
  const [a, b] = [await openPage(browser), await openPage(browser)];
  await Promise.all([a.goto(demo.shareUrl), b.goto(demo.shareUrl)]);
  await a.waitForFunction(() => ((window as unknown as { plotwire: { windows(): { y: unknown[] }[] } }).plotwire.windows()[0]?.y.length ?? 0) > 1000, undefined, { timeout: 30_000 });

  // Every beat page A showed while the board played the first 30 s of the recording.
  const bpmSeen = new Map<string, number>();
  for (;;) {
    const done = demo.simulation.stats().simulatedMs > 30_500;
    const [, bpm] = await traces(a);
    bpm!.x.forEach((x, i) => bpmSeen.set(x, bpm!.y[i]!));
    if (done) break;
    // The page keeps 12 beats: look again after two more simulated seconds (a beat or two).
    const at = demo.simulation.stats().simulatedMs;
    await until('two more simulated seconds', () => demo.simulation.stats().simulatedMs >= at + 2000, 30_000);
  }

  // Page A's samples are the firmware's: ADC codes of the recording as the board's pin saw them.
  const [ecgA, bpmA] = await traces(a);
  const [ecgB] = await traces(b);
  const codes = Array.from(adcCodes(readSignalVolts(DEMO_RECORDING, demo.simulation.rateHz).volts));
  const shown = ecgA!.y;
  expect(shown.length).toBe(10 * demo.simulation.rateHz);
  const probe = shown.slice(0, 50).join(',');
  const at = codes.join(',').indexOf(probe);
  expect(at, 'the first 50 samples shown appear in the recording').toBeGreaterThanOrEqual(0);
  const offset = codes.join(',').slice(0, at).split(',').length - 1;
  expect(shown).toEqual(codes.slice(offset, offset + shown.length));

  // Page B shows the same points: every time both pages have, with the same value.
  const valueAt = new Map(ecgB!.x.map((x, i) => [x, ecgB!.y[i]]));
  const common = ecgA!.x.filter((x) => valueAt.has(x));
  expect(common.length).toBeGreaterThan(3000);
  for (const x of common) expect(valueAt.get(x)).toBe(ecgA!.y[ecgA!.x.indexOf(x)]);

  // Heart rate shown over the first 30 s against the annotated beats.
  const inWindow = [...bpmSeen.values()];
  expect(inWindow.length).toBeGreaterThan(25);
  const shownBpm = inWindow.reduce((s, v) => s + v, 0) / inWindow.length;
  expect(Math.abs(shownBpm - referenceBpm(0, 30))).toBeLessThanOrEqual(2);
  expect(bpmA!.y.every((v) => v > 30 && v < 200)).toBe(true);
  expect(a.errors).toEqual([]);

  // The big readout beside the plot is the last beat's rate. The page sets it when it draws, so
  // a beat that came since the last draw is not on it yet: readout and trace are read together,
  // in the page, until a draw has caught up (under a loaded CI a beat can land between two reads).
  const readoutAndLastBeat = (): Promise<[string | undefined, string]> =>
    a.getByRole('status', { name: 'heart rate' }).evaluate((el) => [
      (el as HTMLElement).dataset.value,
      String((window as unknown as { plotwire: { windows(): { y: unknown[] }[] } }).plotwire.windows()[1]?.y.at(-1)),
    ]);
  await expect.poll(async () => { const [shown, last] = await readoutAndLastBeat(); return shown === last ? 'same' : `readout ${shown}, last beat ${last}`; }, { timeout: 10_000 }).toBe('same');
  const lastBpm = Number((await readoutAndLastBeat())[1]);
  expect(lastBpm).toBeGreaterThan(30);
  expect(await a.getByRole('status', { name: 'heart rate' }).locator('.unit').textContent()).toBe('BPM');

  // The page says it is live and how fast points arrive (on 2 shared cores the simulated board can
  // fall a second behind while both browsers draw, and the readout then says so: wait it out).
  expect(await a.locator('#state').textContent()).toBe('live');
  await expect.poll(async () => a.locator('#rate').textContent(), { timeout: 10_000 }).toMatch(/points\/s/);
}, 240_000);

it('the page, its embed at 320x240 and 640x400, and dark mode keep the layout rules; their screenshots go to docs/', async () => {
  const shots: { file: string; url: string; width: number; height: number; dark?: boolean }[] = [
    { file: 'demo.png', url: demo.shareUrl, width: 1000, height: 600 },
    { file: 'dark-mode.png', url: demo.shareUrl, width: 1000, height: 600, dark: true },
    { file: 'embed-640x400.png', url: `${demo.shareUrl}.embed`, width: 640, height: 400 },
    { file: 'embed-320x240.png', url: `${demo.shareUrl}.embed`, width: 320, height: 240 },
  ];
  for (const shot of shots) {
    const context = await browser.newContext({ viewport: { width: shot.width, height: shot.height }, colorScheme: shot.dark ? 'dark' : 'light' });
    const page = await context.newPage();
    await page.goto(shot.url);
    // A full window of ECG and a few beats (the demo has been running since the first test).
    await page.waitForFunction(() => ((window as unknown as { plotwire: { windows(): { y: unknown[] }[] } }).plotwire.windows()[1]?.y.length ?? 0) > 3, undefined, { timeout: 30_000 });
    await page.waitForFunction(() => (window as unknown as { plotwire: { draws(): number } }).plotwire.draws() > 5);
    expect(await layoutProblems(page), `${shot.file}: layout rules`).toEqual([]);
    if (shot.dark) expect(await page.evaluate(() => [getComputedStyle(document.documentElement).backgroundColor, (document.querySelector('.main-svg') as SVGElement | null)?.style.background])).toEqual(['rgb(17, 20, 24)', 'rgb(17, 20, 24)']);
    await page.screenshot({ path: join(packageRoot, 'docs', shot.file) });
    await context.close();
  }
}, 120_000);

it('uses the recording the test reads', () => {
  expect(gunzipSync(readFileSync(DEMO_RECORDING)).toString('utf8', 0, 4)).toBe('adc\n');
});

/**
 * A Hans Rosling-style bubble chart: countries move through income and life expectancy year by
 * year, each a bubble sized by its population and labelled with its name, all streamed.
 * Each region is one trace whose maxpoints is its number of countries, so every year's bubbles
 * push out the year before. The figures are a smooth synthetic model (Gapminder-like), not data.
 *   npx tsx examples/bubble-chart.ts --api-key KEY [--server URL] [--seconds N]
 */
import { readFileSync } from 'node:fs';
import { ServerApi, StreamClient } from 'plotwire';
import { exampleArgs, runFor } from './lib/args.js';

const { server, apiKey, seconds } = exampleArgs('bubble-chart', 'Streams a bubble chart of income, life expectancy and population, one year every 200 ms.');

interface Country {
  readonly name: string;
  /** 1950 income per person ($), its yearly growth, 1950 and 2020 life expectancy, 1950 population (millions) and its yearly growth. */
  readonly income: number;
  readonly growth: number;
  readonly life: [number, number];
  readonly pop: number;
  readonly popGrowth: number;
}

/** The model's regions and countries, with their 1950 figures (examples/data/bubble-chart-regions.json). */
const regions = JSON.parse(readFileSync(new URL('./data/bubble-chart-regions.json', import.meta.url), 'utf8')) as Record<string, { color: string; countries: Country[] }>;

const [FIRST, LAST] = [1950, 2020];

/** The model's country in a year: compound growth, and life expectancy along an S-curve. */
function at(c: Country, year: number): { income: number; life: number; pop: number } {
  const t = year - FIRST;
  const s = 1 / (1 + Math.exp(-(t - 35) / 12));
  return { income: c.income * (1 + c.growth) ** t, life: c.life[0] + (c.life[1] - c.life[0]) * s, pop: c.pop * (1 + c.popGrowth) ** t };
}

const api = new ServerApi(server, apiKey);
const traces = [];
for (const [name, region] of Object.entries(regions)) {
  traces.push({ token: await api.createToken(), name, mode: 'markers+text', textposition: 'top center', textfont: { size: 10, color: region.color }, maxpoints: region.countries.length, marker: { color: region.color, sizemode: 'area', sizeref: 0.4, line: { width: 1, color: '#fff' } } });
}
const plot = await api.createPlot({
  title: `Income and life expectancy, ${FIRST}-${LAST} (synthetic model)`,
  traces,
  layout: {
    xaxis: { title: { text: 'income per person ($, log scale)' }, type: 'log', range: [2.5, 5.2] },
    yaxis: { title: { text: 'life expectancy (years)' }, range: [30, 90] },
  },
});
console.log(`streaming to ${plot.url}`);

const clients = traces.map((t) => new StreamClient({ server, token: t.token }).start());
let year = FIRST;
const timer = setInterval(() => {
  Object.values(regions).forEach((region, r) => {
    for (const c of region.countries) {
      const v = at(c, year);
      clients[r]?.push(v.income, v.life, { text: `${c.name} ${year}`, marker: { size: Math.round(v.pop * 10) / 10 } });
    }
  });
  year = year === LAST ? FIRST : year + 1;
}, 200);

await runFor(seconds);
clearInterval(timer);
const stats = await Promise.all(clients.map((c) => c.close()));
console.log(`sent ${stats.reduce((n, s) => n + s.pushed, 0)} bubbles`);

/**
 * A Hans Rosling-style bubble chart: countries move through income and life expectancy year by
 * year, each a bubble sized by its population and labelled with its name, all streamed.
 * Each region is one trace whose maxpoints is its number of countries, so every year's bubbles
 * push out the year before. The figures are a smooth synthetic model (Gapminder-like), not data.
 *   npx tsx examples/bubble-chart.ts --api-key KEY [--server URL] [--seconds N]
 */
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

const regions: Record<string, { color: string; countries: Country[] }> = {
  Asia: {
    color: '#e4572e',
    countries: [
      { name: 'China', income: 800, growth: 0.06, life: [44, 77], pop: 550, popGrowth: 0.013 },
      { name: 'India', income: 900, growth: 0.035, life: [37, 70], pop: 370, popGrowth: 0.019 },
      { name: 'Japan', income: 3000, growth: 0.035, life: [60, 84], pop: 84, popGrowth: 0.005 },
    ],
  },
  Europe: {
    color: '#29335c',
    countries: [
      { name: 'Germany', income: 7000, growth: 0.025, life: [67, 81], pop: 70, popGrowth: 0.002 },
      { name: 'Norway', income: 9000, growth: 0.028, life: [72, 83], pop: 3.3, popGrowth: 0.007 },
      { name: 'Portugal', income: 3500, growth: 0.027, life: [59, 81], pop: 8.4, popGrowth: 0.003 },
    ],
  },
  Africa: {
    color: '#f3a712',
    countries: [
      { name: 'Nigeria', income: 1500, growth: 0.012, life: [36, 55], pop: 38, popGrowth: 0.026 },
      { name: 'Ethiopia', income: 600, growth: 0.015, life: [34, 67], pop: 18, popGrowth: 0.026 },
      { name: 'South Africa', income: 5000, growth: 0.01, life: [45, 65], pop: 14, popGrowth: 0.019 },
    ],
  },
  Americas: {
    color: '#669bbc',
    countries: [
      { name: 'United States', income: 15000, growth: 0.02, life: [68, 79], pop: 158, popGrowth: 0.011 },
      { name: 'Brazil', income: 2300, growth: 0.027, life: [50, 76], pop: 54, popGrowth: 0.018 },
      { name: 'Mexico', income: 4000, growth: 0.02, life: [50, 75], pop: 28, popGrowth: 0.02 },
    ],
  },
};

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
  traces.push({ token: await api.createToken(), name, mode: 'markers', maxpoints: region.countries.length, marker: { color: region.color, sizemode: 'area', sizeref: 0.4, line: { width: 1, color: '#fff' } } });
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

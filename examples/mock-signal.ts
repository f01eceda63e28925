/**
 * A mock signal, Plotly's streaming hello-world: a noisy sine wave at 100 samples a second.
 *   npx tsx examples/mock-signal.ts --api-key KEY [--server URL] [--seconds N]
 */
import { ServerApi, StreamClient } from 'plotwire';
import { exampleArgs, runFor } from './lib/args.js';

const { server, apiKey, seconds } = exampleArgs('mock-signal', 'Streams a noisy 1 Hz sine wave, 100 samples a second, to a new plot.');
const api = new ServerApi(server, apiKey);
const token = await api.createToken();
const plot = await api.createPlot({
  title: 'Mock signal',
  traces: [{ token, name: 'signal', mode: 'lines', maxpoints: 1000 }],
  layout: { xaxis: { title: { text: 'seconds' } }, yaxis: { range: [-1.5, 1.5] } },
});
console.log(`streaming to ${plot.url}`);

const client = new StreamClient({ server, token });
client.on('log', (r) => r.level !== 'info' && console.error(r.message));
client.start();

const start = performance.now();
let sent = 0;
// A timer is late now and then; catching up by the clock keeps exactly 100 samples a second.
const timer = setInterval(() => {
  const due = Math.floor((performance.now() - start) / 10);
  for (; sent <= due; sent++) {
    const t = sent / 100;
    client.push(t, Math.sin(2 * Math.PI * t) + (Math.random() - 0.5) * 0.2);
  }
}, 10);

await runFor(seconds);
clearInterval(timer);
const stats = await client.close();
console.log(`sent ${stats.pushed} points, ${stats.stored} stored`);

/**
 * A double pendulum, integrated live (RK4) and drawn as the trails of its two bobs.
 *   npx tsx examples/double-pendulum.ts --api-key KEY [--server URL] [--seconds N]
 */
import { ServerApi, StreamClient } from 'plotwire';
import { exampleArgs, runFor } from './lib/args.js';

const { server, apiKey, seconds } = exampleArgs('double-pendulum', 'Simulates a double pendulum and streams the paths of both bobs, 50 frames a second.');

const G = 9.81;
const [L1, L2, M1, M2] = [1, 1, 1, 1];
type State = [number, number, number, number]; // angle 1, angle 2, angular velocity 1, 2

/** The equations of motion of a double pendulum (point masses, massless rods). */
function derivative([a1, a2, w1, w2]: State): State {
  const d = a1 - a2;
  const den = 2 * M1 + M2 - M2 * Math.cos(2 * d);
  const dw1 = (-G * (2 * M1 + M2) * Math.sin(a1) - M2 * G * Math.sin(a1 - 2 * a2) - 2 * Math.sin(d) * M2 * (w2 * w2 * L2 + w1 * w1 * L1 * Math.cos(d))) / (L1 * den);
  const dw2 = (2 * Math.sin(d) * (w1 * w1 * L1 * (M1 + M2) + G * (M1 + M2) * Math.cos(a1) + w2 * w2 * L2 * M2 * Math.cos(d))) / (L2 * den);
  return [w1, w2, dw1, dw2];
}

function rk4(s: State, h: number): State {
  const add = (a: State, b: State, k: number): State => a.map((v, i) => v + (b[i] as number) * k) as State;
  const k1 = derivative(s);
  const k2 = derivative(add(s, k1, h / 2));
  const k3 = derivative(add(s, k2, h / 2));
  const k4 = derivative(add(s, k3, h));
  return s.map((v, i) => v + (h / 6) * ((k1[i] as number) + 2 * (k2[i] as number) + 2 * (k3[i] as number) + (k4[i] as number))) as State;
}

const api = new ServerApi(server, apiKey);
const [inner, outer] = [await api.createToken(), await api.createToken()];
const plot = await api.createPlot({
  title: 'Double pendulum',
  traces: [
    { token: inner, name: 'bob 1', mode: 'lines', maxpoints: 50, line: { color: '#1f4e8c' } },
    { token: outer, name: 'bob 2', mode: 'lines', maxpoints: 400, line: { color: '#c81e1e' } },
  ],
  layout: { xaxis: { range: [-2.2, 2.2] }, yaxis: { range: [-2.2, 2.2], scaleanchor: 'x' } },
});
console.log(`streaming to ${plot.url}`);

const clients = [inner, outer].map((token) => new StreamClient({ server, token }).start());
let state: State = [Math.PI / 2, Math.PI, 0, 0];
const timer = setInterval(() => {
  for (let i = 0; i < 20; i++) state = rk4(state, 0.001);
  const [a1, a2] = state;
  const [x1, y1] = [L1 * Math.sin(a1), -L1 * Math.cos(a1)];
  clients[0]?.push(x1, y1);
  clients[1]?.push(x1 + L2 * Math.sin(a2), y1 - L2 * Math.cos(a2));
}, 20);

await runFor(seconds);
clearInterval(timer);
const stats = await Promise.all(clients.map((c) => c.close()));
console.log(`sent ${stats.map((s) => s.pushed).join(' + ')} points`);

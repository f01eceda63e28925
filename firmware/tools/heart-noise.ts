/**
 * The MIT-BIH Noise Stress Test (Moody, Muldrow & Mark 1984; the WFDB program nst) on records we
 * have, with noise we make: the NSTDB noise records are not here, so each kind is synthesized from
 * a seeded generator with the spectrum and shape of its namesake.
 *
 * - bw (baseline wander): a respiration-like sway at 0.15..0.4 Hz and a slow drift below 0.7 Hz.
 * - ma (muscle, EMG-like): Gaussian noise band-limited to 5..100 Hz, in bursts (a slowly varying
 *   log-normal envelope), as muscles tense and relax.
 * - em (electrode motion): the troublesome one: baseline steps that recover over 0.3..1.5 s,
 *   damped 1..8 Hz swings, and sharp biphasic 40..120 ms transients that look like beats, over a
 *   0.5..8 Hz background.
 * - mains: 50 or 60 Hz (by record) with a third harmonic, its amplitude drifting by 20 %.
 * - all: the four together, each with an equal share of the power.
 *
 * Calibrated as nst does: the signal power S is (mean peak-to-peak QRS amplitude)^2 / 8, the
 * amplitudes measured within 50 ms of each reference beat, the largest and smallest 5 % left out
 * (a sine of that peak-to-peak amplitude has that power); the noise power N is the mean of the
 * squared RMS of 1-s windows, the largest and smallest 5 % left out; the noise gain a makes
 * 10 log10(S / (a^2 N)) the asked SNR. nst's standard protocol: the first 5 minutes clean (the
 * detector's learning period), then 2 minutes noisy and 2 clean in turn; at each change of gain
 * an offset keeps the signal continuous. Beats are scored within the noisy segments only.
 */

export const NOISE_KINDS = ['bw', 'ma', 'em', 'mains'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number] | 'all';
export const STRESS_SNRS_DB = [24, 18, 12, 6] as const;

const LEARNING_S = 5 * 60;
const SEGMENT_S = 2 * 60;

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed from a name, so each record gets its own noise, the same on every run. */
export function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Standard normal deviates (Box-Muller, both of each pair used). */
function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const a = 2 * Math.PI * rand();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** One-pole low-pass (in place) at fc Hz. */
function lowPass(x: Float64Array, fc: number, rateHz: number): Float64Array {
  const a = 1 - Math.exp((-2 * Math.PI * fc) / rateHz);
  let y = 0;
  for (let i = 0; i < x.length; i++) x[i] = y += a * (x[i]! - y);
  return x;
}

/** One-pole high-pass (in place) at fc Hz. */
function highPass(x: Float64Array, fc: number, rateHz: number): Float64Array {
  const a = 1 / (1 + (2 * Math.PI * fc) / rateHz);
  let y = 0;
  let prev = x[0] ?? 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y = a * (y + v - prev);
    prev = v;
    x[i] = y;
  }
  return x;
}

function whiteNoise(n: number, rand: () => number): Float64Array {
  const g = gaussian(rand);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = g();
  return x;
}

function normalize(x: Float64Array): Float64Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= Math.max(1, x.length);
  let power = 0;
  for (let i = 0; i < x.length; i++) power += (x[i]! -= mean) ** 2;
  const scale = 1 / Math.sqrt(power / Math.max(1, x.length) || 1);
  for (let i = 0; i < x.length; i++) x[i]! *= scale;
  return x;
}

const uniform = (rand: () => number, lo: number, hi: number): number => lo + (hi - lo) * rand();

function baselineWander(n: number, rateHz: number, rand: () => number): Float64Array {
  const drift = normalize(lowPass(lowPass(highPass(whiteNoise(n, rand), 0.02, rateHz), 0.7, rateHz), 0.7, rateHz));
  const sway = normalize(lowPass(whiteNoise(n, rand), 0.05, rateHz));
  const out = new Float64Array(n);
  let phase = uniform(rand, 0, 2 * Math.PI);
  for (let i = 0; i < n; i++) {
    // Breathing at 0.15..0.4 Hz, its rate and depth wandering.
    const f = 0.27 + 0.12 * Math.tanh(sway[i]!);
    phase += (2 * Math.PI * f) / rateHz;
    out[i] = Math.sin(phase) * (1 + 0.3 * Math.tanh(sway[n - 1 - i]!)) + drift[i]!;
  }
  return normalize(out);
}

function muscle(n: number, rateHz: number, rand: () => number): Float64Array {
  const band = lowPass(lowPass(highPass(whiteNoise(n, rand), 5, rateHz), 100, rateHz), 100, rateHz);
  const envelope = normalize(lowPass(lowPass(whiteNoise(n, rand), 0.3, rateHz), 0.3, rateHz));
  for (let i = 0; i < n; i++) band[i]! *= Math.exp(0.7 * envelope[i]!);
  return normalize(band);
}

function electrodeMotion(n: number, rateHz: number, rand: () => number): Float64Array {
  const out = normalize(lowPass(lowPass(highPass(whiteNoise(n, rand), 0.5, rateHz), 8, rateHz), 8, rateHz));
  for (let i = 0; i < n; i++) out[i]! *= 0.3;
  const g = gaussian(rand);
  // Artefacts come in bursts: a slowly varying rate of about one a second on average.
  const activity = normalize(lowPass(whiteNoise(n, rand), 0.05, rateHz));
  for (let i = 0; i < n; i++) {
    if (rand() >= (Math.exp(activity[i]!) * 0.8) / rateHz) continue;
    const amp = Math.exp(0.5 * g()) * (rand() < 0.5 ? -1 : 1);
    const kind = rand();
    if (kind < 0.4) {
      // A step of the baseline, recovering as the electrode settles.
      const tau = uniform(rand, 0.3, 1.5) * rateHz;
      for (let k = i; k < n && k - i < 6 * tau; k++) out[k]! += amp * Math.exp(-(k - i) / tau);
    } else if (kind < 0.8) {
      const f = uniform(rand, 1, 8);
      const tau = uniform(rand, 0.1, 0.4) * rateHz;
      for (let k = i; k < n && k - i < 5 * tau; k++) out[k]! += amp * Math.exp(-(k - i) / tau) * Math.sin((2 * Math.PI * f * (k - i)) / rateHz);
    } else {
      // Sharp and biphasic, the width of a QRS: what makes electrode motion look like beats.
      const width = uniform(rand, 0.04, 0.12) * rateHz;
      for (let k = i; k < n && k - i < width; k++) out[k]! += 1.5 * amp * Math.sin((2 * Math.PI * (k - i)) / width);
    }
  }
  return normalize(out);
}

function mains(n: number, rateHz: number, rand: () => number, hz: number): Float64Array {
  const drift = normalize(lowPass(whiteNoise(n, rand), 0.1, rateHz));
  const phase = uniform(rand, 0, 2 * Math.PI);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = (2 * Math.PI * hz * i) / rateHz + phase;
    out[i] = (1 + 0.2 * Math.tanh(drift[i]!)) * (Math.sin(w) + 0.2 * Math.sin(3 * w));
  }
  return normalize(out);
}

/** Zero-mean, unit-RMS noise of one kind, n samples at rateHz, from the seed. */
export function makeNoise(kind: (typeof NOISE_KINDS)[number], n: number, rateHz: number, seed: number): Float64Array {
  const rand = seededRandom(seed);
  switch (kind) {
    case 'bw':
      return baselineWander(n, rateHz, rand);
    case 'ma':
      return muscle(n, rateHz, rand);
    case 'em':
      return electrodeMotion(n, rateHz, rand);
    case 'mains':
      return mains(n, rateHz, rand, seed % 2 === 0 ? 50 : 60);
  }
}

/** Each kind of noise for a record (seeded by its name), and all of them mixed. */
export function recordNoises(name: string, n: number, rateHz: number): Map<NoiseKind, Float64Array> {
  const noises = new Map<NoiseKind, Float64Array>(NOISE_KINDS.map((k) => [k, makeNoise(k, n, rateHz, seedOf(`${name}:${k}`))]));
  const all = new Float64Array(n);
  for (const part of noises.values()) for (let i = 0; i < n; i++) all[i]! += part[i]!;
  noises.set('all', normalize(all));
  return noises;
}

/** Mean of the values with the largest and smallest 5 % left out (nst's trimmed mean). */
function trimmedMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * 0.05);
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((a, b) => a + b, 0) / Math.max(1, kept.length);
}

/** nst's signal power: (mean peak-to-peak QRS amplitude)^2 / 8. */
export function signalPower(signal: ArrayLike<number>, beats: readonly number[], rateHz: number): number {
  const half = Math.round(0.05 * rateHz);
  const pp = beats.map((b) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = Math.max(0, b - half); i <= Math.min(signal.length - 1, b + half); i++) {
      lo = Math.min(lo, signal[i]!);
      hi = Math.max(hi, signal[i]!);
    }
    return hi - lo;
  });
  return trimmedMean(pp) ** 2 / 8;
}

/** nst's noise power: the mean squared RMS of 1-s windows. */
export function noisePower(noise: ArrayLike<number>, rateHz: number): number {
  const squares: number[] = [];
  for (let start = 0; start + rateHz <= noise.length; start += rateHz) {
    let sum = 0;
    for (let i = start; i < start + rateHz; i++) sum += noise[i]! ** 2;
    squares.push(sum / rateHz);
  }
  return trimmedMean(squares);
}

/** The noisy segments of the standard protocol, [from, to) in samples. */
export function noisySegments(length: number, rateHz: number): [number, number][] {
  const segments: [number, number][] = [];
  for (let s = LEARNING_S * rateHz; s < length; s += 2 * SEGMENT_S * rateHz) segments.push([s, Math.min(length, s + SEGMENT_S * rateHz)]);
  return segments;
}

/**
 * The record with noise added at snrDb during the protocol's noisy segments: clean + a * noise + b,
 * b changed with each change of gain so the sum does not step.
 */
export function addNoise(signal: ArrayLike<number>, noise: ArrayLike<number>, beats: readonly number[], rateHz: number, snrDb: number): Float64Array {
  const gain = Math.sqrt(signalPower(signal, beats, rateHz) / (noisePower(noise, rateHz) * 10 ** (snrDb / 10)));
  const out = Float64Array.from(signal);
  let offset = 0;
  let i = 0;
  for (const [from, to] of noisySegments(signal.length, rateHz)) {
    for (; i < from; i++) out[i]! += offset;
    const b = offset - gain * noise[from]!;
    for (; i < to; i++) out[i]! += gain * noise[i]! + b;
    offset = gain * noise[to - 1]! + b;
  }
  for (; i < out.length; i++) out[i]! += offset;
  return out;
}

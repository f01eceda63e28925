/**
 * npm run eval:heart [-- --mitdb DIR --ppg DIR --json]: scores the firmware's beat detector (run
 * through the replay tool, on recordings resampled and quantized as the board's 10-bit ADC sees
 * them) against the reference beats, next to the PulseSensorPlayground baseline on the same
 * samples. ECG: Se and +P (a match within 150 ms), per record and gross. PPG: mean heart rate
 * against the chest strap. Exits 1 when a target is missed.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SAMPLE_RATE_HZ } from '../../shared/limits.js';
import { adcCodes, ecgVolts, MITDB_RATE_HZ, ppgVolts, readMitdbFolder, readPpgFolder, RecordingError } from '../sim/recordings.js';
import { pulseSensorBeats } from './pulse-sensor-baseline.js';
import { beatsOf, replayDecoded } from './replay.js';

const root = join(import.meta.dirname, '../..');
const MATCH_MS = 150;
export const TARGETS = { se: 99.5, ppv: 99.5, ppgMaeBpm: 2 } as const;

export interface Match {
  tp: number;
  fn: number;
  fp: number;
}

/** Matches detections to reference beats (both sorted, ms) within toleranceMs, one to one. */
export function matchBeats(refMs: readonly number[], detMs: readonly number[], toleranceMs = MATCH_MS): Match {
  let i = 0;
  let j = 0;
  const m: Match = { tp: 0, fn: 0, fp: 0 };
  while (i < refMs.length && j < detMs.length) {
    const d = detMs[j]! - refMs[i]!;
    if (Math.abs(d) <= toleranceMs) {
      m.tp++;
      i++;
      j++;
    } else if (d < 0) {
      m.fp++;
      j++;
    } else {
      m.fn++;
      i++;
    }
  }
  m.fn += refMs.length - i;
  m.fp += detMs.length - j;
  return m;
}

const se = (m: Match): number => (100 * m.tp) / Math.max(1, m.tp + m.fn);
const ppv = (m: Match): number => (100 * m.tp) / Math.max(1, m.tp + m.fp);
const add = (a: Match, b: Match): Match => ({ tp: a.tp + b.tp, fn: a.fn + b.fn, fp: a.fp + b.fp });
/** Mean heart rate from intervals (ms): 60000 / mean interval. */
const meanHr = (ibis: readonly number[]): number => (ibis.length === 0 ? 0 : 60000 / (ibis.reduce((a, b) => a + b, 0) / ibis.length));

export interface EcgRow {
  record: string;
  beats: number;
  plotwire: Match;
  baseline: Match;
}
export interface PpgRow {
  record: string;
  refBpm: number;
  plotwireBpm: number;
  baselineBpm: number;
}

/** Runs tasks with at most `limit` at a time (2 cores here). */
async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function evaluate(mitdbDir: string, ppgDir: string, rateHz: number, progress: (msg: string) => void): Promise<{ ecg: EcgRow[]; ppg: PpgRow[] }> {
  const ecgRecords = readMitdbFolder(mitdbDir);
  const ecg = await pool(ecgRecords, 2, async (rec) => {
    const codes = adcCodes(ecgVolts(rec.counts, rateHz));
    const refMs = rec.beats.map((s) => (s * 1000) / MITDB_RATE_HZ);
    const ours = beatsOf(await replayDecoded(codes, { rateHz, mode: 'ecg' })).map((b) => b.t);
    const base = pulseSensorBeats(codes, rateHz).map((b) => (b.sample * 1000) / rateHz);
    progress(`ECG ${rec.name} done`);
    return { record: rec.name, beats: rec.beats.length, plotwire: matchBeats(refMs, ours), baseline: matchBeats(refMs, base) };
  });
  const ppgRecords = readPpgFolder(ppgDir);
  const ppg = await pool(ppgRecords, 2, async (rec) => {
    const codes = adcCodes(ppgVolts(rec.timeMs, rec.red, rateHz));
    const ours = beatsOf(await replayDecoded(codes, { rateHz, mode: 'ppg' })).map((b) => b.ibi).filter((i) => i > 0);
    const base = pulseSensorBeats(codes, rateHz).map((b) => b.ibiMs).filter((i) => i > 0);
    progress(`PPG ${rec.name} done`);
    return { record: rec.name, refBpm: meanHr(rec.rrMs), plotwireBpm: meanHr(ours), baselineBpm: meanHr(base) };
  });
  return { ecg, ppg };
}

export function summarize({ ecg, ppg }: { ecg: EcgRow[]; ppg: PpgRow[] }) {
  const zero: Match = { tp: 0, fn: 0, fp: 0 };
  const gross = (pick: (r: EcgRow) => Match) => {
    const m = ecg.map(pick).reduce(add, zero);
    return { ...m, se: se(m), ppv: ppv(m) };
  };
  const mae = (pick: (r: PpgRow) => number) => ppg.reduce((a, r) => a + Math.abs(pick(r) - r.refBpm), 0) / Math.max(1, ppg.length);
  const plotwire = { ecg: gross((r) => r.plotwire), ppgMaeBpm: mae((r) => r.plotwireBpm) };
  const baseline = { ecg: gross((r) => r.baseline), ppgMaeBpm: mae((r) => r.baselineBpm) };
  const met = {
    ecgSe: plotwire.ecg.se >= TARGETS.se,
    ecgPpv: plotwire.ecg.ppv >= TARGETS.ppv,
    ppgMae: plotwire.ppgMaeBpm <= TARGETS.ppgMaeBpm,
    beatsBaselineEcg: plotwire.ecg.se > baseline.ecg.se && plotwire.ecg.ppv > baseline.ecg.ppv,
    beatsBaselinePpg: plotwire.ppgMaeBpm < baseline.ppgMaeBpm,
  };
  return { plotwire, baseline, targets: TARGETS, met, allMet: Object.values(met).every(Boolean) };
}

const pct = (v: number): string => v.toFixed(2).padStart(6);
const cells = (m: Match): string => `${String(m.tp).padStart(5)} ${String(m.fn).padStart(4)} ${String(m.fp).padStart(4)} ${pct(se(m))} ${pct(ppv(m))}`;

export function renderTable(result: { ecg: EcgRow[]; ppg: PpgRow[] }, rateHz: number): string {
  const s = summarize(result);
  const out: string[] = [];
  out.push(`ECG: MIT-BIH records at ${rateHz} Hz, 10-bit; a detection matches a reference beat within ${MATCH_MS} ms`);
  out.push(`${''.padEnd(8)}${''.padStart(6)}  ${'plotwire'.padEnd(31)}  baseline (PulseSensorPlayground)`);
  out.push(`${'record'.padEnd(8)}${'beats'.padStart(6)}  ${'   TP   FN   FP    Se%    +P%'}  ${'   TP   FN   FP    Se%    +P%'}`);
  for (const r of result.ecg) out.push(`${r.record.padEnd(8)}${String(r.beats).padStart(6)}  ${cells(r.plotwire)}  ${cells(r.baseline)}`);
  const beats = result.ecg.reduce((a, r) => a + r.beats, 0);
  out.push(`${'gross'.padEnd(8)}${String(beats).padStart(6)}  ${cells(s.plotwire.ecg)}  ${cells(s.baseline.ecg)}`);
  out.push('');
  out.push(`PPG: Welltory records at ${rateHz} Hz, 10-bit; mean heart rate against the chest strap (bpm)`);
  out.push(`${'record'.padEnd(12)}${'strap'.padStart(7)}  ${'plotwire'.padStart(8)} ${'error'.padStart(6)}  ${'baseline'.padStart(8)} ${'error'.padStart(6)}`);
  const f = (v: number): string => v.toFixed(1);
  for (const r of result.ppg) {
    out.push(
      `${r.record.padEnd(12)}${f(r.refBpm).padStart(7)}  ${f(r.plotwireBpm).padStart(8)} ${f(r.plotwireBpm - r.refBpm).padStart(6)}  ${f(r.baselineBpm).padStart(8)} ${f(r.baselineBpm - r.refBpm).padStart(6)}`,
    );
  }
  out.push(`${'mean |error|'.padEnd(12)}${''.padStart(7)}  ${''.padStart(8)} ${f(s.plotwire.ppgMaeBpm).padStart(6)}  ${''.padStart(8)} ${f(s.baseline.ppgMaeBpm).padStart(6)}`);
  out.push('');
  const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  out.push(`targets: ECG gross Se >= ${TARGETS.se}% ${mark(s.met.ecgSe)}, +P >= ${TARGETS.ppv}% ${mark(s.met.ecgPpv)}; PPG mean |error| <= ${TARGETS.ppgMaeBpm} bpm ${mark(s.met.ppgMae)}; better than the baseline: ECG ${mark(s.met.beatsBaselineEcg)}, PPG ${mark(s.met.beatsBaselinePpg)}`);
  return out.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      mitdb: { type: 'string', default: join(root, 'test/data/heart/mitdb') },
      ppg: { type: 'string', default: join(root, 'test/data/heart/welltory') },
      rate: { type: 'string', default: String(DEFAULT_SAMPLE_RATE_HZ) },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`usage: npm run eval:heart [-- --mitdb DIR --ppg DIR --rate HZ --json]

Scores the firmware's beat detector (build/firmware/native/replay, built by npm run firmware) and
the PulseSensorPlayground baseline on heart recordings, as the board's 10-bit ADC sees them.
  --mitdb DIR  MIT-BIH folder: <rec>.adc.csv.gz and <rec>.beats.csv (default test/data/heart/mitdb)
  --ppg DIR    PPG folder: subject folders with PPG.csv and RR.txt (default test/data/heart/welltory)
  --rate HZ    sample rate (default ${DEFAULT_SAMPLE_RATE_HZ}, the firmware's)
  --json       print the gross figures as one JSON object
Exits 1 when a target is missed.`);
    return 0;
  }
  const rateHz = Number(values.rate);
  if (!Number.isInteger(rateHz) || rateHz < 100 || rateHz > 2000) {
    console.error(`eval:heart: --rate must be an integer number of Hz from 100 to 2000 (got ${values.rate})`);
    return 2;
  }
  try {
    const result = await evaluate(values.mitdb, values.ppg, rateHz, (msg) => process.stderr.write(`eval:heart: ${msg}\n`));
    const summary = summarize(result);
    console.log(values.json ? JSON.stringify({ rateHz, ...summary }) : renderTable(result, rateHz));
    return summary.allMet ? 0 : 1;
  } catch (err) {
    if (err instanceof RecordingError) {
      console.error(`eval:heart: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

if (process.argv[1] === import.meta.filename) process.exitCode = await main();

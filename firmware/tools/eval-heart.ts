/**
 * npm run eval:heart [-- --mitdb DIR --ppg DIR --only ecg|ppg --json]: scores the firmware's beat detector (run
 * through the replay tool, on recordings resampled and quantized as the board's 10-bit ADC sees
 * them) against the reference beats, next to the PulseSensorPlayground baseline on the same
 * samples, the way that shows how it does on recordings it was not tuned on:
 *
 * - ECG, all records, with the parameters the firmware is built with: Se and +P (a match within
 *   150 ms, ANSI/AAMI EC57), per record and gross.
 * - ECG, leave one record out: the tunable parameters chosen on the other records (the fewest
 *   missed plus false beats over a grid), scored on the one left out.
 * - ECG, the noise stress test (heart-noise.ts): each record with baseline wander, muscle noise,
 *   electrode motion and mains, alone and together, at 24, 18, 12 and 6 dB SNR.
 * - PPG: mean heart rate against the chest strap on the subjects the device found usable; the
 *   ones it called unusable (clipped, flat, weak, noisy for most of the recording) in a row of
 *   their own, not averaged in; a wrong rate on an unusable signal, or an input clipped or flat
 *   for most of the recording that the device called usable, is a failure.
 *
 * Exits 1 when a target is missed.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SAMPLE_RATE_HZ } from '../../shared/limits.js';
import { decodeDeviceLine, type DeviceLine, type QualityEvent } from '../../shared/index.js';
import {
  adcCodes,
  CAMERA_FULL_SCALE,
  ecgVolts,
  MITDB_RATE_HZ,
  ppgVolts,
  readMitdbFolder,
  readPpgFolder,
  RecordingError,
  resampleTimed,
  type EcgRecord,
} from '../sim/recordings.js';
import { addNoise, NOISE_KINDS, noisySegments, recordNoises, STRESS_SNRS_DB, type NoiseKind } from './heart-noise.js';
import { pulseSensorBeats } from './pulse-sensor-baseline.js';
import { beatsOf, encodeSamples, replayLines, replayParams } from './replay.js';

const root = join(import.meta.dirname, '../..');
const MATCH_MS = 150;
export const TARGETS = {
  /** All records, the firmware's parameters. */
  ecgSe: 99.5,
  ecgPpv: 99.5,
  /** Leave one record out. */
  looSe: 99.5,
  looPpv: 99.0,
  /** The noise stress test at 12 dB, all noises together. */
  noise12Se: 99,
  noise12Ppv: 99,
  /** Usable PPG subjects. */
  ppgMaeBpm: 2,
} as const;

/**
 * What leave-one-out tunes, around the published values (Hamilton & Tompkins' threshold 31 %,
 * Pan & Tompkins' searchback 166 % and T-wave slope 50 %).
 */
export const LOO_GRID: Readonly<Record<string, readonly number[]>> = {
  threshold: [25, 31, 38],
  searchback: [150, 166, 200],
  'twave-slope': [40, 50, 60],
};
/** States in which the device says the signal cannot give a beat. */
const UNUSABLE_STATES = new Set(['noisy', 'flat', 'clipped', 'weak']);
/** A rate within 10 % or 5 bpm of the truth, whichever is more, is right (ANSI/AAMI EC13). */
const rateIsRight = (bpm: number, truth: number): boolean => Math.abs(bpm - truth) <= Math.max(5, 0.1 * truth);

export interface Match {
  tp: number;
  fn: number;
  fp: number;
}

/** Matches detections to reference beats (both sorted, ms) within toleranceMs, one to one. */
export function matchBeats(refMs: readonly number[], detMs: readonly number[], toleranceMs = MATCH_MS, within?: (ms: number) => boolean): Match {
  let i = 0;
  let j = 0;
  const m: Match = { tp: 0, fn: 0, fp: 0 };
  const count = (key: keyof Match, ms: number): void => {
    if (!within || within(ms)) m[key]++;
  };
  while (i < refMs.length && j < detMs.length) {
    const d = detMs[j]! - refMs[i]!;
    if (Math.abs(d) <= toleranceMs) {
      count('tp', refMs[i]!);
      i++;
      j++;
    } else if (d < 0) {
      count('fp', detMs[j++]!);
    } else {
      count('fn', refMs[i++]!);
    }
  }
  for (; i < refMs.length; i++) count('fn', refMs[i]!);
  for (; j < detMs.length; j++) count('fp', detMs[j]!);
  return m;
}

const se = (m: Match): number => (100 * m.tp) / Math.max(1, m.tp + m.fn);
const ppv = (m: Match): number => (100 * m.tp) / Math.max(1, m.tp + m.fp);
const add = (a: Match, b: Match): Match => ({ tp: a.tp + b.tp, fn: a.fn + b.fn, fp: a.fp + b.fp });
const ZERO: Match = { tp: 0, fn: 0, fp: 0 };
export const gross = (ms: readonly Match[]): Match & { se: number; ppv: number } => {
  const m = ms.reduce(add, ZERO);
  return { ...m, se: se(m), ppv: ppv(m) };
};
/** Mean heart rate from intervals (ms): 60000 / mean interval; undefined without one. */
const meanHr = (ibis: readonly number[]): number | undefined => (ibis.length === 0 ? undefined : 60000 / (ibis.reduce((a, b) => a + b, 0) / ibis.length));

export type Params = Readonly<Record<string, number>>;
export interface EcgRow {
  record: string;
  beats: number;
  plotwire: Match;
  baseline: Match;
}
export interface LooRow {
  record: string;
  /** The parameters chosen on the other records. */
  params: Params;
  plotwire: Match;
}
export interface NoiseRow {
  snrDb: number;
  kind: NoiseKind;
  record: string;
  plotwire: Match;
  /** The baseline runs on the mixed noise only. */
  baseline?: Match;
}
export interface PpgRow {
  record: string;
  refBpm: number;
  /** What the input is: clipped or flat for most of it is unusable whatever the device says. */
  inputClippedPct: number;
  inputFlat: boolean;
  /** Time in each signal state the device reported, % of the recording. */
  statePct: Record<string, number>;
  /** The device called it unusable (its states), and which state said so most. */
  unusable: boolean;
  reason?: string;
  /** The rate the device stated, as a display shows it (shownRate); undefined when it stated none. */
  plotwireBpm?: number;
  baselineBpm?: number;
}
export interface Evaluation {
  rateHz: number;
  defaults: Params;
  ecg: EcgRow[];
  loo: LooRow[];
  noise: NoiseRow[];
  ppg: PpgRow[];
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

/** Every combination of the grid's values. */
export function gridPoints(grid: Readonly<Record<string, readonly number[]>>): Params[] {
  let points: Record<string, number>[] = [{}];
  for (const [name, values] of Object.entries(grid)) points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  return points;
}

/**
 * For each record, the grid point with the fewest missed plus false beats on the other records
 * (ties: the one nearest the defaults), and its score on that record.
 */
export function leaveOneOut(records: readonly string[], points: readonly Params[], scores: readonly (readonly Match[])[], defaults: Params): LooRow[] {
  const errors = (m: Match): number => m.fn + m.fp;
  const distance = (p: Params): number => Object.entries(p).reduce((a, [k, v]) => a + Math.abs(Math.log(v / (defaults[k] ?? v))), 0);
  return records.map((record, held) => {
    let best = 0;
    let bestErrors = Infinity;
    points.forEach((p, i) => {
      const e = scores[i]!.reduce((a, m, r) => (r === held ? a : a + errors(m)), 0);
      if (e < bestErrors || (e === bestErrors && distance(p) < distance(points[best]!))) {
        best = i;
        bestErrors = e;
      }
    });
    return { record, params: points[best]!, plotwire: scores[best]![held]! };
  });
}

interface EcgCase {
  rec: EcgRecord;
  refMs: number[];
  samples: Buffer;
}

const beatTimes = (lines: DeviceLine[]): number[] => beatsOf(lines).map((b) => b.t);
const decoded = async (samples: Buffer, options: Parameters<typeof replayLines>[1]): Promise<DeviceLine[]> =>
  (await replayLines(samples, { ...options, eventsOnly: true })).map(decodeDeviceLine);

export interface EvaluateOptions {
  /** Either may be left out: that part is not run. */
  mitdbDir?: string;
  ppgDir?: string;
  rateHz: number;
  grid?: Readonly<Record<string, readonly number[]>>;
  snrs?: readonly number[];
  noiseKinds?: readonly NoiseKind[];
  progress?: (msg: string) => void;
}

export async function evaluate(o: EvaluateOptions): Promise<Evaluation> {
  const { rateHz } = o;
  const progress = o.progress ?? (() => undefined);
  const defaults = await replayParams('ecg');
  const cases: EcgCase[] = (o.mitdbDir === undefined ? [] : readMitdbFolder(o.mitdbDir)).map((rec) => ({
    rec,
    refMs: rec.beats.map((s) => (s * 1000) / MITDB_RATE_HZ),
    samples: encodeSamples(adcCodes(ecgVolts(rec.counts, rateHz))),
  }));

  const ecg = await pool(cases, 2, async (c) => {
    const ours = beatTimes(await decoded(c.samples, { rateHz, mode: 'ecg' }));
    const codes = adcCodes(ecgVolts(c.rec.counts, rateHz));
    const base = pulseSensorBeats(codes, rateHz).map((b) => (b.sample * 1000) / rateHz);
    return { record: c.rec.name, beats: c.rec.beats.length, plotwire: matchBeats(c.refMs, ours), baseline: matchBeats(c.refMs, base) };
  });
  if (cases.length > 0) progress(`ECG: ${cases.length} records scored with the firmware's parameters`);

  const points = gridPoints(o.grid ?? LOO_GRID);
  const jobs = points.flatMap((params, p) => cases.map((c, r) => ({ params, p, r, c })));
  const scores: Match[][] = points.map(() => []);
  await pool(jobs, 2, async (j) => {
    scores[j.p]![j.r] = matchBeats(j.c.refMs, beatTimes(await decoded(j.c.samples, { rateHz, mode: 'ecg', params: j.params })));
  });
  const loo = leaveOneOut(
    cases.map((c) => c.rec.name),
    points,
    scores,
    defaults,
  );
  if (cases.length > 0) progress(`ECG: leave one out over ${points.length} parameter sets`);

  const noise: NoiseRow[] = [];
  const kinds = o.noiseKinds ?? (['all', ...NOISE_KINDS] as const);
  let noises: { name: string; byKind: Map<NoiseKind, Float64Array> } | undefined;
  const noiseJobs = cases.flatMap((c) => kinds.map((kind) => ({ c, kind })));
  await pool(noiseJobs, 2, async ({ c, kind }) => {
    // Jobs come record by record: each record's noises are made once.
    if (noises?.name !== c.rec.name) noises = { name: c.rec.name, byKind: recordNoises(c.rec.name, c.rec.counts.length, MITDB_RATE_HZ) };
    const n = noises.byKind.get(kind)!;
    const segments = noisySegments(c.rec.counts.length, MITDB_RATE_HZ).map(([a, b]) => [(a * 1000) / MITDB_RATE_HZ, (b * 1000) / MITDB_RATE_HZ] as const);
    const inNoise = (ms: number): boolean => segments.some(([a, b]) => ms >= a && ms < b);
    for (const snrDb of o.snrs ?? STRESS_SNRS_DB) {
      const codes = adcCodes(ecgVolts(addNoise(c.rec.counts, n, c.rec.beats, MITDB_RATE_HZ, snrDb), rateHz));
      const ours = beatTimes(await decoded(encodeSamples(codes), { rateHz, mode: 'ecg' }));
      const row: NoiseRow = { snrDb, kind, record: c.rec.name, plotwire: matchBeats(c.refMs, ours, MATCH_MS, inNoise) };
      if (kind === 'all') row.baseline = matchBeats(c.refMs, pulseSensorBeats(codes, rateHz).map((b) => (b.sample * 1000) / rateHz), MATCH_MS, inNoise);
      noise.push(row);
    }
  });
  if (cases.length > 0) progress(`ECG: noise stress test, ${noiseJobs.length} record x noise pairs`);

  const ppg = await pool(o.ppgDir === undefined ? [] : readPpgFolder(o.ppgDir), 2, async (rec) => {
    const codes = adcCodes(ppgVolts(rec.timeMs, rec.red, rateHz));
    const lines = await decoded(encodeSamples(codes), { rateHz, mode: 'ppg' });
    const durationMs = (codes.length * 1000) / rateHz;
    const statePct = stateTimes(lines, durationMs);
    const unusableStates = Object.entries(statePct).filter(([s]) => UNUSABLE_STATES.has(s));
    const unusablePct = unusableStates.reduce((a, [, pct]) => a + pct, 0);
    const red = resampleTimed(rec.timeMs, rec.red, rateHz);
    let clipped = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of red) {
      if (v >= CAMERA_FULL_SCALE - 0.5) clipped++;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const row: PpgRow = {
      record: rec.name,
      refBpm: meanHr(rec.rrMs)!,
      inputClippedPct: (100 * clipped) / Math.max(1, red.length),
      inputFlat: hi - lo < 0.1,
      statePct,
      unusable: unusablePct >= 50,
      plotwireBpm: shownRate(rateStatements(lines), durationMs),
      baselineBpm: shownRate(
        pulseSensorBeats(codes, rateHz).map((b) => ({ t: (b.sample * 1000) / rateHz, bpm: b.bpm > 0 ? b.bpm : undefined })),
        durationMs,
      ),
    };
    if (row.unusable) row.reason = unusableStates.sort((a, b) => b[1] - a[1])[0]![0];
    return row;
  });
  if (ppg.length > 0) progress(`PPG: ${ppg.length} subjects`);
  return { rateHz, defaults, ecg, loo, noise, ppg };
}

/**
 * A stated rate as a display shows it: each value held until the next statement (one without a
 * rate blanks it), averaged over that time; undefined when none was stated.
 */
export function shownRate(statements: readonly { t: number; bpm?: number }[], durationMs: number): number | undefined {
  let weighted = 0;
  let time = 0;
  statements.forEach((s, i) => {
    if (s.bpm === undefined) return;
    const held = Math.max(0, Math.min(statements[i + 1]?.t ?? durationMs, durationMs) - s.t);
    weighted += s.bpm * held;
    time += held;
  });
  return time > 0 ? weighted / time : undefined;
}

/** What the device says of the rate: its beat and quality events, in order. */
const rateStatements = (lines: DeviceLine[]): { t: number; bpm?: number }[] =>
  lines.flatMap((l) => (l.kind === 'event' && (l.line.ev === 'beat' || l.line.ev === 'quality') ? [{ t: l.line.t ?? 0, bpm: (l.line as { bpm?: number }).bpm }] : []));

/** % of the recording the device spent in each signal state (it starts looking: "lost"). */
function stateTimes(lines: DeviceLine[], durationMs: number): Record<string, number> {
  const time: Record<string, number> = {};
  let state = 'lost';
  let since = 0;
  const until = (t: number): void => {
    time[state] = (time[state] ?? 0) + Math.max(0, Math.min(t, durationMs) - since);
    since = Math.min(t, durationMs);
  };
  for (const l of lines) {
    if (l.kind !== 'event' || l.line.ev !== 'quality') continue;
    const q = l.line as QualityEvent;
    until(q.t ?? since);
    state = q.sig;
  }
  until(durationMs);
  for (const k of Object.keys(time)) time[k] = (100 * time[k]!) / Math.max(1, durationMs);
  return time;
}

const isInputUnusable = (r: PpgRow): boolean => r.inputClippedPct >= 50 || r.inputFlat;

export function summarize(e: Evaluation) {
  const noise = (STRESS_SNRS_DB as readonly number[])
    .filter((snrDb) => e.noise.some((n) => n.snrDb === snrDb))
    .map((snrDb) => {
      const rows = e.noise.filter((n) => n.snrDb === snrDb);
      const byKind = Object.fromEntries(
        [...new Set(rows.map((r) => r.kind))].map((kind) => [kind, gross(rows.filter((r) => r.kind === kind).map((r) => r.plotwire))]),
      );
      const all = rows.filter((r) => r.kind === 'all');
      return { snrDb, plotwire: byKind, baseline: all.length ? gross(all.map((r) => r.baseline!)) : undefined };
    });
  const usable = e.ppg.filter((r) => !r.unusable);
  const mae = (pick: (r: PpgRow) => number | undefined, rows: readonly PpgRow[]) => {
    const errors = rows.map((r) => Math.abs((pick(r) ?? 0) - r.refBpm));
    return errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length);
  };
  const failures = [
    ...e.ppg.filter((r) => isInputUnusable(r) && !r.unusable).map((r) => `${r.record}: input ${r.inputFlat ? 'flat' : `clipped ${r.inputClippedPct.toFixed(0)} %`} but the device called it usable`),
    ...e.ppg
      .filter((r) => (r.unusable || isInputUnusable(r)) && r.plotwireBpm !== undefined && !rateIsRight(r.plotwireBpm, r.refBpm))
      .map((r) => `${r.record}: a wrong rate (${r.plotwireBpm!.toFixed(1)} bpm, strap ${r.refBpm.toFixed(1)}) on an unusable signal`),
    ...usable.filter((r) => r.plotwireBpm === undefined).map((r) => `${r.record}: usable, but no rate`),
  ];
  const baselineFailures = e.ppg
    .filter((r) => isInputUnusable(r) && r.baselineBpm !== undefined && !rateIsRight(r.baselineBpm, r.refBpm))
    .map((r) => r.record);
  const at12 = noise.find((n) => n.snrDb === 12);
  const plotwire = {
    ecg: gross(e.ecg.map((r) => r.plotwire)),
    loo: gross(e.loo.map((r) => r.plotwire)),
    noise12: at12?.plotwire.all,
    ppgMaeBpm: mae((r) => r.plotwireBpm, usable),
    ppgUsable: usable.length,
    ppgUnusable: e.ppg.filter((r) => r.unusable).map((r) => r.record),
    ppgFailures: failures,
  };
  const baseline = {
    ecg: gross(e.ecg.map((r) => r.baseline)),
    noise12: at12?.baseline,
    ppgMaeBpm: mae((r) => r.baselineBpm, usable),
    ppgFailures: baselineFailures,
  };
  // Only the targets of the parts that ran (and of PPG, the usable subjects' only if there are some).
  const met: Partial<Record<'ecgSe' | 'ecgPpv' | 'looSe' | 'looPpv' | 'noise12' | 'beatsBaselineEcg' | 'ppgNoFailures' | 'ppgMae' | 'beatsBaselinePpg', boolean>> = {};
  if (e.ecg.length > 0) {
    met.ecgSe = plotwire.ecg.se >= TARGETS.ecgSe;
    met.ecgPpv = plotwire.ecg.ppv >= TARGETS.ecgPpv;
    met.looSe = plotwire.loo.se >= TARGETS.looSe;
    met.looPpv = plotwire.loo.ppv >= TARGETS.looPpv;
    met.noise12 = plotwire.noise12 !== undefined && plotwire.noise12.se >= TARGETS.noise12Se && plotwire.noise12.ppv >= TARGETS.noise12Ppv;
    met.beatsBaselineEcg = plotwire.ecg.se > baseline.ecg.se && plotwire.ecg.ppv > baseline.ecg.ppv;
  }
  if (e.ppg.length > 0) met.ppgNoFailures = failures.length === 0;
  if (usable.length > 0) {
    met.ppgMae = plotwire.ppgMaeBpm <= TARGETS.ppgMaeBpm;
    met.beatsBaselinePpg = plotwire.ppgMaeBpm < baseline.ppgMaeBpm;
  }
  return { plotwire, baseline, noise, targets: TARGETS, met, allMet: Object.values(met).every(Boolean) };
}

const pct = (v: number): string => v.toFixed(2).padStart(6);
const cells = (m: Match): string => `${String(m.tp).padStart(5)} ${String(m.fn).padStart(4)} ${String(m.fp).padStart(4)} ${pct(se(m))} ${pct(ppv(m))}`;
const HEAD = '   TP   FN   FP    Se%    +P%';
const paramText = (p: Params): string =>
  Object.entries(p)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

export function renderTable(e: Evaluation): string {
  const s = summarize(e);
  const out: string[] = [];
  if (e.ecg.length > 0) out.push(...ecgTables(e, s), '');
  if (e.ppg.length > 0) out.push(...ppgTable(e, s), '');
  const mark = (ok: boolean | undefined): string => (ok === undefined ? 'not run' : ok ? 'met' : 'MISSED');
  out.push(
    `targets: ECG all records Se >= ${TARGETS.ecgSe}% ${mark(s.met.ecgSe)}, +P >= ${TARGETS.ecgPpv}% ${mark(s.met.ecgPpv)}; ` +
      `leave one out Se >= ${TARGETS.looSe}% ${mark(s.met.looSe)}, +P >= ${TARGETS.looPpv}% ${mark(s.met.looPpv)}; ` +
      `12 dB Se and +P >= ${TARGETS.noise12Se}% ${mark(s.met.noise12)}; PPG mean |error| <= ${TARGETS.ppgMaeBpm} bpm ${mark(s.met.ppgMae)}, no failures ${mark(s.met.ppgNoFailures)}; ` +
      `better than the baseline: ECG ${mark(s.met.beatsBaselineEcg)}, PPG ${mark(s.met.beatsBaselinePpg)}`,
  );
  return out.join('\n');
}

function ecgTables(e: Evaluation, s: ReturnType<typeof summarize>): string[] {
  const out: string[] = [];
  const beats = e.ecg.reduce((a, r) => a + r.beats, 0);
  out.push(`ECG: MIT-BIH records at ${e.rateHz} Hz, 10-bit; a detection matches a reference beat within ${MATCH_MS} ms`);
  out.push(`All records, the firmware's parameters (${paramText(e.defaults)})`);
  out.push(`${''.padEnd(8)}${''.padStart(6)}  ${'plotwire'.padEnd(29)}  baseline (PulseSensorPlayground)`);
  out.push(`${'record'.padEnd(8)}${'beats'.padStart(6)}  ${HEAD}  ${HEAD}`);
  for (const r of e.ecg) out.push(`${r.record.padEnd(8)}${String(r.beats).padStart(6)}  ${cells(r.plotwire)}  ${cells(r.baseline)}`);
  out.push(`${'gross'.padEnd(8)}${String(beats).padStart(6)}  ${cells(s.plotwire.ecg)}  ${cells(s.baseline.ecg)}`);
  out.push('');
  const names = Object.keys(e.loo[0]?.params ?? {});
  out.push(`Leave one record out: ${names.join(', ')} chosen on the other records (fewest missed + false beats over ${gridPoints(LOO_GRID).length} sets), scored on the one left out`);
  out.push(`${'record'.padEnd(8)}${names.map((n) => n.padStart(13)).join('')}  ${HEAD}`);
  for (const r of e.loo) out.push(`${r.record.padEnd(8)}${names.map((n) => String(r.params[n]).padStart(13)).join('')}  ${cells(r.plotwire)}`);
  out.push(`${'gross'.padEnd(8)}${''.padStart(13 * names.length)}  ${cells(s.plotwire.loo)}`);
  out.push('');
  const kinds = [...new Set(e.noise.map((n) => n.kind))].filter((k) => k !== 'all');
  out.push('Noise stress test (nst protocol, synthetic NSTDB-like noise; scored within the noisy segments)');
  out.push(`${''.padEnd(7)} ${'plotwire, all noises'.padEnd(29)}  ${'baseline, all noises'.padEnd(29)}  plotwire Se/+P % by noise`);
  out.push(`${'SNR dB'.padEnd(7)} ${HEAD}  ${HEAD}  ${kinds.map((k) => k.padStart(13)).join('')}`);
  for (const n of s.noise) {
    const byKind = kinds.map((k) => (n.plotwire[k] ? `${n.plotwire[k]!.se.toFixed(1)}/${n.plotwire[k]!.ppv.toFixed(1)}`.padStart(13) : ''.padStart(13))).join('');
    out.push(`${String(n.snrDb).padEnd(7)} ${n.plotwire.all ? cells(n.plotwire.all) : ''.padEnd(29)}  ${n.baseline ? cells(n.baseline) : ''.padEnd(29)}  ${byKind}`);
  }
  return out;
}

function ppgTable(e: Evaluation, s: ReturnType<typeof summarize>): string[] {
  const out: string[] = [];
  out.push(`PPG: Welltory subjects at ${e.rateHz} Hz, 10-bit; mean heart rate against the chest strap (bpm)`);
  out.push(`${'record'.padEnd(12)}${'strap'.padStart(7)}  ${'device says'.padEnd(18)}${'plotwire'.padStart(9)} ${'error'.padStart(6)}  ${'baseline'.padStart(8)} ${'error'.padStart(6)}`);
  const f = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(1));
  const err = (v: number | undefined, ref: number): string => (v === undefined ? '-' : (v - ref).toFixed(1));
  for (const r of e.ppg) {
    const says = r.unusable ? `unusable (${r.reason})` : `usable, ok ${(r.statePct.ok ?? 0).toFixed(0)} %`;
    out.push(`${r.record.padEnd(12)}${f(r.refBpm).padStart(7)}  ${says.padEnd(18)}${f(r.plotwireBpm).padStart(9)} ${err(r.plotwireBpm, r.refBpm).padStart(6)}  ${f(r.baselineBpm).padStart(8)} ${err(r.baselineBpm, r.refBpm).padStart(6)}`);
  }
  out.push(`${`usable (${s.plotwire.ppgUsable})`.padEnd(12)}${''.padStart(7)}  ${'mean |error|'.padEnd(18)}${''.padStart(9)} ${f(s.plotwire.ppgMaeBpm).padStart(6)}  ${''.padStart(8)} ${f(s.baseline.ppgMaeBpm).padStart(6)}`);
  out.push(`unusable (${s.plotwire.ppgUnusable.length}): ${s.plotwire.ppgUnusable.join(', ') || 'none'} (not averaged in)`);
  out.push(`failures: ${s.plotwire.ppgFailures.join('; ') || 'none'}; the baseline, with no way to say unusable, gives a wrong rate on ${s.baseline.ppgFailures.length} clipped or flat input(s)`);
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      mitdb: { type: 'string', default: join(root, 'test/data/heart/mitdb') },
      ppg: { type: 'string', default: join(root, 'test/data/heart/welltory') },
      rate: { type: 'string', default: String(DEFAULT_SAMPLE_RATE_HZ) },
      only: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`usage: npm run eval:heart [-- --mitdb DIR --ppg DIR --rate HZ --only ecg|ppg --json]

Scores the firmware's beat detector (build/firmware/native/replay, built by npm run firmware) and
the PulseSensorPlayground baseline on heart recordings, as the board's 10-bit ADC sees them: ECG
with the firmware's parameters, leave one record out (parameters tuned on the others), and the
noise stress test (synthetic baseline wander, muscle noise, electrode motion and mains at
${STRESS_SNRS_DB.join(', ')} dB); PPG heart rate, with the subjects the device calls unusable apart.
  --mitdb DIR  MIT-BIH folder: <rec>.adc.csv.gz and <rec>.beats.csv (default test/data/heart/mitdb)
  --ppg DIR    PPG folder: subject folders with PPG.csv and RR.txt (default test/data/heart/welltory)
  --rate HZ    sample rate (default ${DEFAULT_SAMPLE_RATE_HZ}, the firmware's)
  --only P     run only one part: ecg or ppg
  --json       print everything as one JSON object: the per-record rows and the summary
Exits 1 when a target is missed.`);
    return 0;
  }
  const rateHz = Number(values.rate);
  if (!Number.isInteger(rateHz) || rateHz < 100 || rateHz > 2000) {
    console.error(`eval:heart: --rate must be an integer number of Hz from 100 to 2000 (got ${values.rate})`);
    return 2;
  }
  if (values.only !== undefined && values.only !== 'ecg' && values.only !== 'ppg') {
    console.error(`eval:heart: --only must be ecg or ppg (got ${values.only})`);
    return 2;
  }
  try {
    const result = await evaluate({
      mitdbDir: values.only === 'ppg' ? undefined : values.mitdb,
      ppgDir: values.only === 'ecg' ? undefined : values.ppg,
      rateHz,
      progress: (msg) => process.stderr.write(`eval:heart: ${msg}\n`),
    });
    const summary = summarize(result);
    console.log(values.json ? JSON.stringify({ ...result, summary }) : renderTable(result));
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

/**
 * Heart recordings as a board sees them. The folders' formats (see test/data/heart/README.md) are
 * the contract: an MIT-BIH record is `<rec>.adc.csv(.gz)` (11-bit counts at 360 Hz, 200 counts per
 * mV, baseline 1024) with `<rec>.beats.csv`; a PPG record is a folder with `PPG.csv`
 * (`time,R,G,B`, ms) and `RR.txt` (chest-strap intervals, ms).
 *
 * The analog front end is modelled once, here, for the simulator and the evaluation alike:
 * ECG like an AD8232 board (x500 into the middle of a 5 V ADC, ~102 counts per mV); PPG like a
 * Pulse Sensor (more blood reads higher, AC-coupled at 0.5 Hz, around mid-scale), whose output
 * pins at the supply when its sensor saturates (too much light or gain): a camera frame at full
 * scale reads as the ADC's top rail.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PlotwireError } from '../../shared/errors.js';

/** The AVR's ADC reference (AVcc on an Uno) and resolution. */
export const ADC_REFERENCE_VOLTS = 5;
export const ADC_STEPS = 1024;
export const MITDB_RATE_HZ = 360;
const MITDB_COUNTS_PER_MV = 200;
const MITDB_BASELINE = 1024;
const ECG_VOLTS_PER_MV = 0.5;
const PPG_VOLTS_PER_UNIT = 0.25;
const PPG_HIGH_PASS_HZ = 0.5;
/** A camera channel's full scale (8 bits): a frame this bright is a saturated sensor. */
export const CAMERA_FULL_SCALE = 255;
const MID_VOLTS = ADC_REFERENCE_VOLTS / 2;

export class RecordingError extends PlotwireError {
  readonly code = 'PW_ERR_RECORDING';
}

export interface EcgRecord {
  readonly name: string;
  /** 11-bit counts at MITDB_RATE_HZ. */
  readonly counts: Int16Array;
  /** Reference beats: sample indices at MITDB_RATE_HZ. */
  readonly beats: number[];
}

export interface PpgRecord {
  readonly name: string;
  readonly timeMs: Float64Array;
  readonly red: Float64Array;
  /** Chest-strap RR intervals, ms. */
  readonly rrMs: number[];
}

function readText(file: string): string {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new RecordingError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return (file.endsWith('.gz') ? gunzipSync(data) : data).toString('utf8');
}

function numberLines(file: string, text: string, header: string): string[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines[0] !== header) throw new RecordingError(`${file}: the first line must be "${header}" (got "${(lines[0] ?? '').slice(0, 40)}")`);
  return lines.slice(1);
}

function num(file: string, lineNo: number, text: string | undefined): number {
  const v = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(v)) throw new RecordingError(`${file} line ${lineNo}: "${text ?? ''}" is not a number`);
  return v;
}

/** Reads `<rec>.adc.csv` or `<rec>.adc.csv.gz` (one column, header "adc"). */
export function readMitdbCounts(file: string): Int16Array {
  const rows = numberLines(file, readText(file), 'adc');
  return Int16Array.from(rows, (r, i) => num(file, i + 2, r));
}

export function readMitdbRecord(dir: string, name: string): EcgRecord {
  const plain = join(dir, `${name}.adc.csv`);
  const counts = readMitdbCounts(existsSync(plain) ? plain : `${plain}.gz`);
  const beatsFile = join(dir, `${name}.beats.csv`);
  const beats = numberLines(beatsFile, readText(beatsFile), 'sample,symbol').map((r, i) => num(beatsFile, i + 2, r.split(',')[0]));
  return { name, counts, beats };
}

/** Every record of an MIT-BIH folder, by name. */
export function readMitdbFolder(dir: string): EcgRecord[] {
  const names = listDir(dir).filter((f) => f.endsWith('.beats.csv')).map((f) => f.slice(0, -'.beats.csv'.length)).sort();
  if (names.length === 0) throw new RecordingError(`${dir}: no <record>.beats.csv files (an MIT-BIH folder has <rec>.adc.csv.gz and <rec>.beats.csv)`);
  return names.map((n) => readMitdbRecord(dir, n));
}

/** Reads a Welltory-format `PPG.csv` (header time,R,G,B). */
export function readPpgCsv(file: string): { timeMs: Float64Array; red: Float64Array } {
  const rows = numberLines(file, readText(file), 'time,R,G,B');
  const timeMs = new Float64Array(rows.length);
  const red = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    const cols = r.split(',');
    timeMs[i] = num(file, i + 2, cols[0]);
    red[i] = num(file, i + 2, cols[1]);
    if (i > 0 && timeMs[i]! <= timeMs[i - 1]!) throw new RecordingError(`${file} line ${i + 2}: time ${timeMs[i]} does not increase`);
  });
  if (rows.length < 2) throw new RecordingError(`${file}: needs at least two frames`);
  return { timeMs, red };
}

export function readPpgRecord(dir: string): PpgRecord {
  const { timeMs, red } = readPpgCsv(join(dir, 'PPG.csv'));
  const rrFile = join(dir, 'RR.txt');
  const rrMs = readText(rrFile).split(/\s+/).filter(Boolean).map((t, i) => num(rrFile, 1, t || String(i)));
  if (rrMs.length === 0) throw new RecordingError(`${rrFile}: no RR intervals`);
  return { name: basename(dir), timeMs, red, rrMs };
}

/** Every subject folder (one holding PPG.csv) of a PPG folder. */
export function readPpgFolder(dir: string): PpgRecord[] {
  const subjects = listDir(dir).filter((f) => existsSync(join(dir, f, 'PPG.csv'))).sort();
  if (subjects.length === 0) throw new RecordingError(`${dir}: no subject folders with a PPG.csv`);
  return subjects.map((s) => readPpgRecord(join(dir, s)));
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw new RecordingError(`cannot read the folder ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message}`);
  }
}

/** Linear interpolation of evenly spaced samples onto another rate. */
export function resampleEven(values: ArrayLike<number>, fromHz: number, toHz: number): Float64Array {
  const n = Math.floor(((values.length - 1) * toHz) / fromHz) + 1;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const pos = (k * fromHz) / toHz;
    const i = Math.floor(pos);
    const a = values[i]!;
    const b = values[Math.min(i + 1, values.length - 1)]!;
    out[k] = a + (b - a) * (pos - i);
  }
  return out;
}

/** Linear interpolation of samples taken at timeMs onto an even rate, from the first frame. */
export function resampleTimed(timeMs: ArrayLike<number>, values: ArrayLike<number>, toHz: number): Float64Array {
  const t0 = timeMs[0]!;
  const n = Math.floor(((timeMs[timeMs.length - 1]! - t0) * toHz) / 1000) + 1;
  const out = new Float64Array(n);
  let j = 0;
  for (let k = 0; k < n; k++) {
    const t = t0 + (k * 1000) / toHz;
    while (j < timeMs.length - 2 && timeMs[j + 1]! <= t) j++;
    const ta = timeMs[j]!;
    const tb = timeMs[j + 1]!;
    const a = values[j]!;
    const b = values[j + 1]!;
    out[k] = a + ((b - a) * (t - ta)) / (tb - ta);
  }
  return out;
}

/** The ECG front end: MIT-BIH counts at 360 Hz -> volts at the ADC pin, at rateHz. */
export function ecgVolts(counts: ArrayLike<number>, rateHz: number): Float64Array {
  const mv = resampleEven(counts, MITDB_RATE_HZ, rateHz);
  for (let i = 0; i < mv.length; i++) mv[i] = MID_VOLTS + ((mv[i]! - MITDB_BASELINE) / MITDB_COUNTS_PER_MV) * ECG_VOLTS_PER_MV;
  return mv;
}

/** The PPG front end: camera red channel -> volts at the ADC pin, at rateHz. */
export function ppgVolts(timeMs: ArrayLike<number>, red: ArrayLike<number>, rateHz: number): Float64Array {
  const x = resampleTimed(timeMs, red, rateHz);
  // More blood absorbs more red light; a Pulse Sensor reads higher for more blood.
  const a = 1 / (1 + (2 * Math.PI * PPG_HIGH_PASS_HZ) / rateHz);
  let prev = -x[0]!;
  let hp = 0;
  for (let i = 0; i < x.length; i++) {
    const saturated = x[i]! >= CAMERA_FULL_SCALE - 0.5;
    const v = -x[i]!;
    hp = a * (hp + v - prev);
    prev = v;
    x[i] = saturated ? ADC_REFERENCE_VOLTS : MID_VOLTS + hp * PPG_VOLTS_PER_UNIT;
  }
  return x;
}

/** What the 10-bit ADC reads for these volts (the same rounding as avr8js's ADC). */
export function adcCodes(volts: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(volts.length);
  for (let i = 0; i < volts.length; i++) out[i] = Math.min(Math.max(Math.floor((volts[i]! / ADC_REFERENCE_VOLTS) * ADC_STEPS), 0), ADC_STEPS - 1);
  return out;
}

/**
 * A signal file for the simulator, as volts at rateHz: an MIT-BIH `.adc.csv(.gz)` (ECG) or a
 * Welltory `PPG.csv`, told apart by the header line.
 */
export function readSignalVolts(file: string, rateHz: number): { kind: 'ecg' | 'ppg'; volts: Float64Array } {
  const firstLine = readText(file).slice(0, 64).split('\n')[0]?.trim();
  if (firstLine === 'adc') return { kind: 'ecg', volts: ecgVolts(readMitdbCounts(file), rateHz) };
  if (firstLine === 'time,R,G,B') {
    const { timeMs, red } = readPpgCsv(file);
    return { kind: 'ppg', volts: ppgVolts(timeMs, red, rateHz) };
  }
  throw new RecordingError(
    `${file}: not a signal file plotwire knows: the first line must be "adc" (MIT-BIH counts at 360 Hz) or "time,R,G,B" (a PPG recording); got "${(firstLine ?? '').slice(0, 40)}"`,
  );
}

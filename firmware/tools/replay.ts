/**
 * Runs build/firmware/native/replay (the firmware's core on the host) over ADC samples and
 * returns the lines it prints, so tools and tests see exactly what the board would send.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDeviceLine, type BeatEvent, type DeviceLine } from '../../shared/index.js';
import { MissingFileError, PlotwireError } from '../../shared/errors.js';

/** The replay tool (the firmware's core on the host) failed. */
export class ReplayError extends PlotwireError {
  readonly code = 'PW_ERR_REPLAY';
}

export const REPLAY_PATH = join(import.meta.dirname, '../../build/firmware/native/replay');

export interface ReplayOptions {
  readonly rateHz?: number;
  readonly mode?: 'ecg' | 'ppg' | 'mock';
  readonly samplesPerLine?: number;
  /** Per sample, whether the lead-off input is set. */
  readonly leadOff?: ArrayLike<boolean>;
  /** Beat detector parameters by name (replay --params lists them); the rest keep the defaults. */
  readonly params?: Readonly<Record<string, number>>;
  /** Only the hello and the event lines (what a scorer needs), not the sample lines. */
  readonly eventsOnly?: boolean;
}

export function replayArgs(o: ReplayOptions): string[] {
  const args: string[] = [];
  if (o.rateHz !== undefined) args.push('--rate', String(o.rateHz));
  if (o.mode !== undefined) args.push('--mode', o.mode);
  if (o.samplesPerLine !== undefined) args.push('--spl', String(o.samplesPerLine));
  for (const [name, value] of Object.entries(o.params ?? {})) args.push('--param', `${name}=${value}`);
  if (o.eventsOnly) args.push('--events');
  return args;
}

/** The beat detector's parameters for a mode: the firmware's defaults, or with params applied. */
export async function replayParams(mode: 'ecg' | 'ppg', params: Readonly<Record<string, number>> = {}): Promise<Record<string, number>> {
  const [line] = await runReplay([...replayArgs({ mode, params }), '--params'], Buffer.alloc(0));
  return JSON.parse(line!) as Record<string, number>;
}

/**
 * Samples as replay reads them. A caller that replays the same samples many times (with other
 * parameters) encodes them once.
 */
export function encodeSamples(codes: ArrayLike<number>, leadOff?: ArrayLike<boolean>): Buffer {
  // Digits written straight into bytes: building strings took longer than the replay itself.
  const out = Buffer.allocUnsafe(codes.length * 7);
  let at = 0;
  for (let k = 0; k < codes.length; k++) {
    const v = codes[k]!;
    if (v >= 1000) out[at++] = 48 + Math.floor(v / 1000);
    if (v >= 100) out[at++] = 48 + (Math.floor(v / 100) % 10);
    if (v >= 10) out[at++] = 48 + (Math.floor(v / 10) % 10);
    out[at++] = 48 + (v % 10);
    if (leadOff?.[k]) {
      out[at++] = 32;
      out[at++] = 49;
    }
    out[at++] = 10;
  }
  return out.subarray(0, at);
}

/** The raw text lines replay prints for these samples (or samples already encoded). */
export function replayLines(samples: ArrayLike<number> | Buffer, options: ReplayOptions = {}): Promise<string[]> {
  return runReplay(replayArgs(options), Buffer.isBuffer(samples) ? samples : encodeSamples(samples, options.leadOff));
}

async function runReplay(args: string[], input: Buffer): Promise<string[]> {
  if (!existsSync(REPLAY_PATH)) throw new MissingFileError(`${REPLAY_PATH} is missing: run npm run firmware first`);
  const child = spawn(REPLAY_PATH, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  // replay may exit early on a bad line: a write after that is not an error of ours.
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  const code = await done;
  if (code !== 0) throw new ReplayError(`replay exited with ${code}: ${Buffer.concat(err).toString().trim()}`);
  return Buffer.concat(out).toString('utf8').split('\n').filter((l) => l !== '');
}

/** The lines replay prints, decoded and validated against the protocol. */
export async function replayDecoded(samples: ArrayLike<number> | Buffer, options: ReplayOptions = {}): Promise<DeviceLine[]> {
  return (await replayLines(samples, options)).map(decodeDeviceLine);
}

/** The beat events among decoded lines: their device time (ms) and what they carry. */
export function beatsOf(lines: DeviceLine[]): { t: number; bpm?: number; ibi?: number }[] {
  const beats: { t: number; bpm?: number; ibi?: number }[] = [];
  for (const l of lines) {
    if (l.kind !== 'event' || l.line.ev !== 'beat') continue;
    const beat = l.line as BeatEvent;
    beats.push({ t: beat.t ?? 0, bpm: beat.bpm, ibi: beat.ibi });
  }
  return beats;
}

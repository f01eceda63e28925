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
}

export function replayArgs(o: ReplayOptions): string[] {
  const args: string[] = [];
  if (o.rateHz !== undefined) args.push('--rate', String(o.rateHz));
  if (o.mode !== undefined) args.push('--mode', o.mode);
  if (o.samplesPerLine !== undefined) args.push('--spl', String(o.samplesPerLine));
  return args;
}

/** The raw text lines replay prints for these samples. */
export async function replayLines(codes: ArrayLike<number>, options: ReplayOptions = {}): Promise<string[]> {
  if (!existsSync(REPLAY_PATH)) throw new MissingFileError(`${REPLAY_PATH} is missing: run npm run firmware first`);
  const child = spawn(REPLAY_PATH, replayArgs(options), { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  // Written in chunks so a long recording never sits in memory as one string.
  const chunk = 65536;
  for (let i = 0; i < codes.length; i += chunk) {
    let text = '';
    const end = Math.min(codes.length, i + chunk);
    for (let k = i; k < end; k++) text += options.leadOff?.[k] ? `${codes[k]} 1\n` : `${codes[k]}\n`;
    if (!child.stdin.write(text)) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  const code = await done;
  if (code !== 0) throw new ReplayError(`replay exited with ${code}: ${Buffer.concat(err).toString().trim()}`);
  return Buffer.concat(out).toString('utf8').split('\n').filter((l) => l !== '');
}

/** The lines replay prints, decoded and validated against the protocol. */
export async function replayDecoded(codes: ArrayLike<number>, options: ReplayOptions = {}): Promise<DeviceLine[]> {
  return (await replayLines(codes, options)).map(decodeDeviceLine);
}

/** The beat events among decoded lines: their device time (ms) and what they carry. */
export function beatsOf(lines: DeviceLine[]): { t: number; bpm: number; ibi: number }[] {
  const beats: { t: number; bpm: number; ibi: number }[] = [];
  for (const l of lines) {
    if (l.kind !== 'event' || l.line.ev !== 'beat') continue;
    const beat = l.line as BeatEvent;
    beats.push({ t: beat.t ?? 0, bpm: beat.bpm, ibi: beat.ibi });
  }
  return beats;
}

/**
 * Runs the compiled Uno firmware in avr8js in real time, its ADC fed from a heart recording, and
 * hands its serial output to a pseudo-terminal (socat), to a callback, or to nobody. The bridge
 * opens the pty like a board's port. No AVR toolchain is needed: by default the committed image
 * firmware/prebuilt/uno.hex runs.
 *
 *   const sim = await startSimulation({ signal: 'test/data/heart/mitdb/100.adc.csv.gz', output: 'pty' });
 *   sim.ptyPath  // e.g. /tmp/plotwire-sim-XXXX/ttyPLOTWIRE
 *   await sim.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SAMPLE_RATE_HZ } from '../../shared/limits.js';
import { readSignalVolts } from './recordings.js';
import { UNO_CLOCK_HZ, Uno } from './uno.js';

/** The committed Uno image (CI checks it is exactly what the sources build). */
export const PREBUILT_UNO_HEX =
  // firmware/sim/ in the sources, dist/firmware/sim/ when built.
  ['../prebuilt/uno.hex', '../../../firmware/prebuilt/uno.hex'].map((p) => join(import.meta.dirname, p)).find(existsSync) ??
  join(import.meta.dirname, '../prebuilt/uno.hex');

export interface SimulationOptions {
  /** Intel HEX of the Uno firmware; default the committed firmware/prebuilt/uno.hex. */
  readonly hex?: string;
  /** A recording file (MIT-BIH `.adc.csv(.gz)` or Welltory `PPG.csv`), or volts at the firmware rate. */
  readonly signal: string | Float64Array;
  /** The firmware's sample rate, which the recording is resampled to (default the protocol's). */
  readonly rateHz?: number;
  /** 'pty': a pseudo-terminal (socat); a function: every chunk of serial bytes; 'none': discard. */
  readonly output: 'pty' | 'none' | ((bytes: Buffer) => void);
  /** Simulated seconds per wall-clock second; Infinity runs as fast as the host can. Default 1. */
  readonly speed?: number;
  /** Start over at the end of the recording (default true); otherwise the pin stays at the last value. */
  readonly loop?: boolean;
}

export interface SimulationStats {
  /** CPU cycles run, and the simulated time they make. */
  readonly cycles: number;
  readonly simulatedMs: number;
  /** Serial bytes the board sent, and those the pty could not take (nobody reading). */
  readonly bytesOut: number;
  readonly bytesDropped: number;
}

export interface Simulation {
  /** The pseudo-terminal a serial reader opens (output 'pty' only). */
  readonly ptyPath: string | undefined;
  readonly rateHz: number;
  /** Drives the ECG front end's lead-off pins (10 and 11). */
  setLeadOff(off: boolean): void;
  /** Resolves after the simulation has run until simulatedMs (for tests at speed Infinity). */
  until(simulatedMs: number): Promise<void>;
  stats(): SimulationStats;
  stop(): Promise<void>;
}

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

const SLICE_MS = 10;
const MAX_SLICE_MS = 50;

interface Pty {
  readonly path: string;
  write(bytes: Buffer): boolean;
  onDrain(listener: () => void): void;
  close(): Promise<void>;
}

/** A socat pseudo-terminal whose other end is a pipe to us. */
async function openPty(): Promise<Pty> {
  const dir = mkdtempSync(join(tmpdir(), 'plotwire-sim-'));
  const link = join(dir, 'ttyPLOTWIRE');
  let child: ChildProcess;
  try {
    child = spawn('socat', [`PTY,raw,echo=0,link=${link}`, 'STDIO'], { stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (err) {
    throw new SimulationError(`cannot start socat for the pseudo-terminal: ${(err as Error).message}`);
  }
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new SimulationError(err.code === 'ENOENT' ? 'socat is not installed (apt-get install socat); or use --stdout' : `socat: ${err.message}`)),
    );
    child.once('exit', (code) => reject(new SimulationError(`socat exited (${code}) before the pseudo-terminal was ready: ${stderr.trim()}`)));
  });
  const ready = (async () => {
    for (let i = 0; i < 200 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 10));
    if (!existsSync(link)) throw new SimulationError(`socat did not create ${link}`);
  })();
  await Promise.race([ready, failed]);
  failed.catch(() => undefined);
  child.stdin!.on('error', () => undefined);
  return {
    path: link,
    write: (bytes) => child.stdin!.write(bytes),
    onDrain: (listener) => child.stdin!.on('drain', listener),
    async close() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the simulated board; it runs until stop(). */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  const rateHz = options.rateHz ?? DEFAULT_SAMPLE_RATE_HZ;
  const hexFile = options.hex ?? PREBUILT_UNO_HEX;
  let hexText: string;
  try {
    hexText = readFileSync(hexFile, 'utf8');
  } catch (err) {
    throw new SimulationError(`cannot read the firmware image ${hexFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (npm run firmware builds build/firmware/uno/firmware.hex)' : (err as Error).message}`);
  }
  const volts = typeof options.signal === 'string' ? readSignalVolts(options.signal, rateHz).volts : options.signal;
  if (volts.length === 0) throw new SimulationError('the signal has no samples');
  const loop = options.loop ?? true;
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new SimulationError(`speed must be above 0 (got ${speed})`);
  const cyclesPerSample = UNO_CLOCK_HZ / rateHz;

  const pty = options.output === 'pty' ? await openPty() : undefined;
  let pending: number[] = [];
  let bytesOut = 0;
  let bytesDropped = 0;
  let blocked = false;
  const uno = new Uno(hexText, {
    onByte: (b) => pending.push(b),
    volts: (cycle) => {
      const i = Math.floor(cycle / cyclesPerSample);
      return volts[loop ? i % volts.length : Math.min(i, volts.length - 1)]!;
    },
  });
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes = Buffer.from(pending);
    pending = [];
    bytesOut += bytes.length;
    if (typeof options.output === 'function') options.output(bytes);
    else if (pty) {
      // Nobody reading the port: like a USB-serial chip, the bytes are lost, not piled up.
      if (blocked) bytesDropped += bytes.length;
      else blocked = !pty.write(bytes);
    }
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const waiters: { ms: number; resolve: () => void }[] = [];
  const simulatedMs = (): number => (uno.cpu.cycles * 1000) / UNO_CLOCK_HZ;
  const started = performance.now();
  const step = (): void => {
    timer = undefined;
    if (stopped) return;
    const limit = (MAX_SLICE_MS * UNO_CLOCK_HZ) / 1000;
    const due = Number.isFinite(speed) ? ((performance.now() - started) * speed * UNO_CLOCK_HZ) / 1000 : uno.cpu.cycles + limit;
    const cycles = Math.min(due - uno.cpu.cycles, limit);
    if (cycles > 0) uno.run(cycles);
    flush();
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (simulatedMs() >= waiters[i]!.ms) waiters.splice(i, 1)[0]!.resolve();
    }
    const behind = Number.isFinite(speed) && ((performance.now() - started) * speed * UNO_CLOCK_HZ) / 1000 > uno.cpu.cycles;
    timer = Number.isFinite(speed) && !behind ? setTimeout(step, SLICE_MS) : setImmediate(step) as unknown as NodeJS.Timeout;
  };
  // Writable again: the reader is back.
  pty?.onDrain(() => (blocked = false));
  step();

  return {
    ptyPath: pty?.path,
    rateHz,
    setLeadOff: (off) => uno.setLeadOff(off),
    until: (ms) => (simulatedMs() >= ms ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ ms, resolve }))),
    stats: () => ({ cycles: uno.cpu.cycles, simulatedMs: simulatedMs(), bytesOut, bytesDropped }),
    async stop() {
      stopped = true;
      if (timer) {
        clearTimeout(timer);
        clearImmediate(timer as unknown as NodeJS.Immediate);
      }
      flush();
      for (const w of waiters.splice(0)) w.resolve();
      await pty?.close();
    },
  };
}

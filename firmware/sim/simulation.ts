/**
 * Runs the compiled Uno firmware in avr8js in real time, its ADC fed from a heart recording, and
 * hands its serial output to a pseudo-terminal (socat), to a callback, or to nobody. The bridge
 * opens the pty like a board's port. No AVR toolchain is needed: by default the committed image
 * firmware/prebuilt/uno.hex runs.
 *
 * The board runs on a thread of its own (simulation-worker.ts), so it keeps time however busy the
 * caller's thread is (a stream server, a bridge) and has a core to itself when there is one.
 *
 *   const sim = await startSimulation({ signal: 'test/data/heart/mitdb/100.adc.csv.gz', output: 'pty' });
 *   sim.ptyPath  // e.g. /tmp/plotwire-sim-XXXX/ttyPLOTWIRE
 *   await sim.stop();
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_SAMPLE_RATE_HZ } from '../../shared/limits.js';
import { SharedBoardCounters } from './board-stats.js';
import { IntelHexError, parseIntelHex, programWords } from './intel-hex.js';
import { readSignalVolts } from './recordings.js';
import type { FromWorker, ToWorker, WorkerConfig } from './simulation-worker.js';
import { UNO_CLOCK_HZ } from './uno.js';
import { PlotwireError } from '../../shared/errors.js';

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
  /**
   * Resolves once the simulation has run until simulatedMs. The board holds there until the code
   * after the await has run, so what it does (setLeadOff) happens at that simulated moment.
   */
  until(simulatedMs: number): Promise<void>;
  stats(): SimulationStats;
  stop(): Promise<void>;
}

export class SimulationError extends PlotwireError {
  readonly code = 'PW_ERR_SIMULATION';
}

/**
 * The worker's module beside this one; from the TypeScript sources it starts through tsx. It gets
 * the caller's node options (loaders, conditions) but --input-type, which a worker refuses.
 */
function startWorker(config: WorkerConfig): Worker {
  const execArgv = process.execArgv.filter((arg, i, all) => !arg.startsWith('--input-type') && all[i - 1] !== '--input-type');
  return import.meta.url.endsWith('.ts')
    ? new Worker(new URL('./tsx-worker.mjs', import.meta.url), { workerData: config, execArgv, argv: [new URL('./simulation-worker.ts', import.meta.url).href] })
    : new Worker(new URL('./simulation-worker.js', import.meta.url), { workerData: config, execArgv });
}

function readProgram(hexFile: string): Uint16Array {
  let hexText: string;
  try {
    hexText = readFileSync(hexFile, 'utf8');
  } catch (err) {
    throw new SimulationError(`cannot read the firmware image ${hexFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (npm run firmware builds build/firmware/uno/firmware.hex)' : (err as Error).message}`);
  }
  try {
    return programWords(parseIntelHex(hexText));
  } catch (err) {
    if (err instanceof IntelHexError) throw new SimulationError(`${hexFile}: ${err.message}`);
    throw err;
  }
}

/** Starts the simulated board; it runs until stop(). */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  const rateHz = options.rateHz ?? DEFAULT_SAMPLE_RATE_HZ;
  const program = readProgram(options.hex ?? PREBUILT_UNO_HEX);
  const volts = typeof options.signal === 'string' ? readSignalVolts(options.signal, rateHz).volts : options.signal;
  if (volts.length === 0) throw new SimulationError('the signal has no samples');
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new SimulationError(`speed must be above 0 (got ${speed})`);
  const { output } = options;

  const counters = new SharedBoardCounters();
  const worker = startWorker({
    program,
    volts,
    rateHz,
    loop: options.loop ?? true,
    speed,
    output: typeof output === 'function' ? 'post' : output,
    counters: counters.buffer,
  });
  const send = (message: ToWorker): void => worker.postMessage(message);
  const waiters = new Map<number, { resolve(): void; reject(err: Error): void }>();
  let nextId = 0;
  let failure: SimulationError | undefined;
  let onReady: { resolve(path: string | undefined): void; reject(err: Error): void } | undefined;
  const ready = new Promise<string | undefined>((resolve, reject) => (onReady = { resolve, reject }));
  const fail = (err: SimulationError): void => {
    failure ??= err;
    onReady?.reject(failure);
    for (const w of waiters.values()) w.reject(failure);
    waiters.clear();
  };
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      if (!stopping) fail(new SimulationError('the simulation thread ended unexpectedly'));
      resolve();
    }),
  );
  worker.on('error', (err) => fail(new SimulationError(`the simulation thread failed: ${err.message}`)));
  worker.on('message', (message: FromWorker) => {
    switch (message.type) {
      case 'ready':
        onReady?.resolve(message.ptyPath);
        onReady = undefined;
        break;
      case 'bytes':
        if (typeof output === 'function') output(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
        break;
      case 'reached':
        for (const id of message.ids) {
          waiters.get(id)?.resolve();
          waiters.delete(id);
        }
        // Whoever waited acts on the board (its continuations run first) before it runs on.
        if (message.held) setImmediate(() => send({ type: 'release' }));
        break;
      case 'failed':
        fail(new SimulationError(message.message));
        break;
      case 'stopped':
        void worker.terminate();
        break;
    }
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      send({ type: 'stop' });
      await exited;
      for (const w of waiters.values()) w.resolve();
      waiters.clear();
    })());
  let ptyPath: string | undefined;
  try {
    ptyPath = await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  const stats = (): SimulationStats => {
    const c = counters.read();
    return { ...c, simulatedMs: (c.cycles * 1000) / UNO_CLOCK_HZ };
  };

  return {
    ptyPath,
    rateHz,
    setLeadOff: (off) => send({ type: 'leadOff', off }),
    until(ms) {
      if (stats().simulatedMs >= ms || stopping) return Promise.resolve();
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      send({ type: 'until', id, ms });
      return new Promise<void>((resolve, reject) => waiters.set(id, { resolve, reject }));
    },
    stats,
    stop,
  };
}

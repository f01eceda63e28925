/**
 * The simulated board's own thread, started by startSimulation (simulation.ts): runs the Uno paced
 * to the wall clock and passes its serial output on, to a pseudo-terminal it owns (so the bytes
 * never wait for the caller's thread) or to the caller's thread as messages.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { SharedBoardCounters } from './board-stats.js';
import { Pacer } from './pacer.js';
import { openPty, type Pty } from './pty.js';
import { otherHolders } from '../../bridge/sources/tty-exclusive.js';

/** How often the simulated Uno looks whether a program opened its port. */
const RESET_POLL_MS = 200;
import { UNO_CLOCK_HZ, Uno } from './uno.js';

export interface WorkerConfig {
  /** The flash as words. */
  readonly program: Uint16Array;
  /** Volts on the analog pin at the firmware's sample rate. */
  readonly volts: Float64Array;
  readonly rateHz: number;
  readonly loop: boolean;
  readonly speed: number;
  /** 'post': each slice's bytes go to the caller's thread as a 'bytes' message. */
  readonly output: 'pty' | 'post' | 'none';
  /** A SharedBoardCounters' buffer. */
  readonly counters: SharedArrayBuffer;
}

/** From the caller's thread. */
export type ToWorker =
  /** Say 'reached' once the CPU has run until ms of simulated time, holding there until 'release'. */
  | { readonly type: 'until'; readonly id: number; readonly ms: number }
  | { readonly type: 'leadOff'; readonly off: boolean }
  | { readonly type: 'release' }
  | { readonly type: 'stop' };

/** To the caller's thread: 'ready' or 'failed' first, 'stopped' last. */
export type FromWorker =
  | { readonly type: 'ready'; readonly ptyPath: string | undefined }
  | { readonly type: 'bytes'; readonly bytes: Uint8Array }
  /** held: the board waits for a 'release'. */
  | { readonly type: 'reached'; readonly ids: readonly number[]; readonly held: boolean }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stopped' };

const port = parentPort!;
const config = workerData as WorkerConfig;
/** A nice value: below the host's processes, well above idle. */
const BOARD_NICE = 10;
const send = (message: FromWorker, transfer?: TransferListItem[]): void => port.postMessage(message, transfer);
const cyclesAt = (ms: number): number => Math.ceil((ms * UNO_CLOCK_HZ) / 1000);

/**
 * Lowers this thread's scheduling priority (Linux: a thread is its own task, found in
 * /proc/thread-self). The simulated board stands in for a chip of its own: when the host is short
 * of CPU, the host's side of the path (bridge, server, browser) goes first and the board catches
 * up after, as the pacer allows, rather than the other way round.
 */
function yieldToHost(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(readFileSync('/proc/thread-self/stat', 'latin1').split(' ', 1)[0]);
    setPriority(tid, BOARD_NICE);
  } catch {
    // Not allowed, or no /proc: the board runs at the host's priority.
  }
}

async function run(): Promise<void> {
  yieldToHost();
  let pty: Pty | undefined;
  if (config.output === 'pty') {
    try {
      pty = await openPty();
    } catch (err) {
      send({ type: 'failed', message: (err as Error).message });
      port.close();
      return;
    }
  }
  const { volts, loop } = config;
  const cyclesPerSample = UNO_CLOCK_HZ / config.rateHz;
  const pending: number[] = [];
  const uno = new Uno(config.program, {
    onByte: (b) => pending.push(b),
    volts: (cycle) => {
      const i = Math.floor(cycle / cyclesPerSample);
      return volts[loop ? i % volts.length : Math.min(i, volts.length - 1)]!;
    },
  });
  const counters = new SharedBoardCounters(config.counters);
  let bytesOut = 0;
  let bytesDropped = 0;
  let blocked = false;
  // Writable again: the reader is back.
  pty?.onDrain(() => (blocked = false));
  // An Uno resets when a program opens its port (DTR through a capacitor to RESET), and so says
  // hello to the reader; so does the simulated one (cutting the line it was sending, as an Uno
  // does). What it sent before the open is flushed by the open.
  let readers = false;
  const resetOnOpen = pty
    ? setInterval(() => {
        const now = otherHolders(pty.path).length > 0;
        if (now && !readers) uno.reset();
        readers = now;
      }, RESET_POLL_MS)
    : undefined;
  const flush = (): void => {
    if (pending.length > 0) {
      const bytes = Uint8Array.from(pending);
      pending.length = 0;
      bytesOut += bytes.length;
      if (config.output === 'post') send({ type: 'bytes', bytes }, [bytes.buffer]);
      else if (pty) {
        // Nobody reading the port: like a USB-serial chip, the bytes are lost, not piled up.
        if (blocked) bytesDropped += bytes.length;
        else blocked = !pty.write(bytes);
      }
    }
    counters.write({ cycles: uno.cpu.cycles, bytesOut, bytesDropped });
  };

  const waiters: { id: number; cycles: number }[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (failure?: string): Promise<void> =>
    (stopping ??= (async () => {
      pacer.stop();
      clearInterval(resetOnOpen);
      flush();
      if (failure !== undefined) send({ type: 'failed', message: failure });
      await pty?.close();
      send({ type: 'stopped' });
      port.close();
    })());
  const pacer = new Pacer(uno, {
    speed: config.speed,
    afterSlice: flush,
    onHold() {
      const ids = waiters.filter((w) => w.cycles <= uno.cpu.cycles).map((w) => w.id);
      waiters.splice(0, waiters.length, ...waiters.filter((w) => w.cycles > uno.cpu.cycles));
      send({ type: 'reached', ids, held: true });
    },
    onFailure: (err) => void stop(`the simulated board failed: ${(err as Error).stack ?? String(err)}`),
  });

  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'until': {
        const cycles = cyclesAt(message.ms);
        if (uno.cpu.cycles >= cycles) send({ type: 'reached', ids: [message.id], held: false });
        else {
          waiters.push({ id: message.id, cycles });
          pacer.holdAt(cycles);
        }
        break;
      }
      case 'leadOff':
        uno.setLeadOff(message.off);
        break;
      case 'release':
        pacer.release();
        break;
      case 'stop':
        void stop();
        break;
    }
  });
  send({ type: 'ready', ptyPath: pty?.path });
}

await run();

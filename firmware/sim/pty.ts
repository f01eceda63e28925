/**
 * Serial ports without a board, from socat's pseudo-terminals: the simulator's port (its other end
 * a pipe to us), and a linked pair for tests and benchmarks (a reader opens one end like a board's
 * port, a writer plays the board on the other).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlotwireError } from '../../shared/errors.js';

export class PtyError extends PlotwireError {
  readonly code = 'PW_ERR_PTY';
}

export interface Pty {
  readonly path: string;
  /** False when the pipe is full (nobody reading the terminal): wait for onDrain. */
  write(bytes: Uint8Array): boolean;
  onDrain(listener: () => void): void;
  /** Ends socat and removes the terminal. */
  close(): Promise<void>;
}

export interface PtyPair {
  /** The end a reader opens like a board's port. */
  readonly device: string;
  /** The end the test writes to, as the board. */
  readonly feeder: string;
  /** Writes to the feeder side, respecting back-pressure. */
  write(data: string | Buffer): Promise<void>;
  /** Ends socat: the device side then reads EIO (or a hang-up), like an unplugged board. */
  close(): Promise<void>;
}

const READY_MS = 10_000;

/** Starts socat and waits until it has made every link, or says why it could not. */
async function socat(args: string[], links: readonly string[], stdio: 'pipe' | 'ignore'): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  let child: ChildProcess;
  try {
    child = spawn('socat', args, { stdio: [stdio, 'ignore', 'pipe'] });
  } catch (err) {
    throw new PtyError(`cannot start socat for the pseudo-terminal: ${(err as Error).message}`);
  }
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new PtyError(err.code === 'ENOENT' ? 'socat is not installed (apt-get install socat); or use --stdout' : `socat: ${err.message}`)),
    );
    child.once('exit', (code) => reject(new PtyError(`socat exited (${code}) before the pseudo-terminal was ready: ${stderr.trim()}`)));
  });
  const ready = (async () => {
    const deadline = Date.now() + READY_MS;
    while (!links.every((l) => existsSync(l))) {
      if (Date.now() > deadline) throw new PtyError(`socat did not create ${links.join(' and ')} in ${READY_MS / 1000} s`);
      await sleep(10);
    }
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  failed.catch(() => undefined);
  return { child, exited };
}

/** A pseudo-terminal whose other end is a pipe to this process: a simulated board's serial port. */
export async function openPty(): Promise<Pty> {
  const dir = mkdtempSync(join(tmpdir(), 'plotwire-sim-'));
  const link = join(dir, 'ttyPLOTWIRE');
  let started: Awaited<ReturnType<typeof socat>>;
  try {
    started = await socat([`PTY,raw,echo=0,link=${link}`, 'STDIO'], [link], 'pipe');
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { child, exited } = started;
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

/** Two linked pseudo-terminals, `name`-dev and `name`-feed in `dir` (default: a new temporary folder). */
export async function openPtyPair(dir = mkdtempSync(join(tmpdir(), 'plotwire-pty-')), name = 'pty'): Promise<PtyPair> {
  const device = join(dir, `${name}-dev`);
  const feeder = join(dir, `${name}-feed`);
  const { child, exited } = await socat([`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${feeder}`], [device, feeder], 'ignore');
  let out: WriteStream | undefined;
  return {
    device,
    feeder,
    async write(data) {
      out ??= createWriteStream(feeder, { flags: 'w' });
      const stream = out;
      if (!stream.write(data)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    },
    async close() {
      out?.destroy();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

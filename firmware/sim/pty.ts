/**
 * A pseudo-terminal from socat whose other end is a pipe to us: the serial port of a simulated
 * board, which a reader (the bridge) opens like a real board's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class PtyError extends Error {
  override readonly name = 'PtyError';
}

export interface Pty {
  readonly path: string;
  /** False when the pipe is full (nobody reading the terminal): wait for onDrain. */
  write(bytes: Uint8Array): boolean;
  onDrain(listener: () => void): void;
  /** Ends socat and removes the terminal. */
  close(): Promise<void>;
}

export async function openPty(): Promise<Pty> {
  const dir = mkdtempSync(join(tmpdir(), 'plotwire-sim-'));
  const link = join(dir, 'ttyPLOTWIRE');
  let child: ChildProcess;
  try {
    child = spawn('socat', [`PTY,raw,echo=0,link=${link}`, 'STDIO'], { stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
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
    for (let i = 0; i < 200 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 10));
    if (!existsSync(link)) throw new PtyError(`socat did not create ${link}`);
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (err) {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
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

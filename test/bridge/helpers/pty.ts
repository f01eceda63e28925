/** A real pseudo-terminal pair from socat: the bridge opens `device`, the test writes to `feeder`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export interface PtyPair {
  readonly device: string;
  readonly feeder: string;
  /** Writes to the feeder side, respecting back-pressure. */
  write(data: string | Buffer): Promise<void>;
  /** Ends socat: the device side then reads EIO, like an unplugged board. */
  close(): Promise<void>;
}

export async function ptyPair(dir: string, name: string): Promise<PtyPair> {
  const device = join(dir, `${name}-dev`);
  const feeder = join(dir, `${name}-feed`);
  const socat: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${feeder}`], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  for (let i = 0; !(existsSync(device) && existsSync(feeder)); i++) {
    if (i > 200) throw new Error('socat did not create the pty pair in 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
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
      socat.kill('SIGTERM');
      await exited;
    },
  };
}

/** socat pty pairs and the built bridge CLI as a child process, for the benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// The CLI from its sources through tsx, as bench/run.ts runs the benchmarks: no build needed.
const cli = join(import.meta.dirname, '../../cli/main.ts');

export interface Pty {
  readonly device: string;
  readonly feeder: string;
  write(data: string): Promise<void>;
  close(): void;
}

export async function pty(): Promise<Pty> {
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-'));
  const device = join(dir, 'dev');
  const feeder = join(dir, 'feed');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${feeder}`], { stdio: 'ignore' });
  while (!(existsSync(device) && existsSync(feeder))) await new Promise((r) => setTimeout(r, 20));
  let out: WriteStream | undefined;
  return {
    device,
    feeder,
    async write(data) {
      out ??= createWriteStream(feeder);
      const s = out;
      if (!s.write(data)) await new Promise<void>((r) => s.once('drain', () => r()));
    },
    close() {
      out?.destroy();
      socat.kill('SIGTERM');
    },
  };
}

export interface BridgeChild {
  readonly child: ChildProcess;
  /** Resolves when a JSON log record with this event arrives. */
  waitFor(event: string): Promise<Record<string, unknown>>;
  /** Called with every JSON log record. */
  onRecord(listener: (record: Record<string, unknown>) => void): void;
  /** CPU time used so far (user + system), in ms. */
  cpuMs(): number;
  rssKb(): number;
  stop(): Promise<void>;
}

export function startBridge(args: string[]): BridgeChild {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'bridge', '--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const waiting = new Map<string, Array<(r: Record<string, unknown>) => void>>();
  const listeners: Array<(r: Record<string, unknown>) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const row = JSON.parse(line) as Record<string, unknown>;
    for (const l of listeners) l(row);
    for (const resolve of waiting.get(String(row.event)) ?? []) resolve(row);
    waiting.delete(String(row.event));
  });
  const ticks = 100; // USER_HZ on Linux
  return {
    child,
    waitFor: (event) => new Promise((resolve) => waiting.set(event, [...(waiting.get(event) ?? []), resolve])),
    onRecord: (listener) => void listeners.push(listener),
    cpuMs() {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
    },
    rssKb() {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes `perSecond` lines a second for `seconds` (or as fast as `perSecond` allows), in 10 ms slices. */
export async function feed(p: Pty, perSecond: number, seconds: number, line: (i: number) => string): Promise<number> {
  const total = Math.round(perSecond * seconds);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * perSecond));
    let text = '';
    for (; sent < due; sent++) text += line(sent);
    if (text) await p.write(text);
    await sleep(Number(process.env.FEED_SLICE_MS ?? 2));
  }
  return total;
}

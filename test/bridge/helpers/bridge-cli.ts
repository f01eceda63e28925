/** The built `plotwire bridge` as a child process with --json, its records collected. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const cli = join(import.meta.dirname, '../../../dist/cli/main.js');

export type LogRow = Record<string, unknown> & { event: string; msg?: string };

export interface BridgeProcess {
  readonly child: ChildProcess;
  readonly records: LogRow[];
  /** Resolves with the first record (already seen or coming) that matches. */
  waitFor(match: (r: LogRow) => boolean, timeoutMs?: number): Promise<LogRow>;
  /** Peak resident memory so far, in kB (VmHWM). */
  peakRssKb(): number;
  rssKb(): number;
  /** SIGTERM, then the "final" record. */
  stop(): Promise<LogRow>;
  stderr(): string;
}

/** Exit code once it exited (resolves at exit). */
export function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** `plotwire bridge --json ARGS`; with stdin, its standard input is a pipe (child.stdin). */
export function startBridge(args: string[], options: { stdin?: boolean } = {}): BridgeProcess {
  const child = spawn(process.execPath, [cli, 'bridge', '--json', ...args], { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const records: LogRow[] = [];
  const waiters: Array<{ match: (r: LogRow) => boolean; resolve: (r: LogRow) => void }> = [];
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let row: LogRow;
    try {
      row = JSON.parse(line) as LogRow;
    } catch {
      row = { event: 'not-json', msg: line };
    }
    records.push(row);
    for (const w of [...waiters]) {
      if (w.match(row)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(row);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const status = (key: string): number => {
    const text = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  };
  const waitFor = (match: (r: LogRow) => boolean, timeoutMs = 15_000): Promise<LogRow> => {
    const seen = records.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching record in ${timeoutMs} ms; records: ${records.map((r) => r.msg ?? r.event).join(' / ')}; stderr: ${err}`));
      }, timeoutMs);
      waiters.push({
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  };
  return {
    child,
    records,
    waitFor,
    peakRssKb: () => status('VmHWM'),
    rssKb: () => status('VmRSS'),
    async stop() {
      const final = waitFor((r) => r.event === 'final', 15_000);
      child.kill('SIGTERM');
      const row = await final;
      await exited;
      return row;
    },
    stderr: () => err,
  };
}

/**
 * Processes for the benchmarks: socat pty pairs, the built bridge CLI, and ES modules given as
 * source (the server under test and bare baselines), each alone in its process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PtyPair as Pty } from '../../firmware/sim/pty.js';
import { MissingFileError } from '../../shared/errors.js';
import { BenchError } from './bench-error.js';

// The built CLI, as users run it (npm run bench builds first): a CPU figure without tsx's loader.
const cli = join(import.meta.dirname, '../../dist/cli/main.js');

export { openPtyPair as pty, type PtyPair as Pty } from '../../firmware/sim/pty.js';

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
  if (!existsSync(cli)) throw new MissingFileError(`${cli} is missing: run npm run build (npm run bench does)`);
  const child = spawn(process.execPath, [...(process.env.BRIDGE_NODE_FLAGS?.split(' ') ?? []), cli, 'bridge', '--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const waiting = new Map<string, Array<(r: Record<string, unknown>) => void>>();
  const listeners: Array<(r: Record<string, unknown>) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const row = JSON.parse(line) as Record<string, unknown>;
    for (const l of listeners) l(row);
    for (const resolve of waiting.get(String(row.event)) ?? []) resolve(row);
    waiting.delete(String(row.event));
  });
  return {
    child,
    waitFor: (event) => new Promise((resolve) => waiting.set(event, [...(waiting.get(event) ?? []), resolve])),
    onRecord: (listener) => void listeners.push(listener),
    cpuMs: () => cpuSeconds(child.pid as number) * 1000,
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

export { sleep };

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

export interface Child {
  readonly child: ChildProcess;
  /** The first JSON line the child printed (a baseline says where it listens). */
  readonly hello: Record<string, unknown>;
  /** Resolves with the next JSON line. */
  nextLine(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Runs an ES module given as source text in its own node process (its args are process.argv.slice(1)); it talks in JSON lines on stdout. */
export async function spawnModule(source: string, args: string[] = [], nodeArgs: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', source, '--', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const waiting: { resolve(line: Record<string, unknown>): void; reject(err: Error): void }[] = [];
  let read = 0;
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    const w = waiting.shift();
    if (w) {
      read++;
      w.resolve(line);
    }
  });
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new BenchError(`benchmark child exited (${code}) before answering`));
  });
  const nextLine = (): Promise<Record<string, unknown>> =>
    read < lines.length ? Promise.resolve(lines[read++] as Record<string, unknown>) : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const hello = await nextLine();
  return {
    child,
    hello,
    nextLine,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * What a child answers to "memory" on stdin after a full GC (it runs with --expose-gc and
 * MEMORY_ANSWER in its source): heap and off-heap bytes in use.
 */
export interface Memory {
  readonly used: number;
}

/** Source for a child that answers "memory" lines (run it with --expose-gc). */
export const MEMORY_ANSWER = `
import { createInterface as lines } from 'node:readline';
lines({ input: process.stdin }).on('line', (line) => {
  if (line !== 'memory') return;
  globalThis.gc();
  const m = process.memoryUsage();
  console.log(JSON.stringify({ used: m.heapUsed + m.external }));
});
`;

export async function memoryOf(child: Child): Promise<Memory> {
  child.child.stdin?.write('memory\n');
  return (await child.nextLine()) as unknown as Memory;
}

/** A process's parent, name and CPU time (user + system, seconds) from /proc (Linux). */
function procStat(pid: number): { ppid: number; name: string; cpuSeconds: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  // After "pid (comm) ": ppid is field 1, utime and stime 11 and 12. Clock ticks: 100 a second on Linux.
  return { ppid: Number(fields[1]), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(') ')), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

/** CPU time (user + system) a process has used, in seconds (Linux). */
export function cpuSeconds(pid: number): number {
  return procStat(pid).cpuSeconds;
}

/** Every process now running, with its pid (those that exit while being read are left out). */
function allProcesses(): Array<{ pid: number; ppid: number; name: string; cpuSeconds: number }> {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        return [{ pid: Number(d), ...procStat(Number(d)) }];
      } catch {
        return [];
      }
    });
}

/** CPU time of a process and all its descendants, in seconds (a browser and its helpers). */
export function treeCpuSeconds(root: number): number {
  const all = allProcesses();
  const inTree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) if (!inTree.has(p.pid) && inTree.has(p.ppid)) grew = inTree.add(p.pid) !== undefined;
  }
  return all.filter((p) => inTree.has(p.pid)).reduce((sum, p) => sum + p.cpuSeconds, 0);
}

/** The pid of a child of `parent` with this process name, if there is one. */
export function childNamed(parent: number, name: string): number | undefined {
  return allProcesses().find((p) => p.ppid === parent && p.name === name)?.pid;
}

/**
 * Reads the device side of a pty straight, the bare baseline of the bridge benchmarks: each
 * line's "v" and the time (performance.timeOrigin-based ms) its bytes came. Returns stop.
 */
export function readPtyLines(p: Pty, onLine: (v: number, at: number) => void): () => void {
  let pending = '';
  const reader = createReadStream(p.device, { highWaterMark: 4096 });
  // EIO when socat goes away at the end.
  reader.on('error', () => undefined);
  reader.on('data', (chunk) => {
    const at = performance.timeOrigin + performance.now();
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      onLine((JSON.parse(pending.slice(0, nl)) as { v: number }).v, at);
      pending = pending.slice(nl + 1);
    }
  });
  return () => reader.destroy();
}

/** Child processes for benchmarks: the server under test and bare baselines, each alone in its process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

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
    for (const w of waiting.splice(0)) w.reject(new Error(`benchmark child exited (${code}) before answering`));
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

/** CPU time (user + system) a process has used, in seconds (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are at 11 and 12. Clock ticks: 100 a second on Linux.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

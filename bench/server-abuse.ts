/**
 * Abuse: the attacks of issue 11 against `plotwire server` on its embedded defaults, each beside
 * an idle baseline in the same run. While each runs, a canary plot (a writer at 20 objects/s and
 * a viewer, in a process of its own) streams; the table gives the server's RSS peak and open
 * descriptors (sampled every 20 ms from /proc), and the canary's p99 latency and lost points.
 * Targets (issue 11): RSS under 300 MB through every attack, canary p99 under 100 ms, no canary
 * point lost. (A full database is left to the tests: it refuses every writer, the canary too.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { serverProcess, tempDir, type ServerProcess } from '../test/server/helpers.js';
import { spawnModule, sleep, type Child } from './lib/processes.js';
import { printTable, verdict } from './lib/table.js';
import { BenchError } from './lib/bench-error.js';

const PHASE_S = Number(process.env.ABUSE_PHASE_S ?? 6);
const RSS_TARGET_MB = 300;
const P99_TARGET_MS = 100;

const CANARY = `
import { createInterface } from 'node:readline';
import { Canary } from ${JSON.stringify(new URL('../test/server/canary.ts', import.meta.url).href)};
const canary = await Canary.start(process.argv[1], process.argv[2]);
console.log(JSON.stringify({ started: true }));
createInterface({ input: process.stdin }).on('line', async () => {
  console.log(JSON.stringify(await canary.stop()));
  process.exit(0);
});
`;

/** Peaks of the server's RSS and descriptor count while sampling. */
class Sampler {
  private timer: NodeJS.Timeout | undefined;
  rssMb = 0;
  fds = 0;
  /** Descriptors at the last sample. */
  last = 0;

  constructor(private readonly pid: number) {}

  start(): void {
    this.rssMb = 0;
    this.fds = 0;
    const sample = (): void => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1]);
        this.rssMb = Math.max(this.rssMb, kb / 1024);
        this.last = readdirSync(`/proc/${this.pid}/fd`).length;
        this.fds = Math.max(this.fds, this.last);
      } catch {
        // The server is gone: the phase reports what it saw.
      }
    };
    sample();
    this.timer = setInterval(sample, 20);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function open(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(socket));
  });
}

/** Resolves when a socket can take more, or is gone. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done).off('close', done);
      resolve();
    };
    socket.on('drain', done).on('close', done);
  });
}

/** Writes a request and resolves when the server closes the connection (or `ms` passed). */
function send(port: number, bytes: (string | Buffer)[], ms = 30_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (d) => (text += d.toString('latin1').slice(0, 2000)));
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', async () => {
      for (const b of bytes) {
        if (socket.destroyed) break;
        if (!socket.write(b)) await drained(socket);
      }
    });
  });
}

const chunk = (data: string): string => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
const streamHead = (token: string): string => `POST / HTTP/1.1\r\nHost: bench\r\nplotly-streamtoken: ${token}\r\nTransfer-Encoding: chunked\r\n\r\n`;

interface Ctx {
  readonly server: ServerProcess;
  readonly apiKey: string;
  api(path: string, body?: unknown): Promise<Record<string, unknown>>;
}

/** Each attack: what it does, for the phase's length (or until it is done). */
const attacks: { name: string; seconds?: number; run(ctx: Ctx, until: number): Promise<void> }[] = [
  { name: 'idle (baseline)', run: async (_ctx, until) => sleep(until - Date.now()) },
  {
    // The issue's measurement: 500 lines of 20 points with 50 KB of text on a maxpoints: 10 trace.
    name: "one token's memory: 500 lines x 20 points x 50 KB text, maxpoints 10",
    async run(ctx) {
      const { token } = (await ctx.api('/api/v1/tokens', {})) as { token: string };
      await ctx.api('/api/v1/plots', { title: 'memory attack', traces: [{ token, maxpoints: 10 }] });
      const text = 'a'.repeat(50_000);
      const line = chunk(`${JSON.stringify({ append: { y: Array.from({ length: 20 }, (_, i) => i), text: Array.from({ length: 20 }, () => text) } })}\n`);
      const answer = await send(ctx.server.port, [streamHead(token), ...Array.from({ length: 500 }, () => line), '0\r\n\r\n'], 120_000);
      if (!answer.startsWith('HTTP/1.1 200')) throw new BenchError(`the memory attack's stream was not stored: ${answer.slice(0, 200)}`);
    },
  },
  {
    // 1,500 connections from 15 addresses: silent, a few bytes short of a decision, and web heads trickled a byte every 2 s.
    name: 'slow connections: 1,500 silent, partial and trickling',
    // Past the 10 s head deadline, so the phase shows them cut.
    seconds: 14,
    async run(ctx, until) {
      const sockets: Socket[] = [];
      for (let i = 0; i < 1500; i++) {
        const s = await open(ctx.server.port, `127.0.1.${1 + (i % 15)}`);
        if (i % 3 === 1) s.write('POS');
        if (i % 3 === 2) s.write('GET /api/v1/health HTTP/1.1\r\n');
        sockets.push(s);
      }
      const drip = setInterval(() => sockets.forEach((s, i) => i % 3 === 2 && !s.destroyed && s.write('X')), 2000);
      await sleep(until - Date.now());
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    },
  },
  {
    // The issue's measurement: 100 unauthenticated ~8 MiB /clientresp bodies, args before un and key.
    name: 'unauthenticated /clientresp: 100 bodies of 8 MiB',
    async run(ctx) {
      const args = `[{"y":[${'1,'.repeat(4 * 1024 * 1024 - 10)}1]}]`;
      const body = `platform=nodejs&args=${args}&un=nobody&key=wrong&origin=plot`;
      const head = `POST /clientresp HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
      const bytes = Buffer.from(head + body);
      const answers = await Promise.all(Array.from({ length: 100 }, () => send(ctx.server.port, [bytes])));
      if (answers.some((a) => a.startsWith('HTTP/1.1 5') && !a.startsWith('HTTP/1.1 503'))) throw new BenchError('an unauthenticated form got a server error');
    },
  },
  {
    // The issue's measurement: 30 stream lines of 0.9 MB, each adding layout keys (here 30 streams, one line each, as each stream ends at its first).
    name: 'layout growth: 30 lines of 0.9 MB layout keys',
    async run(ctx) {
      const { token } = (await ctx.api('/api/v1/tokens', {})) as { token: string };
      await ctx.api('/api/v1/plots', { title: 'layout attack', traces: [{ token }] });
      for (let i = 0; i < 30; i++) {
        const line = chunk(`${JSON.stringify({ layout: { [`key${i}`]: 'l'.repeat(900_000) } })}\n`);
        await send(ctx.server.port, [streamHead(token), line, '0\r\n\r\n']);
      }
    },
  },
];

async function main(): Promise<void> {
  const data = tempDir('plotwire-bench-');
  const server = await serverProcess(data.dir);
  try {
    while (!server.logs.some((l) => l.event === 'default-user')) await sleep(20);
    const apiKey = server.logs.find((l) => l.event === 'default-user')?.apiKey as string;
    const ctx: Ctx = {
      server,
      apiKey,
      async api(path, body) {
        const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
        return (await res.json()) as Record<string, unknown>;
      },
    };
    const sampler = new Sampler(server.child.pid as number);
    const rows: (string | number)[][] = [];
    for (const attack of attacks) {
      const canary: Child = await spawnModule(CANARY, [server.url, apiKey], ['--import', 'tsx']);
      await sleep(500);
      sampler.start();
      const started = Date.now();
      const end = started + (attack.seconds ?? PHASE_S) * 1000;
      await attack.run(ctx, end);
      // Whatever the attack left behind settles (or the canary sees its effect) within the phase.
      await sleep(Math.max(1000, end - Date.now()));
      sampler.stop();
      canary.child.stdin?.write('stop\n');
      const report = await canary.nextLine();
      await canary.stop();
      const ok = sampler.rssMb < RSS_TARGET_MB && (report.p99 as number) < P99_TARGET_MS && report.lost === 0;
      rows.push([
        attack.name,
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
        Math.round(sampler.rssMb),
        sampler.fds,
        sampler.last,
        `${report.received} of ${report.sent}`,
        report.lost as number,
        Number((report.p50 as number).toFixed(1)),
        Number((report.p99 as number).toFixed(1)),
        verdict(ok),
      ]);
    }
    printTable(
      'Server under abuse: each attack beside an idle baseline, embedded defaults, a canary plot (writer at 20 objects/s, one viewer) streaming throughout',
      ['phase', 'length', 'server RSS peak MB', 'server descriptors peak', 'at the end', 'canary points', 'canary lost', 'canary p50 ms', 'canary p99 ms', `target RSS < ${RSS_TARGET_MB} MB, p99 < ${P99_TARGET_MS} ms, none lost`],
      rows,
    );
  } finally {
    await server.stop();
    data.remove();
  }
}

await main();

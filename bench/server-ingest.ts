/**
 * Ingest: points per second the server stores, with 1, 10 and 100 concurrent streams of
 * batch-append objects (x as the bridge's date strings) over real sockets, timed from the first
 * byte to the last answer (the server answers a stream after its points are committed). Baseline,
 * same run: the same bytes into a bare node:net sink that only reads them. Server and sink each
 * run alone in a child process. Target (issue 3): >= 200,000 points/s on this 2-core machine.
 */
import { connect } from 'node:net';
import { serverProcess, tempDir, type ServerProcess } from '../test/server/helpers.js';
import { cpuSeconds, spawnModule, type Child } from './lib/processes.js';
import { printTable, verdict } from './lib/table.js';
import { BenchError } from './lib/bench-error.js';

const TOTAL_POINTS = 1_000_000;
/** 25: a 500 Hz sensor in the bridge's 50 ms windows; 250: a 5 kHz one. */
const POINTS_PER_OBJECT = [25, 250];
const STREAMS = [1, 10, 100];
const ROUNDS = 2;
const TARGET = 200_000;

/** A sensor at 1 kHz, x as the bridge writes it ("YYYY-MM-DD HH:MM:SS.ffffff"). */
function dateOf(ms: number): string {
  const d = new Date(Date.UTC(2026, 10, 22, 10) + ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}000`;
}

/** One stream's whole request: head, one chunk per object, the final chunk. */
function streamBytes(token: string, points: number, perObject: number): Buffer {
  const parts = [`POST / HTTP/1.1\r\nHost: bench\r\nplotly-streamtoken: ${token}\r\nTransfer-Encoding: chunked\r\n\r\n`];
  for (let seq = 0; seq < points; seq += perObject) {
    const n = Math.min(perObject, points - seq);
    const x = Array.from({ length: n }, (_, i) => dateOf(seq + i));
    const y = Array.from({ length: n }, (_, i) => 512 + Math.round(300 * Math.sin((seq + i) / 40)));
    const line = `${JSON.stringify({ append: { x, y }, seq })}\n`;
    parts.push(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
  }
  parts.push('0\r\n\r\n');
  return Buffer.from(parts.join(''));
}

/** Sends every request at once; resolves with the seconds until the last answer, and the answers. */
async function blast(port: number, requests: Buffer[]): Promise<{ seconds: number; answers: string[] }> {
  const start = performance.now();
  const answers = await Promise.all(
    requests.map(
      (bytes) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          const got: Buffer[] = [];
          socket.on('data', (d) => got.push(d));
          socket.on('error', reject);
          socket.on('close', () => resolve(Buffer.concat(got).toString('utf8')));
          socket.end(bytes);
        }),
    ),
  );
  return { seconds: (performance.now() - start) / 1000, answers };
}

/** The baseline: reads each connection to the end of its chunked body, answers 200, nothing else. */
const SINK = `
import { createServer } from 'node:net';
const END = Buffer.from('0\\r\\n\\r\\n');
const server = createServer((socket) => {
  let tail = Buffer.alloc(0);
  socket.on('data', (d) => {
    tail = Buffer.concat([tail, d.subarray(Math.max(0, d.length - END.length))]).subarray(-END.length);
    if (tail.equals(END)) socket.end('HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\n{}');
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`;

async function newTokens(server: ServerProcess, apiKey: string, count: number): Promise<string[]> {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const { token } = (await (await fetch(`${server.url}/api/v1/tokens`, { method: 'POST', headers })).json()) as { token: string };
    // Each token feeds a plot, as in use (no one is watching: this is ingest alone).
    await fetch(`${server.url}/api/v1/plots`, { method: 'POST', headers, body: JSON.stringify({ title: `bench ${i}`, traces: [{ token, maxpoints: 1000 }] }) });
    tokens.push(token);
  }
  return tokens;
}

async function main(): Promise<void> {
  const data = tempDir('plotwire-bench-');
  const server = await serverProcess(data.dir);
  const sink: Child = await spawnModule(SINK);
  try {
    while (!server.logs.some((l) => l.event === 'default-user')) await new Promise((r) => setTimeout(r, 20));
    const apiKey = server.logs.find((l) => l.event === 'default-user')?.apiKey as string;
    const rows: (string | number)[][] = [];
    for (const perObject of POINTS_PER_OBJECT) for (const streams of STREAMS) {
      const perStream = TOTAL_POINTS / streams;
      let best = { server: 0, sink: 0, cpu: 0, mib: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        // Fresh tokens every round: each starts at seq 0, so every point is new to the server.
        const tokens = await newTokens(server, apiKey, streams);
        const requests = tokens.map((t) => streamBytes(t, perStream, perObject));
        const bytes = requests.reduce((sum, b) => sum + b.length, 0);
        const cpuBefore = cpuSeconds(server.child.pid as number);
        const stored = await blast(server.port, requests);
        const cpu = cpuSeconds(server.child.pid as number) - cpuBefore;
        for (const answer of stored.answers) {
          const next = Number(/"next":(\d+)/.exec(answer)?.[1]);
          if (!answer.startsWith('HTTP/1.1 200') || next !== perStream) throw new BenchError(`a stream was not stored whole: ${answer.slice(0, 300)}`);
        }
        const sunk = await blast(sink.hello.port as number, requests);
        const rate = TOTAL_POINTS / stored.seconds;
        if (rate > best.server) best = { server: rate, sink: TOTAL_POINTS / sunk.seconds, cpu: (cpu / TOTAL_POINTS) * 1e6, mib: bytes / 2 ** 20 };
        else best.sink = Math.max(best.sink, TOTAL_POINTS / sunk.seconds);
      }
      rows.push([
        streams,
        perObject,
        `${best.mib.toFixed(1)} MiB`,
        Math.round(best.server),
        Math.round(best.sink),
        `${((best.server / best.sink) * 100).toFixed(0)} %`,
        `${best.cpu.toFixed(2)} s`,
        verdict(best.server >= TARGET),
      ]);
    }
    printTable(
      `Server ingest: ${TOTAL_POINTS.toLocaleString('en-US')} points stored per run over loopback, batch-append objects, best of ${ROUNDS}`,
      ['streams', 'points/object', 'bytes sent', 'plotwire points/s stored', 'bare net sink points/s (baseline)', 'of baseline', 'server CPU per 1M points', `target >= ${TARGET.toLocaleString('en-US')}/s`],
      rows,
    );
  } finally {
    await Promise.all([server.stop(), sink.stop()]);
    data.remove();
  }
}

await main();

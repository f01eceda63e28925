/**
 * The fan-out benchmarks' two sides: viewers (raw SSE sockets noting each event's latency, in a
 * process of their own) and a writer that puts its write time in every x.
 */
import { connect, type Socket } from 'node:net';

/**
 * The bare baseline: SSE responses, and each line of a chunked POST / written to all of them as
 * plotwire's event, with no parsing at all. Its first argument says how: "chunked" (node:http's
 * default), "unchunked" (the body runs to the connection's close, as plotwire sends it), or
 * "merged" (unchunked, and each viewer's events of one turn of the event loop leave in one write:
 * the same bytes in the same syscalls as plotwire's, which also holds its next writes when other
 * processes kept it waiting).
 */
export const bareSource = (points: number): string => `
import { createServer } from 'node:http';
const mode = process.argv[1];
const viewers = new Set();
let corked = false;
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    if (mode !== 'chunked') res.useChunkedEncodingByDefault = false;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\\n\\nid: 1.AAAAAAAA-0\\nevent: init\\ndata: {}\\n\\n');
    if (mode === 'merged') res.socket.setNoDelay(true);
    viewers.add(res);
    res.on('close', () => viewers.delete(res));
    return;
  }
  let text = '';
  let index = 0;
  req.setEncoding('utf8');
  req.on('data', (d) => {
    text += d;
    for (let nl = text.indexOf('\\n'); nl >= 0; nl = text.indexOf('\\n')) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (!line.startsWith('{"append":')) continue;
      // {"append":UPDATE,"seq":N} -> the event plotwire sends for it.
      const update = line.slice(10, line.lastIndexOf(',"seq"'));
      const start = index;
      index += ${points};
      const message = 'id: 1.AAAAAAAA-' + index + '\\nevent: append\\ndata: {"traces":[0],"start":' + start + ',"update":' + update + '}\\n\\n';
      if (mode === 'merged' && !corked) {
        corked = true;
        for (const v of viewers) v.socket.cork();
        setImmediate(() => { corked = false; for (const v of viewers) v.socket.uncork(); });
      }
      for (const v of viewers) v.write(message);
    }
  });
  req.on('end', () => res.end('{}'));
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));`;

/**
 * The viewers: raw sockets that GET the event stream and, for each append, note now minus the
 * write time the writer put in its last x. Says "connected" when every viewer has its first event,
 * and the latencies when told "mark" (then starts counting afresh) or "report" on stdin.
 */
export const VIEWERS_SOURCE = `
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
const [port, path, count] = process.argv.slice(1);
const now = () => performance.timeOrigin + performance.now();
const APPEND = Buffer.from('event: append');
const X = Buffer.from('"x":[');
const END = Buffer.from('\\n\\n');
const latencies = [];
/** Kept cheap (Buffers, no decoding): this process shares the machine with the server it measures. */
function open() {
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let rest = null;
    let started = false;
    socket.on('data', (d) => {
      const at = now();
      const buf = rest ? Buffer.concat([rest, d]) : d;
      let from = 0;
      for (let end = buf.indexOf(END, from); end >= 0; end = buf.indexOf(END, from)) {
        const a = buf.indexOf(APPEND, from);
        if (a >= 0 && a < end) {
          const close = buf.indexOf(93, buf.indexOf(X, a));
          const comma = buf.lastIndexOf(44, close);
          latencies.push(at - Number(buf.toString('latin1', comma + 1, close)));
        } else if (!started) {
          started = true;
          resolve();
        }
        from = end + 2;
      }
      rest = from < buf.length ? buf.subarray(from) : null;
    });
    socket.on('error', (err) => { console.error('viewer:', err.message); resolve(); });
    socket.write('GET ' + path + ' HTTP/1.1\\r\\nHost: bench\\r\\nAccept: text/event-stream\\r\\n\\r\\n');
  });
}
for (let i = 0; i < Number(count); i += 50) await Promise.all(Array.from({ length: Math.min(50, Number(count) - i) }, open));
console.log(JSON.stringify({ connected: Number(count) }));
function stats() {
  const sorted = Float64Array.from(latencies).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return { received: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
}
// "mark": the latencies so far (a warm-up), counted no further; "report": those since, and exit.
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'mark') {
    console.log(JSON.stringify(stats()));
    latencies.length = 0;
  } else if (line === 'report') {
    console.log(JSON.stringify(stats()));
    process.exit(0);
  }
});
`;

/** How a benchmark's writer streams: `objects` objects of `points` points, one every `intervalMs`. */
export interface Pace {
  readonly objects: number;
  readonly intervalMs: number;
  readonly points: number;
}

/** Streams at the pace given, each x holding its write time (ms since the epoch), as the viewers expect. */
export async function write(port: number, token: string, firstSeq: number, pace: Pace): Promise<void> {
  const { objects: OBJECTS, intervalMs: INTERVAL_MS, points: POINTS_PER_OBJECT } = pace;
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST / HTTP/1.1\r\nHost: bench\r\nplotly-streamtoken: ${token}\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const y = Array.from({ length: POINTS_PER_OBJECT }, (_, i) => 512 + i);
  const started = performance.now();
  for (let i = 0; i < OBJECTS; i++) {
    // Keep the pace to the clock, not to the timers' drift.
    const due = started + i * INTERVAL_MS - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    const sent = performance.timeOrigin + performance.now();
    const x = Array.from({ length: POINTS_PER_OBJECT }, (_, k) => Number((sent - (POINTS_PER_OBJECT - 1 - k) * 2).toFixed(3)));
    const line = `${JSON.stringify({ append: { x, y }, seq: firstSeq + i * POINTS_PER_OBJECT })}\n`;
    socket.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
  }
  socket.end('0\r\n\r\n');
  // Read the answer to the end, or the socket never closes.
  socket.resume();
  await new Promise((resolve) => socket.once('close', resolve));
}


/**
 * A minimal stream endpoint for the bridge benchmarks: answers the state query and reads chunked
 * POST bodies, timing each object as its bytes arrive. It does as little as possible, so what is
 * measured is the bridge (the real server's cost is the server's own benchmark).
 */
import { createServer, type Server } from 'node:http';

export interface Receiver {
  readonly url: string;
  /** Points received per token. */
  readonly points: Map<string, number>;
  close(): Promise<void>;
}

/** onObject is called with each object and the time its last byte arrived (performance.now()). */
export async function startReceiver(onObject?: (token: string, obj: { append?: { y: number[] }; seq?: number }, at: number) => void): Promise<Receiver> {
  const points = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const token = String(req.headers['plotly-streamtoken'] ?? '');
    if (req.method === 'GET') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ next: points.get(token) ?? 0 }));
      return;
    }
    let pending = '';
    req.setEncoding('utf8');
    req.on('data', (text: string) => {
      const at = performance.now();
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line) continue;
        const obj = JSON.parse(line) as { append?: { y: number[] }; seq?: number };
        const n = obj.append?.y.length ?? 1;
        const next = points.get(token) ?? 0;
        points.set(token, Math.max(next, (obj.seq ?? next) + n));
        onObject?.(token, obj, at);
      }
    });
    req.on('end', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    points,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

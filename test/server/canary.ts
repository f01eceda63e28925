/**
 * The canary plot: a writer at 20 objects/s (Plotly's rate) and a viewer on its own plot, on raw
 * sockets opened before an attack starts. Every point the writer sends must reach the viewer,
 * and how long each took says how much the attack slowed the server for everyone else.
 * Used by the abuse tests and by bench/server-abuse.ts (in a process of its own there).
 */
import { connect, type Socket } from 'node:net';

export interface CanaryReport {
  readonly sent: number;
  readonly received: number;
  /** Points sent that never reached the viewer. */
  readonly lost: number;
  /** The writer's answer when the canary stopped (200 when its stream was whole). */
  readonly status: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number) : NaN;

const chunk = (data: string): string => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;

export class Canary {
  private readonly sentAt = new Map<number, number>();
  private readonly latencies: number[] = [];
  private received = 0;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private writer!: Socket;
  private viewer!: Socket;
  private answer = '';

  private constructor(
    private readonly port: number,
    private readonly token: string,
    private readonly eventsPath: string,
    private readonly intervalMs: number,
  ) {}

  /** Makes a token and a plot through the API, opens the viewer and the writer, and starts writing. */
  static async start(baseUrl: string, apiKey: string, intervalMs = 50): Promise<Canary> {
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const { token } = (await (await fetch(`${baseUrl}/api/v1/tokens`, { method: 'POST', headers })).json()) as { token: string };
    const plot = (await (
      await fetch(`${baseUrl}/api/v1/plots`, { method: 'POST', headers, body: JSON.stringify({ title: 'canary', traces: [{ token, maxpoints: 10_000 }] }) })
    ).json()) as { url: string };
    const canary = new Canary(Number(new URL(baseUrl).port), token, `${new URL(plot.url).pathname}/events`, intervalMs);
    await canary.open();
    return canary;
  }

  private async open(): Promise<void> {
    this.viewer = connect(this.port, '127.0.0.1');
    this.viewer.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      this.viewer.once('connect', resolve);
      this.viewer.once('error', reject);
    });
    let text = '';
    let inBody = false;
    this.viewer.setEncoding('utf8');
    this.viewer.on('data', (d: string) => {
      text += d;
      if (!inBody) {
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        text = text.slice(end + 4);
        inBody = true;
      }
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        if (!block.includes('event: append')) continue;
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const now = performance.now();
        for (const y of (JSON.parse(data.slice(6)) as { update: { y: number[] } }).update.y) {
          const at = this.sentAt.get(y);
          if (at === undefined) continue;
          this.sentAt.delete(y);
          this.received++;
          this.latencies.push(now - at);
        }
      }
    });
    this.viewer.on('error', () => undefined);
    this.viewer.write(`GET ${this.eventsPath} HTTP/1.1\r\nHost: canary\r\nAccept: text/event-stream\r\n\r\n`);

    this.writer = connect(this.port, '127.0.0.1');
    this.writer.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      this.writer.once('connect', resolve);
      this.writer.once('error', reject);
    });
    this.writer.on('data', (d: Buffer) => (this.answer += d.toString()));
    this.writer.on('error', () => undefined);
    this.writer.write(`POST / HTTP/1.1\r\nHost: canary\r\nplotly-streamtoken: ${this.token}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    this.timer = setInterval(() => this.write(), this.intervalMs);
  }

  private write(): void {
    const i = this.next++;
    this.sentAt.set(i, performance.now());
    this.writer.write(chunk(`{"x":${i},"y":${i}}\n`));
  }

  /** Points the viewer has received so far. */
  get count(): number {
    return this.received;
  }

  /** Stops writing, ends the stream, waits (up to waitMs) for the viewer to have every point, and reports. */
  async stop(waitMs = 5000): Promise<CanaryReport> {
    clearInterval(this.timer);
    const sent = this.next;
    this.writer.write('0\r\n\r\n');
    const end = Date.now() + waitMs;
    while ((this.received < sent || !this.answer.includes('\r\n\r\n')) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    this.writer.destroy();
    this.viewer.destroy();
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      sent,
      received: this.received,
      lost: sent - this.received,
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(this.answer)?.[1] ?? 0),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? NaN,
    };
  }
}

/**
 * A stream writer for tests that behaves like the bridge: batch-append objects with `seq` in a
 * chunked POST over a raw socket; after a break it asks the server what it stored and resends
 * from there. It remembers every point it made, so a test can compare what a viewer shows.
 */
import { connect, type Socket } from 'node:net';
import { STREAM_STATE_PATH, STREAM_TOKEN_HEADER } from '../../shared/index.js';
import { chunk, streamHead } from '../server/helpers.js';

export interface Point {
  readonly x: number;
  readonly y: number;
  readonly text: string | null;
}

/** The y of point `seq`: a wave, so screenshots look like a signal. */
export const waveY = (seq: number): number => Math.round(500 + 400 * Math.sin(seq / 9));

export class TestWriter {
  /** Every point made so far; a point's x is xOf(its seq) (its seq unless told). */
  readonly points: Point[] = [];
  private socket: Socket | undefined;
  private answer: Promise<Record<string, unknown>> | undefined;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly xOf: (seq: number) => number = (seq) => seq,
  ) {}

  get xs(): number[] {
    return this.points.map((p) => p.x);
  }

  /** Opens the stream (the server answers when it ends). */
  async open(): Promise<void> {
    const { hostname, port } = new URL(this.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const received: Buffer[] = [];
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => undefined);
    this.answer = new Promise((resolve) =>
      socket.once('close', () => {
        const text = Buffer.concat(received).toString('utf8');
        const body = text.slice(text.indexOf('\r\n\r\n') + 4);
        resolve({ status: Number(text.slice(9, 12)), ...(JSON.parse(body || '{}') as Record<string, unknown>) });
      }),
    );
    socket.write(streamHead(this.token));
    this.socket = socket;
  }

  /** Makes `n` new points and sends them as one object; while the line is down they wait for resume(). */
  push(n: number, withText = false): void {
    const first = this.points.length;
    for (let i = 0; i < n; i++) this.points.push({ x: this.xOf(first + i), y: waveY(first + i), text: withText ? `point ${first + i}` : null });
    this.send(first, this.points.length);
  }

  /** Makes `n` points and sends each as its own Plotly object ({"x":..,"y":..}), in one socket write. */
  pushSingles(n: number): void {
    let body = '';
    for (let i = 0; i < n; i++) {
      const seq = this.points.length;
      const x = this.xOf(seq);
      this.points.push({ x, y: waveY(seq), text: null });
      body += chunk(`${JSON.stringify({ x, y: waveY(seq) })}\n`);
    }
    if (this.socket?.writable) this.socket.write(body);
  }

  /** After a break: asks the server how far it stored, reconnects and resends the rest. */
  async resume(): Promise<number> {
    const res = await fetch(`${this.url}${STREAM_STATE_PATH}`, { headers: { [STREAM_TOKEN_HEADER]: this.token } });
    const { next } = (await res.json()) as { next: number };
    await this.open();
    for (let from = next; from < this.points.length; from += 1000) this.send(from, Math.min(from + 1000, this.points.length));
    return next;
  }

  /** Ends the body and returns the server's answer ({status, points, next, ...}). */
  async end(): Promise<Record<string, unknown>> {
    if (this.socket?.writable) this.socket.end('0\r\n\r\n');
    return (await this.answer) ?? {};
  }

  /** The server's answer once the stream ends by the server's doing (a stop, a takeover). */
  ended(): Promise<Record<string, unknown>> {
    return this.answer ?? Promise.resolve({});
  }

  private send(from: number, to: number): void {
    if (!this.socket?.writable || from >= to) return;
    const batch = this.points.slice(from, to);
    const append: Record<string, unknown[]> = { x: batch.map((p) => p.x), y: batch.map((p) => p.y) };
    if (batch.some((p) => p.text !== null)) append.text = batch.map((p) => p.text);
    this.socket.write(chunk(`${JSON.stringify({ append, seq: from })}\n`));
  }
}

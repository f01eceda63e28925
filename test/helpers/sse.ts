/** A small SSE client for tests over real HTTP: each event with its id, read in order. */
import { get, type IncomingMessage } from 'node:http';

export interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

export interface EventStream {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** The next event not read yet (waits for it). */
  next(): Promise<SseEvent>;
  /** Events that arrived and were not read yet. */
  unread(): SseEvent[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** An SSE client as small as the format: "id:", "event:", "data:" lines, a blank line ends an event. */
export function openEvents(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const events: SseEvent[] = [];
      const waiting: ((e: SseEvent) => void)[] = [];
      let read = 0;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const field = (name: string): string | undefined => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
          const data = field('data');
          if (data === undefined) continue;
          const event = { id: field('id') ?? '', event: field('event') ?? 'message', data: JSON.parse(data) as Record<string, unknown> };
          const waiter = waiting.shift();
          if (waiter) {
            read++;
            waiter(event);
          }
          events.push(event);
        }
      });
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        next: () => (read < events.length ? Promise.resolve(events[read++] as SseEvent) : new Promise((r) => waiting.push(r))),
        unread: () => events.slice(read),
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}


/**
 * Standard input as a source (`--serial -`): a script reading a sensor on the Pi's GPIO or I2C
 * pipes JSON lines into the bridge and gets everything a board gets. Bytes are read as they come
 * (each line timed by its arrival); at its end the source ends, and so does the bridge.
 */
import type { Connection, Connector, Link, LinkHandlers } from './link.js';

export class StdinConnector implements Connector {
  readonly spec = { kind: 'stdin' } as const;
  readonly reopens = false;

  constructor(private readonly input: NodeJS.ReadableStream = process.stdin) {}

  async connect(): Promise<Connection> {
    return { link: new StdinLink(this.input) };
  }
}

class StdinLink implements Link {
  readonly name = 'standard input';
  readonly byteMs = 0;
  private done = false;

  constructor(private readonly input: NodeJS.ReadableStream) {}

  start(handlers: LinkHandlers): void {
    const end = (err: Error | undefined): void => {
      if (this.done) return;
      this.done = true;
      handlers.ended(err);
    };
    this.input.on('data', (chunk: Buffer | string) => {
      const at = Date.now();
      handlers.bytes(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, at, at);
    });
    this.input.once('end', () => end(undefined));
    this.input.once('error', (err: Error) => end(err));
  }

  async close(): Promise<void> {
    this.done = true;
    this.input.pause();
    (this.input as { destroy?: () => void }).destroy?.();
  }
}

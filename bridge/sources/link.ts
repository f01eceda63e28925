/**
 * The one interface behind every kind of source (a serial tty, standard input, a TCP socket):
 * a Connector finds and opens the board, giving a Link that delivers bytes until it ends. The
 * rules around them (look again while the board is away, say why once, reopen after a loss or a
 * stall, frame and time the bytes) are LineSource's, the same for all.
 */
import type { PortSpec } from '../port-spec.js';
import type { PortInfo } from '../ports.js';

export interface LinkHandlers {
  /**
   * Bytes read at `at` (ms since the epoch), which may have waited unread since `since` (when
   * reading last paused; `at` when they were read as they came). Valid only during the call.
   */
  bytes(chunk: Buffer, at: number, since: number): void;
  /** The link ended: lost (an error) or at its end (standard input's EOF: no error). */
  ended(error: Error | undefined): void;
}

/** One open connection to a board. */
export interface Link {
  /** What logs call it: "/dev/ttyACM0", "tcp://arduino.local:6571". */
  readonly name: string;
  /** ms a byte takes on the wire (serial: 10 bits at the baud rate); 0 when unknown. */
  readonly byteMs: number;
  /** What is known of the port (a serial port's USB identity). */
  readonly info?: PortInfo;
  /** Words for the log line when it opens ("at 115200 baud (Arduino Uno), USB 2341:0043"). */
  readonly detail?: string;
  start(handlers: LinkHandlers): void;
  /** Closes it on purpose: ended() is not called after. */
  close(): Promise<void>;
}

export type Connection = { readonly link: Link } | { readonly wait: string };

/** How one kind of source finds and opens its board. */
export interface Connector {
  readonly spec: PortSpec;
  /** Whether a lost link is looked for again (standard input is not: it ends). */
  readonly reopens: boolean;
  /** Opens the board now, or says why not yet (said once; the source looks again). */
  connect(): Promise<Connection>;
  /** USB identity learned, for stats. */
  readonly identity?: string;
}

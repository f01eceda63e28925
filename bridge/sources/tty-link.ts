/**
 * Reading an open serial port. On Linux: a second, read-only, non-blocking descriptor of the same
 * tty, read by libuv as bytes arrive (serialport's own read goes through the thread pool and a
 * poll per chunk, which at 1 kHz lines was most of the bridge's CPU; the binding keeps the first
 * descriptor, its settings and lock). With a read interval, after each read that emptied the tty
 * reading pauses for the interval and the kernel holds what comes meanwhile; then what waited is
 * read at once and reading goes on as bytes arrive. A slow board's line is so read the moment it
 * comes (its own time), a fast board's costs one wake-up per interval, and every read says since
 * when its bytes may have waited (ArrivalClock spreads them). Elsewhere: the binding's read.
 */
import { constants, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReadStream as TtyReadStream } from 'node:tty';
import type { AutoDetectTypes } from '@serialport/bindings-cpp';
import { PlotwireError } from '../../shared/errors.js';
import type { LinkHandlers } from './link.js';

export type SerialPort = Awaited<ReturnType<AutoDetectTypes['open']>>;

/** The port's device went away (an unplug, or a board reset that re-enumerates its USB). */
export class DeviceHungUpError extends PlotwireError {
  readonly code = 'PW_ERR_HUNG_UP';
}

/** Bytes per read: many lines at once, far below what a serial link delivers between reads. */
const READ_SIZE = 16 * 1024;
/** The most one read of a Linux tty gives (its line discipline's 4 KiB buffer, less one). */
const TTY_BUFFER_BYTES = 4095;

/** Reads `port` until it fails or stop() is called; returns stop. */
export function readSerial(port: SerialPort, readIntervalMs: number, handlers: LinkHandlers): () => void {
  const fd = (port as { fd?: number | null }).fd;
  if (process.platform === 'linux' && typeof fd === 'number') {
    try {
      const own = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
      return readTty(own, readIntervalMs, handlers);
    } catch {
      // No /proc: the binding's read below.
    }
  }
  return readBinding(port, readIntervalMs, handlers);
}

function readTty(fd: number, readIntervalMs: number, handlers: LinkHandlers): () => void {
  const buffer = Buffer.allocUnsafe(READ_SIZE);
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const finish = (err: Error | undefined): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    stream.destroy();
    if (err) handlers.ended(err);
  };
  /** Reads what waited during a pause; false when the tty failed or hung up. */
  const drain = (since: number): boolean => {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return true;
        finish(err as Error);
        return false;
      }
      // A tty read of 0 bytes is a hang-up (an unplug): with nothing waiting it says EAGAIN.
      if (n === 0) {
        finish(new DeviceHungUpError('the device hung up'));
        return false;
      }
      handlers.bytes(buffer.subarray(0, n), Date.now(), since);
      since = Date.now();
      if (n < TTY_BUFFER_BYTES) return true;
    }
  };
  const stream = new TtyReadStream(fd, {
    onread: {
      buffer,
      callback: (n: number, buf: Buffer): boolean => {
        const at = Date.now();
        handlers.bytes(buf.subarray(0, n), at, at);
        // A full read means the kernel held bytes back: go on reading, the interval must not cap throughput.
        if (readIntervalMs === 0 || n >= TTY_BUFFER_BYTES) return true;
        timer = setTimeout(() => {
          if (!done && drain(at)) stream.resume();
        }, readIntervalMs);
        return false; // stops libuv reading until the timer
      },
    },
  } as ConstructorParameters<typeof TtyReadStream>[1]);
  stream.once('error', (err) => finish(err));
  // A hang-up (unplug) ends the stream.
  stream.once('close', () => finish(new DeviceHungUpError('the device hung up')));
  stream.resume();
  return () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    // Closes the descriptor too (libuv owns it now).
    stream.destroy();
  };
}

/** Elsewhere: read from the binding in a loop, optionally pausing between reads. */
function readBinding(port: SerialPort, readIntervalMs: number, handlers: LinkHandlers): () => void {
  let stopped = false;
  void (async () => {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let since = Date.now();
    while (!stopped) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await port.read(buf, 0, buf.length));
      } catch (err) {
        if (!stopped) handlers.ended(err as Error);
        return;
      }
      const at = Date.now();
      handlers.bytes(buf.subarray(0, bytesRead), at, since);
      since = at;
      if (readIntervalMs > 0 && bytesRead < buf.length) await sleep(readIntervalMs);
    }
  })();
  return () => {
    stopped = true;
  };
}

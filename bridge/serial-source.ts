/**
 * One board's serial port as a source of lines: opens by path, `auto` (the first likely board) or
 * USB identity; frames lines with a bound; and when the port goes away (unplug, EIO) or falls
 * silent longer than the watchdog allows, closes it and opens the same board again, found by its
 * USB identity (vendor, product, serial number) rather than its old path.
 * Its length is the three ways it reads a port (a Linux tty on a timer or as bytes arrive, and
 * the binding's read elsewhere), kept beside the open/reopen rules they share.
 */
import { EventEmitter } from 'node:events';
import { closeSync, constants, existsSync, openSync, readSync, realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReadStream as TtyReadStream } from 'node:tty';
import { autoDetect } from '@serialport/bindings-cpp';
import type { AutoDetectTypes } from '@serialport/bindings-cpp';
import { DEFAULT_BAUD, MAX_LINE, PlotwireError } from '../shared/index.js';
import { DeviceLineFramer, type FramerCounts } from './device-line-framer.js';
import type { LogRecord } from '../shared/log.js';
import { describeIdentity, identityOf, likelyBoard, listPorts, matchesIdentity, pickBoard, type ListPorts, type PortInfo, type UsbIdentity } from './ports.js';

export interface SerialSourceOptions {
  /** A device path, "auto" (the first likely board), or "usb:VID:PID[:SERIAL]". */
  readonly port: string;
  readonly baudRate?: number;
  /** serialport binding (default: the platform's). */
  readonly binding?: AutoDetectTypes;
  /** Port lister (default: listPorts). Tests pass their own, since an unplug cannot happen here. */
  readonly list?: ListPorts;
  /** How often to look for the board while it is away, in ms (default 1000). */
  readonly rescanMs?: number;
  /** Reopen when no byte came for this long, in ms (default 15000; 0 turns it off). */
  readonly watchdogMs?: number;
  /**
   * Read every this many ms, everything waiting at once: one wake-up per interval however fast
   * lines come, and up to this much more latency (default 0: read as bytes arrive).
   */
  readonly readIntervalMs?: number;
  readonly maxLine?: number;
}

export type SerialState = 'searching' | 'opening' | 'open' | 'closed';

export interface SerialStats {
  readonly port: string;
  readonly path: string | undefined;
  readonly identity: string | undefined;
  readonly state: SerialState;
  readonly opens: number;
  /** Times it looked for the board (the first open included). */
  readonly searches: number;
  readonly bytes: number;
  readonly watchdogReopens: number;
  readonly framer: FramerCounts;
}

export interface SerialSourceEvents {
  /**
   * A complete line as bytes buf[start, end) without its newline (valid only during the call),
   * and when its bytes arrived (ms since the epoch).
   */
  line: [buf: Buffer, start: number, end: number, receivedAt: number];
  /** The port opened (first time or again). */
  open: [PortInfo];
  /** The port closed or vanished; a reopen is under way unless close() was called. */
  lost: [];
  log: [LogRecord];
}

type SerialPort = Awaited<ReturnType<AutoDetectTypes['open']>>;

/** Bytes per read: many lines at once, far below what a serial link delivers between reads. */
const READ_SIZE = 16 * 1024;
/** The most one read of a Linux tty gives (its line discipline's 4 KiB buffer, less one). */
const TTY_BUFFER_BYTES = 4095;

const USB_SPEC = /^usb:([0-9a-f]{4}):([0-9a-f]{4})(?::(.+))?$/i;

/** The port's device went away (an unplug, or a board reset that re-enumerates its USB). */
export class DeviceHungUpError extends PlotwireError {
  readonly code = 'PW_ERR_HUNG_UP';
}

export class SerialSource extends EventEmitter<SerialSourceEvents> {
  private readonly binding: AutoDetectTypes;
  private readonly list: ListPorts;
  private readonly baudRate: number;
  private readonly rescanMs: number;
  private readonly watchdogMs: number;
  private readonly readIntervalMs: number;
  private readonly framer: DeviceLineFramer;
  private identity: UsbIdentity | undefined;
  private port: SerialPort | undefined;
  private path: string | undefined;
  private state_: SerialState = 'searching';
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private lastByteAt = 0;
  private lastWait = '';
  private counts = { opens: 0, searches: 0, bytes: 0, watchdogReopens: 0 };
  private closed = false;
  /** Stops the current port's reader (the tty descriptor on Linux). */
  private closeReader: () => void = () => undefined;

  constructor(private readonly options: SerialSourceOptions) {
    super();
    this.binding = options.binding ?? autoDetect();
    this.list = options.list ?? listPorts;
    this.baudRate = options.baudRate ?? DEFAULT_BAUD;
    this.rescanMs = options.rescanMs ?? 1_000;
    this.watchdogMs = options.watchdogMs ?? 15_000;
    this.readIntervalMs = options.readIntervalMs ?? 0;
    this.framer = new DeviceLineFramer(options.maxLine ?? MAX_LINE);
    const usb = USB_SPEC.exec(options.port);
    if (usb) this.identity = { vendorId: usb[1]!.toLowerCase(), productId: usb[2]!.toLowerCase(), serialNumber: usb[3] };
  }

  get state(): SerialState {
    return this.state_;
  }

  get stats(): SerialStats {
    return {
      port: this.options.port,
      path: this.path,
      identity: this.identity && describeIdentity(this.identity),
      state: this.state_,
      ...this.counts,
      framer: { ...this.framer.counts },
    };
  }

  start(): this {
    void this.attempt();
    return this;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state_ = 'closed';
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdogTimer);
    const port = this.port;
    this.port = undefined;
    this.closeReader();
    if (port?.isOpen) await port.close().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    this.state_ = 'searching';
    this.counts.searches++;
    let target: PortInfo | undefined;
    try {
      target = await this.find();
    } catch (err) {
      this.waiting(`cannot list serial ports: ${(err as Error).message}`);
      return this.retry();
    }
    if (this.closed) return;
    if (!target) {
      this.waiting(this.identity ? `waiting for the board ${describeIdentity(this.identity)} to appear` : `waiting for ${this.options.port} to appear`);
      return this.retry();
    }
    this.state_ = 'opening';
    let port: SerialPort;
    try {
      port = await this.binding.open({ path: target.path, baudRate: this.baudRate });
    } catch (err) {
      if (this.closed) return;
      this.waiting(`cannot open ${target.path}: ${openHint(err as Error)}`);
      return this.retry();
    }
    if (this.closed) {
      await port.close().catch(() => undefined);
      return;
    }
    this.opened(port, target);
  }

  /** The port to open now, or undefined while the board is away. */
  private async find(): Promise<PortInfo | undefined> {
    const spec = this.options.port;
    if (this.identity) {
      const id = this.identity;
      return (await this.list()).find((p) => matchesIdentity(p, id));
    }
    if (spec === 'auto') {
      const ports = await this.list();
      const board = pickBoard(ports);
      if (!board) {
        this.waiting(`no likely board among the serial ports (${ports.map((p) => p.path).join(', ') || 'none'}); run "plotwire ports"`);
      }
      return board;
    }
    if (!existsSync(spec)) return undefined;
    // Learn the board's identity, so after an unplug it is found under whatever path it gets.
    const real = realpathOr(spec);
    const listed = (await this.list().catch(() => [])).find((p) => p.path === spec || realpathOr(p.path) === real);
    return listed ? { ...listed, path: spec } : { path: spec };
  }

  private opened(port: SerialPort, info: PortInfo): void {
    this.port = port;
    this.path = info.path;
    this.state_ = 'open';
    this.lastWait = '';
    this.identity ??= identityOf(info);
    this.counts.opens++;
    this.framer.reset();
    this.lastByteAt = Date.now();
    const board = likelyBoard(info);
    this.log('info', 'serial-open', `opened ${info.path} at ${this.baudRate} baud${board ? ` (${board})` : ''}${this.identity ? `, USB ${describeIdentity(this.identity)}` : ''}`, {
      path: info.path,
      identity: this.identity && describeIdentity(this.identity),
    });
    if (this.watchdogMs > 0) {
      this.watchdogTimer = setInterval(() => {
        if (Date.now() - this.lastByteAt < this.watchdogMs || this.port !== port) return;
        this.counts.watchdogReopens++;
        this.log('warn', 'serial-silent', `no data from ${info.path} for ${Math.round(this.watchdogMs / 1000)} s; reopening it`, { path: info.path });
        void this.drop(port, info);
      }, Math.min(1_000, this.watchdogMs / 4));
    }
    this.emit('open', info);
    void this.readLoop(port, info);
  }

  /** Reads the open port until it fails or is closed, by the cheapest way the platform has. */
  private readLoop(port: SerialPort, info: PortInfo): Promise<void> {
    const onLine = (buf: Buffer, start: number, end: number): void => {
      this.emit('line', buf, start, end, this.lastByteAt);
    };
    const onBytes = (chunk: Buffer): void => {
      this.lastByteAt = Date.now();
      this.counts.bytes += chunk.length;
      // The framer copies what it keeps, so the chunk's memory can be reused.
      this.framer.push(chunk, onLine);
    };
    const failed = async (err: Error): Promise<void> => {
      if (this.port !== port) return; // closed on purpose
      this.log('warn', 'serial-lost', `${info.path}: ${err.message} (unplugged or reset?); looking for the board again`, { path: info.path });
      await this.drop(port, info, true);
    };
    const fd = (port as { fd?: number | null }).fd;
    if (process.platform === 'linux' && typeof fd === 'number') return this.readTty(port, fd, onBytes, failed);
    return this.readBinding(port, onBytes, failed);
  }

  /**
   * Linux: a second, read-only, non-blocking descriptor of the same device. serialport's read
   * goes through the thread pool and a poll per chunk, which at 1 kHz lines was most of the
   * bridge's CPU (bench/bridge-load.ts). The binding keeps the first descriptor (its settings and
   * exclusive lock) and closes it as usual.
   * With a read interval the descriptor is read on a timer, everything waiting at once: a board
   * writing a line every millisecond then costs one wake-up per interval instead of hundreds,
   * and the kernel holds the bytes between reads. Without one, libuv reads as bytes arrive.
   */
  private async readTty(port: SerialPort, fd: number, onBytes: (chunk: Buffer) => void, failed: (err: Error) => Promise<void>): Promise<void> {
    let own: number;
    try {
      own = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch {
      return this.readBinding(port, onBytes, failed);
    }
    if (this.readIntervalMs === 0) return this.readTtyStream(own, onBytes, failed);
    const buf = Buffer.allocUnsafe(READ_SIZE);
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const stop = (err?: Error): void => {
        clearTimeout(timer);
        closeSync(own);
        this.closeReader = () => undefined;
        if (err) void failed(err).then(resolve);
        else resolve();
      };
      /** Reads what waits; the size of the last read, or -1 when the reader stopped. */
      const drain = (): number => {
        for (;;) {
          let n: number;
          try {
            n = readSync(own, buf, 0, buf.length, null);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
            stop(err as Error);
            return -1;
          }
          // A tty read of 0 bytes is a hang-up (an unplug): with nothing waiting it says EAGAIN.
          if (n === 0) {
            stop(new DeviceHungUpError('the device hung up'));
            return -1;
          }
          onBytes(buf.subarray(0, n));
          if (n < buf.length) return n;
        }
      };
      const tick = (): void => {
        const last = drain();
        if (last < 0) return;
        // A read gives at most the line discipline's buffer; a full one means the kernel held
        // bytes back, so read again soon: the interval must not cap the throughput.
        timer = setTimeout(tick, last >= TTY_BUFFER_BYTES ? 1 : this.readIntervalMs);
      };
      timer = setTimeout(tick, this.readIntervalMs);
      this.closeReader = () => stop();
    });
  }

  /** Reads a descriptor through libuv's event loop (epoll), as bytes arrive. */
  private async readTtyStream(own: number, onBytes: (chunk: Buffer) => void, failed: (err: Error) => Promise<void>): Promise<void> {
    const stream = new TtyReadStream(own);
    this.closeReader = () => stream.destroy();
    stream.on('data', onBytes);
    await new Promise<void>((resolve) => {
      stream.once('error', (err) => void failed(err).then(resolve));
      // A hang-up (unplug) ends the stream.
      stream.once('close', () => void failed(new DeviceHungUpError('the device hung up')).then(resolve));
    });
  }

  /** Elsewhere: read from the binding in a loop, optionally pausing between reads. */
  private async readBinding(port: SerialPort, onBytes: (chunk: Buffer) => void, failed: (err: Error) => Promise<void>): Promise<void> {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    while (this.port === port) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await port.read(buf, 0, buf.length));
      } catch (err) {
        return failed(err as Error);
      }
      onBytes(buf.subarray(0, bytesRead));
      if (this.readIntervalMs > 0 && bytesRead < buf.length) await sleep(this.readIntervalMs);
    }
  }

  /** Closes a port that failed or fell silent, and starts looking for the board again. */
  private async drop(port: SerialPort, info: PortInfo, logged = false): Promise<void> {
    if (this.port !== port) return;
    this.port = undefined;
    clearInterval(this.watchdogTimer);
    this.closeReader();
    await port.close().catch(() => undefined);
    if (this.closed) return;
    if (!logged) this.log('info', 'serial-closed', `closed ${info.path}`, { path: info.path });
    this.emit('lost');
    this.retry(0);
  }

  private retry(ms = this.rescanMs): void {
    if (this.closed) return;
    this.state_ = 'searching';
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.attempt(), ms);
  }

  /** Says why it is waiting, once per distinct reason (the rescan runs every second). */
  private waiting(message: string): void {
    if (message === this.lastWait) return;
    this.lastWait = message;
    this.log('warn', 'serial-wait', message, { port: this.options.port });
  }

  private log(level: LogRecord['level'], event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.emit('log', { level, event, message, ...fields });
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function openHint(err: Error): string {
  const m = err.message;
  if (/EACCES|Permission denied/i.test(m)) return `${m} (add your user to the "dialout" group and log in again)`;
  if (/EBUSY|lock/i.test(m)) return `${m} (another program, or another bridge, has the port open)`;
  return m;
}

/**
 * A serial port as a source: found by path, `auto` (the first likely board) or USB identity, and
 * after an unplug found again by its identity (vendor, product, serial number) rather than its old
 * path. Opened exclusively (the binding's lock and TIOCEXCL), and a program that holds the port,
 * or shares it by having opened it first, is named.
 */
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { autoDetect, type AutoDetectTypes } from '@serialport/bindings-cpp';
import { DEFAULT_BAUD } from '../../shared/index.js';
import type { PortSpec } from '../port-spec.js';
import { describeIdentity, identityOf, likelyBoard, listPorts, matchesIdentity, pickBoard, type ListPorts, type PortInfo, type UsbIdentity } from '../ports.js';
import type { Connection, Connector, Link, LinkHandlers } from './link.js';
import { describeHolders, otherHolders, setExclusive } from './tty-exclusive.js';
import { readSerial, type SerialPort } from './tty-link.js';

export interface SerialOptions {
  readonly baudRate?: number;
  /** serialport binding (default: the platform's). */
  readonly binding?: AutoDetectTypes;
  /** Port lister (default: listPorts). Tests pass their own, since an unplug cannot happen here. */
  readonly list?: ListPorts;
  /** Read every this many ms at most (default 0: as bytes arrive); see tty-link.ts. */
  readonly readIntervalMs?: number;
  /** Says things worth knowing that are not a reason to wait (another program shares the port). */
  readonly warn?: (event: string, message: string, fields: Record<string, unknown>) => void;
}

type SerialSpec = Extract<PortSpec, { kind: 'path' | 'auto' | 'usb' }>;

export class SerialConnector implements Connector {
  readonly reopens = true;
  private readonly binding: AutoDetectTypes;
  private readonly list: ListPorts;
  private readonly baudRate: number;
  private usb: UsbIdentity | undefined;

  constructor(
    readonly spec: SerialSpec,
    private readonly options: SerialOptions = {},
  ) {
    this.binding = options.binding ?? autoDetect();
    this.list = options.list ?? listPorts;
    this.baudRate = options.baudRate ?? DEFAULT_BAUD;
    if (spec.kind === 'usb') this.usb = spec.identity;
  }

  get identity(): string | undefined {
    return this.usb && describeIdentity(this.usb);
  }

  async connect(): Promise<Connection> {
    let target: PortInfo | { wait: string };
    try {
      target = await this.find();
    } catch (err) {
      return { wait: `cannot list serial ports: ${(err as Error).message}` };
    }
    if ('wait' in target) return target;
    let port: SerialPort;
    try {
      port = await this.binding.open({ path: target.path, baudRate: this.baudRate });
    } catch (err) {
      return { wait: `cannot open ${target.path}: ${openHint(err as Error, target.path)}` };
    }
    this.usb ??= identityOf(target);
    const fd = (port as { fd?: number | null }).fd;
    const notExclusive = typeof fd === 'number' ? await setExclusive(fd) : 'the binding gives no descriptor';
    const sharing = otherHolders(target.path);
    if (sharing.length > 0) {
      this.options.warn?.('port-shared', `${describeHolders(sharing)} also has ${target.path} open: it takes lines meant for the bridge; stop it (the bridge keeps everyone else out)`, {
        path: target.path,
        holders: sharing,
      });
    }
    const board = likelyBoard(target);
    const detail = [`at ${this.baudRate} baud`, board && `(${board})`, this.usb && `, USB ${describeIdentity(this.usb)}`, notExclusive && `; not exclusive: ${notExclusive}`].filter(Boolean).join(' ').replace(' ,', ',');
    return { link: new SerialLink(port, target, 10_000 / this.baudRate, this.options.readIntervalMs ?? 0, detail) };
  }

  /** The port to open now, or why there is none yet. */
  private async find(): Promise<PortInfo | { wait: string }> {
    const spec = this.spec;
    if (this.usb) {
      const id = this.usb;
      return (await this.list()).find((p) => matchesIdentity(p, id)) ?? { wait: `waiting for the board ${describeIdentity(id)} to appear` };
    }
    if (spec.kind === 'auto') {
      const ports = await this.list();
      return pickBoard(ports) ?? { wait: `waiting for a board: no likely board among the serial ports (${ports.map((p) => p.path).join(', ') || 'none'}); run "plotwire ports"` };
    }
    const path = (spec as { path: string }).path;
    if (!existsSync(path)) return { wait: `waiting for ${path} to appear` };
    // Learn the board's identity, so after an unplug it is found under whatever path it gets.
    const real = realpathOr(path);
    const listed = (await this.list().catch(() => [])).find((p) => p.path === path || realpathOr(p.path) === real);
    return listed ? { ...listed, path } : { path };
  }
}

class SerialLink implements Link {
  readonly name: string;
  private stop: (() => void) | undefined;

  constructor(
    private readonly port: SerialPort,
    readonly info: PortInfo,
    readonly byteMs: number,
    private readonly readIntervalMs: number,
    readonly detail: string,
  ) {
    this.name = info.path;
  }

  start(handlers: LinkHandlers): void {
    this.stop = readSerial(this.port, this.readIntervalMs, handlers);
  }

  async close(): Promise<void> {
    this.stop?.();
    if (this.port.isOpen) await this.port.close().catch(() => undefined);
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Why an open failed, with what to do. Decided by facts, not the binding's words: whether this
 * user may open the device at all, and which program has it open.
 */
function openHint(err: Error, path: string): string {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EACCES') return `${err.message} (add your user to the "dialout" group and log in again)`;
  }
  const holders = otherHolders(path);
  if (holders.length > 0) return `${err.message}: ${describeHolders(holders)} holds it; stop it, or give the bridge another port`;
  return `${err.message} (if another program holds it, sudo fuser -v ${path} names it)`;
}

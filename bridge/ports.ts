/**
 * Serial ports and their USB identity. On Linux the list is read from sysfs directly (serialport's
 * own list runs udevadm, which minimal and container systems lack); elsewhere serialport lists.
 */
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { autoDetect } from '@serialport/bindings-cpp';

export interface PortInfo {
  readonly path: string;
  /** USB vendor and product ids, 4 lower-case hex digits ("2341"). */
  readonly vendorId?: string;
  readonly productId?: string;
  readonly serialNumber?: string;
  readonly manufacturer?: string;
  readonly product?: string;
}

/** What finds the same board again after an unplug, whatever path it comes back under. */
export interface UsbIdentity {
  readonly vendorId: string;
  readonly productId: string;
  readonly serialNumber?: string;
}

export type ListPorts = () => Promise<PortInfo[]>;

/** The ports of this machine. */
export const listPorts: ListPorts = async () => {
  if (process.platform === 'linux') return listSysfsPorts();
  const ports = await autoDetect().list();
  return ports.map((p) => ({
    path: p.path,
    vendorId: p.vendorId?.toLowerCase(),
    productId: p.productId?.toLowerCase(),
    serialNumber: p.serialNumber,
    manufacturer: p.manufacturer,
  }));
};

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
};

/** Serial ports from /sys/class/tty: USB ones with their identity, and real on-board UARTs. */
export function listSysfsPorts(sysTty = '/sys/class/tty', devDir = '/dev'): PortInfo[] {
  let names: string[];
  try {
    names = readdirSync(sysTty);
  } catch {
    return [];
  }
  const ports: PortInfo[] = [];
  for (const name of names.sort()) {
    const device = join(sysTty, name, 'device');
    if (!existsSync(device)) continue; // virtual terminals, ptys
    const usb = usbParent(realpathSync(device));
    if (usb) {
      ports.push({
        path: join(devDir, name),
        vendorId: read(join(usb, 'idVendor'))?.toLowerCase(),
        productId: read(join(usb, 'idProduct'))?.toLowerCase(),
        serialNumber: read(join(usb, 'serial')),
        manufacturer: read(join(usb, 'manufacturer')),
        product: read(join(usb, 'product')),
      });
    } else if (read(join(sysTty, name, 'type')) !== '0') {
      // An 8250 UART of type 0 is a placeholder with no hardware behind it (ttyS1..31 on most PCs).
      ports.push({ path: join(devDir, name) });
    }
  }
  return ports;
}

/** The USB device directory above an interface (the first ancestor with an idVendor file). */
function usbParent(dir: string): string | undefined {
  for (let d = dir, i = 0; i < 6 && d !== '/'; d = dirname(d), i++) {
    if (existsSync(join(d, 'idVendor'))) return d;
  }
  return undefined;
}

/** Known board and USB-UART ids; the vendor-only entries (product "*") match any product. */
const boards: ReadonlyArray<readonly [vendor: string, product: string, name: string]> = [
  ['2341', '0043', 'Arduino Uno'],
  ['2341', '0001', 'Arduino Uno'],
  ['2a03', '0043', 'Arduino Uno'],
  ['2341', '0041', 'Arduino Yún'],
  ['2341', '8041', 'Arduino Yún (bootloader)'],
  ['2a03', '0041', 'Arduino Yún'],
  ['2341', '0036', 'Arduino Leonardo (bootloader)'],
  ['2341', '8036', 'Arduino Leonardo'],
  ['2a03', '8036', 'Arduino Leonardo'],
  ['2341', '0042', 'Arduino Mega 2560'],
  ['2341', '0010', 'Arduino Mega 2560'],
  ['2341', '*', 'Arduino'],
  ['2a03', '*', 'Arduino'],
  ['303a', '*', 'Espressif ESP32 (native USB)'],
  ['10c4', 'ea60', 'CP210x USB-UART (ESP32 boards)'],
  ['1a86', '7523', 'CH340 USB-UART (ESP32, Uno clones)'],
  ['1a86', '55d4', 'CH9102 USB-UART (ESP32 boards)'],
  ['0403', '6001', 'FTDI FT232R USB-UART'],
  ['0403', '6015', 'FTDI FT231X USB-UART'],
];

/** A name for the board a port likely is, or undefined when it is not a known board. */
export function likelyBoard(port: PortInfo): string | undefined {
  const vid = port.vendorId?.toLowerCase();
  const pid = port.productId?.toLowerCase();
  if (!vid) return undefined;
  return boards.find(([v, p]) => v === vid && (p === '*' || p === pid))?.[2];
}

export function identityOf(port: PortInfo): UsbIdentity | undefined {
  if (!port.vendorId || !port.productId) return undefined;
  return { vendorId: port.vendorId.toLowerCase(), productId: port.productId.toLowerCase(), serialNumber: port.serialNumber };
}

export function matchesIdentity(port: PortInfo, id: UsbIdentity): boolean {
  return (
    port.vendorId?.toLowerCase() === id.vendorId &&
    port.productId?.toLowerCase() === id.productId &&
    (id.serialNumber === undefined || port.serialNumber === id.serialNumber)
  );
}

export function describeIdentity(id: UsbIdentity): string {
  return `${id.vendorId}:${id.productId}${id.serialNumber ? ` serial ${id.serialNumber}` : ''}`;
}

/** For `auto`: the likely boards first, in list order. */
export function pickBoard(ports: readonly PortInfo[]): PortInfo | undefined {
  return ports.find((p) => likelyBoard(p) !== undefined);
}

import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../shared/index.js';
import { validateBridgeConfig } from '../../bridge/config.js';
import { identityOf, likelyBoard, listSysfsPorts, matchesIdentity, pickBoard } from '../../bridge/ports.js';
import { backoffDelay } from '../../bridge/stream-client.js';

const board = { serial: '/dev/ttyACM0', map: { ecg: 'tok1' } };

describe('bridge config', () => {
  it('accepts a full config', () => {
    const c = validateBridgeConfig({
      server: 'http://localhost:8080',
      boards: [board, { serial: 'usb:2341:0043', baud: 1_000_000, map: { a: 'tok2', 'beat.bpm': 'tok3' }, resetWaitMs: 0, watchdogSeconds: 0 }],
      x: 'seconds',
      legacy: 'minmax',
      bufferMb: 8,
      heartbeatSeconds: 10,
    });
    expect(c.boards).toHaveLength(2);
  });

  it.each([
    [{ boards: [board] }, /"server" is required/],
    [{ server: 'ftp://x', boards: [board] }, /"server" must be an http/],
    [{ server: 'http://x', boards: [] }, /"boards" must be the boards/],
    [{ server: 'http://x', boards: [board], heartbeatSeconds: 60 }, /"heartbeatSeconds" must be .*below 60/],
    [{ server: 'http://x', boards: [board], legacy: 'median' }, /"legacy" must be .*last, mean, minmax/],
    [{ server: 'http://x', boards: [{ serial: 'a', map: { x: 't' } }, { serial: 'b', map: { y: 't' } }] }, /"boards\[1\].map.y" uses the token of boards\[0\].map.x/],
    [{ server: 'http://x', boards: [{ serial: 'usb:zzzz', map: {} }] }, /"boards\[0\]\.serial" "usb:zzzz" is not a USB identity: write usb:VID:PID/],
    [{ server: 'http://x', boards: [{ serial: 'tcp://yun.local' }] }, /"boards\[0\]\.serial" .*with a port/],
    [{ server: 'http://x', boards: [{ serial: '-' }, { serial: '-' }] }, /"boards\[1\]\.serial" reads standard input/],
    [{ server: 'http://x', boards: [board], extra: 1 }, /"extra" is not a key/],
  ])('rejects %j', (value, message) => {
    expect(() => validateBridgeConfig(value)).toThrow(ProtocolError);
    expect(() => validateBridgeConfig(value)).toThrow(message);
  });
});

describe('ports', () => {
  it('lists USB serial ports from sysfs with their identity, and real UARTs without', () => {
    const root = mkdtempSync(join(tmpdir(), 'pw-sysfs-'));
    const usbDev = join(root, 'devices/pci0000:00/usb1/1-1');
    const iface = join(usbDev, '1-1:1.0');
    mkdirSync(join(iface, 'ttyUSB0'), { recursive: true });
    for (const [f, v] of Object.entries({ idVendor: '10c4\n', idProduct: 'EA60\n', serial: '0001\n', manufacturer: 'Silicon Labs\n', product: 'CP2102\n' })) {
      writeFileSync(join(usbDev, f), v);
    }
    const tty = join(root, 'class/tty');
    mkdirSync(join(tty, 'ttyUSB0'), { recursive: true });
    symlinkSync(join(iface, 'ttyUSB0'), join(tty, 'ttyUSB0', 'device'));
    // A phantom 8250 UART (type 0), a real one (type 4) and a virtual terminal (no device link).
    for (const [name, type] of [['ttyS1', '0'], ['ttyS0', '4']] as const) {
      mkdirSync(join(root, 'devices/platform', name), { recursive: true });
      mkdirSync(join(tty, name));
      symlinkSync(join(root, 'devices/platform', name), join(tty, name, 'device'));
      writeFileSync(join(tty, name, 'type'), `${type}\n`);
    }
    mkdirSync(join(tty, 'tty0'));
    const ports = listSysfsPorts(tty, '/dev');
    expect(ports).toEqual([
      { path: '/dev/ttyS0' },
      { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', serialNumber: '0001', manufacturer: 'Silicon Labs', product: 'CP2102' },
    ]);
    expect(likelyBoard(ports[1]!)).toMatch(/CP210x/);
    expect(pickBoard(ports)?.path).toBe('/dev/ttyUSB0');
  });

  it('marks the likely boards', () => {
    expect(likelyBoard({ path: 'a', vendorId: '2341', productId: '0043' })).toBe('Arduino Uno');
    expect(likelyBoard({ path: 'a', vendorId: '2A03', productId: '8036' })).toBe('Arduino Leonardo');
    expect(likelyBoard({ path: 'a', vendorId: '2341', productId: '0041' })).toBe('Arduino Yún');
    expect(likelyBoard({ path: 'a', vendorId: '2341', productId: 'ffff' })).toBe('Arduino');
    expect(likelyBoard({ path: 'a', vendorId: '1a86', productId: '7523' })).toMatch(/CH340/);
    expect(likelyBoard({ path: 'a', vendorId: '0403', productId: '6001' })).toMatch(/FTDI/);
    expect(likelyBoard({ path: 'a', vendorId: '046d', productId: 'c52b' })).toBeUndefined();
    expect(likelyBoard({ path: '/dev/ttyS0' })).toBeUndefined();
  });

  it('matches a board by identity, with or without a serial number', () => {
    const id = identityOf({ path: '/dev/ttyACM0', vendorId: '2341', productId: '0043', serialNumber: 'A1' })!;
    expect(matchesIdentity({ path: '/dev/ttyACM3', vendorId: '2341', productId: '0043', serialNumber: 'A1' }, id)).toBe(true);
    expect(matchesIdentity({ path: '/dev/ttyACM0', vendorId: '2341', productId: '0043', serialNumber: 'B2' }, id)).toBe(false);
    expect(matchesIdentity({ path: '/dev/ttyACM1', vendorId: '2341', productId: '0043' }, { vendorId: '2341', productId: '0043' })).toBe(true);
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter, within [min/2, max]', () => {
    for (let attempt = 1; attempt < 20; attempt++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, 200, 5_000);
        expect(d).toBeGreaterThanOrEqual(100);
        expect(d).toBeLessThanOrEqual(Math.min(5_000, 200 * 2 ** (attempt - 1)));
      }
    }
  });
});

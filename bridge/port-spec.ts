/**
 * What `--serial` (or a config board's "serial") names, checked when it is parsed: a device path,
 * "auto", a USB identity, standard input ("-") or a TCP address. A spec that cannot name a board
 * ("usb:zzzz", "tcp://host" without a port) is refused at once, with the form it should take,
 * rather than waited for forever.
 */
import { PlotwireError } from '../shared/errors.js';
import type { UsbIdentity } from './ports.js';

export type PortSpec =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'auto' }
  | { readonly kind: 'usb'; readonly identity: UsbIdentity }
  | { readonly kind: 'stdin' }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export class PortSpecError extends PlotwireError {
  readonly code = 'PW_ERR_PORT_SPEC';
}

/** The forms, for error messages and help. */
export const PORT_FORMS = 'a device path (/dev/ttyACM0), "auto", usb:VID:PID[:SERIAL], tcp://HOST:PORT, or "-" (standard input)';

const USB = /^usb:([0-9a-f]{4}):([0-9a-f]{4})(?::([^\s:]+))?$/i;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

export function parsePortSpec(text: string): PortSpec {
  const spec = text.trim();
  if (spec === '') throw new PortSpecError(`the port is empty: give ${PORT_FORMS}`);
  if (spec === '-') return { kind: 'stdin' };
  if (spec === 'auto') return { kind: 'auto' };
  if (/^usb:/i.test(spec)) {
    const m = USB.exec(spec);
    if (!m) throw new PortSpecError(`"${spec}" is not a USB identity: write usb:VID:PID or usb:VID:PID:SERIAL with 4 hex digits each, e.g. usb:2341:0043 (run "plotwire ports" to see them)`);
    return { kind: 'usb', identity: { vendorId: m[1]!.toLowerCase(), productId: m[2]!.toLowerCase(), ...(m[3] && { serialNumber: m[3] }) } };
  }
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase();
  if (scheme === 'tcp') return tcpSpec(spec);
  if (scheme) throw new PortSpecError(`"${spec}": the bridge reads serial ports and tcp:// addresses, not ${scheme}:// (give ${PORT_FORMS})`);
  return { kind: 'path', path: spec };
}

function tcpSpec(spec: string): PortSpec {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new PortSpecError(`"${spec}" is not a TCP address: write tcp://HOST:PORT, e.g. tcp://arduino.local:6571`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host || !url.port || (url.pathname !== '' && url.pathname !== '/') || url.search || url.username) {
    throw new PortSpecError(`"${spec}" is not a TCP address: write tcp://HOST:PORT with a port, e.g. tcp://arduino.local:6571 (the Yún's Console)`);
  }
  return { kind: 'tcp', host, port: Number(url.port) };
}

/** The spec as a person writes it (for logs). */
export function describePortSpec(spec: PortSpec): string {
  switch (spec.kind) {
    case 'path':
      return spec.path;
    case 'auto':
      return 'auto';
    case 'stdin':
      return 'standard input';
    case 'tcp':
      return `tcp://${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
    case 'usb':
      return `usb:${spec.identity.vendorId}:${spec.identity.productId}${spec.identity.serialNumber ? `:${spec.identity.serialNumber}` : ''}`;
  }
}

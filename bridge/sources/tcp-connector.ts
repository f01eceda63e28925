/**
 * A board over TCP (`--serial tcp://HOST:PORT`): the Yún's Console (port 6571 of its Linux side),
 * ser2net, or an ESP32 over Wi-Fi. Reconnects by the same rules as a serial port; TCP keepalive
 * and the pace watchdog notice a peer that went away without closing.
 */
import { connect, type Socket } from 'node:net';
import { PlotwireError } from '../../shared/errors.js';
import type { PortSpec } from '../port-spec.js';
import { describePortSpec } from '../port-spec.js';
import type { Connection, Connector, Link, LinkHandlers } from './link.js';

const CONNECT_TIMEOUT_MS = 5_000;
const KEEPALIVE_MS = 10_000;

type TcpSpec = Extract<PortSpec, { kind: 'tcp' }>;

export class TcpConnector implements Connector {
  readonly reopens = true;

  constructor(readonly spec: TcpSpec) {}

  connect(): Promise<Connection> {
    const name = describePortSpec(this.spec);
    return new Promise((resolve) => {
      const socket = connect({ host: this.spec.host, port: this.spec.port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ wait: `cannot connect to ${name}: no answer in ${CONNECT_TIMEOUT_MS / 1000} s (is the board on the network?)` });
      }, CONNECT_TIMEOUT_MS);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ wait: `cannot connect to ${name}: ${connectHint(err)}` });
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setKeepAlive(true, KEEPALIVE_MS);
        socket.setNoDelay(true);
        resolve({ link: new TcpLink(socket, name) });
      });
    });
  }
}

class TcpLink implements Link {
  readonly byteMs = 0;
  private closing = false;

  constructor(
    private readonly socket: Socket,
    readonly name: string,
  ) {}

  start(handlers: LinkHandlers): void {
    let done = false;
    const end = (err: Error | undefined): void => {
      if (done || this.closing) return;
      done = true;
      handlers.ended(err);
    };
    this.socket.on('data', (chunk: Buffer) => {
      const at = Date.now();
      handlers.bytes(chunk, at, at);
    });
    this.socket.once('error', (err) => end(err));
    this.socket.once('close', () => end(new TcpClosedError('the board closed the connection')));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.socket.destroy();
  }
}


/** The peer closed the TCP connection. */
export class TcpClosedError extends PlotwireError {
  readonly code = 'PW_ERR_TCP_CLOSED';
}

function connectHint(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port: is the Console or ser2net running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'no such host (check the name, or use the board\'s IP address)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable (is it on this network?)';
    default:
      return err.message;
  }
}

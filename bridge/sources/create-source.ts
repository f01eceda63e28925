/** The source for a port spec: a serial port, standard input or a TCP socket, under LineSource's rules. */
import { parsePortSpec, type PortSpec } from '../port-spec.js';
import type { Connector } from './link.js';
import { LineSource, type LineSourceOptions } from './line-source.js';
import { SerialConnector, type SerialOptions } from './serial-connector.js';
import { StdinConnector } from './stdin-connector.js';
import { TcpConnector } from './tcp-connector.js';

export interface SourceOptions extends LineSourceOptions, Omit<SerialOptions, 'warn'> {
  /** As --serial takes it, or already parsed. */
  readonly port: string | PortSpec;
  /** What "-" reads (default process.stdin). */
  readonly stdin?: NodeJS.ReadableStream;
}

export function createSource(options: SourceOptions): LineSource {
  const spec = typeof options.port === 'string' ? parsePortSpec(options.port) : options.port;
  let source: LineSource | undefined;
  const warn: SerialOptions['warn'] = (event, message, fields) => source?.emit('log', { level: 'warn', event, message, ...fields });
  let connector: Connector;
  if (spec.kind === 'stdin') connector = new StdinConnector(options.stdin);
  else if (spec.kind === 'tcp') connector = new TcpConnector(spec);
  else connector = new SerialConnector(spec, { ...options, warn });
  source = new LineSource(connector, options);
  return source;
}

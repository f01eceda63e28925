/** plotwire server: runs the stream server until SIGINT/SIGTERM. */
import { readFileSync } from 'node:fs';
import { createLogger } from '../../shared/log.js';
import { DEFAULT_PORT, startClusterServer, startServer } from '../../server/index.js';
import { defaultDataDir } from '../../server/data-dir.js';
import { UsageError, defineCommand } from '../command.js';
import { intOption, optionSpec } from '../options.js';

const usage = `usage: plotwire server [options]

Runs the plotwire stream server: Plotly's streaming endpoint (POST / with plotly-streamtoken),
Plotly's /clientresp and /apigetfile, plotwire's JSON API under /api/v1, and the live viewer at
/~USER/ID. On the first start it creates user "plotwire" and prints its API key once.

  --port N             web, API and stream port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR          address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)
  --data DIR           where the database lives (default ${defaultDataDir()}; env PLOTWIRE_DATA)
  --stream-port N      also take streams on this plain-HTTP port (like Plotly's stream host)
  --tls-cert FILE      serve HTTPS with this certificate (PEM) ...
  --tls-key FILE       ... and this key
  --public-url URL     base of share links when clients reach the server under another name
  --idle-timeout MS    end a stream after this long without a byte (default 60000)
  --retention N        points kept on disk per token (default 1000000)
  --retention-mib N    bytes kept on disk per token, in MiB (default 64)
  --memory-mib N       memory for recent points of all tokens, in MiB (default 64); past it
                       idle tokens' points are dropped from memory and read back when needed
  --max-db-mib N       largest database in MiB; past it writers get 503 (default: no limit)
  --max-connections N  open connections in total (default 2048); more get 503 + Retry-After
  --max-connections-per-address N
                       open connections from one client address (default 256)
  --json               log JSON objects, one a line, for machines

Past one machine (docs/scaling.md): any number of nodes share one PostgreSQL and one Redis,
behind a load balancer; streams, viewers and accounts work the same on every node.
  --postgres URL       accounts, plots and the points history in this PostgreSQL (15 or later),
                       e.g. postgres://plotwire@db.lan/plotwire; goes with --redis
  --redis URL          recent points, fan-out and stream ownership in this Redis (7 or later,
                       appendonly yes, appendfsync always), e.g. redis://cache.lan:6379
  --node-id NAME       this node's name in the cluster (default: host name and process id)
  --history-days N     days of points history kept in PostgreSQL (default 30)
  --proxy-protocol     connections come through a load balancer that starts each with a PROXY
                       protocol line (HAProxy's send-proxy): limits count the client it names;
                       only that balancer may then reach the port
(--data, --retention, --retention-mib and --max-db-mib are the embedded server's; --memory-mib
bounds a cluster node's memory the same way, its dropped points read again from Redis.)`;

export const serverCommand = defineCommand(
  { name: 'server', summary: 'run the stream server (Plotly-compatible streaming, API, live viewer)', usage, options: optionSpec(['port', 'host', 'data', 'stream-port', 'tls-cert', 'tls-key', 'public-url', 'idle-timeout', 'retention', 'retention-mib', 'memory-mib', 'max-db-mib', 'max-connections', 'max-connections-per-address', 'postgres', 'redis', 'node-id', 'history-days'], ['json', 'proxy-protocol']) },
  async (values) => {
    if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) throw new UsageError('--tls-cert and --tls-key go together');
    if (values['proxy-protocol'] && values['tls-cert']) throw new UsageError('--proxy-protocol is for plain connections from a load balancer; let it do TLS (see docs/scaling.md)');
    const log = createLogger({ json: values.json ?? false });
    const read = (file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
      }
    };
    const node = {
      port: intOption('--port', values.port, DEFAULT_PORT, 0, 65535),
      host: values.host ?? '127.0.0.1',
      ...(values['stream-port'] !== undefined && { streamPort: intOption('--stream-port', values['stream-port'], 0, 0, 65535) }),
      ...(values['tls-cert'] && values['tls-key'] && { tls: { cert: read(values['tls-cert']), key: read(values['tls-key']) } }),
      ...(values['public-url'] && { publicUrl: values['public-url'] }),
      idleTimeoutMs: intOption('--idle-timeout', values['idle-timeout'], 60_000, 10, 86_400_000),
      maxConnections: intOption('--max-connections', values['max-connections'], 2048, 1, 1 << 20),
      maxConnectionsPerAddress: intOption('--max-connections-per-address', values['max-connections-per-address'], 256, 1, 1 << 20),
      ...(values['proxy-protocol'] && { proxyProtocol: true }),
      memoryMiB: intOption('--memory-mib', values['memory-mib'], 64, 1, 1 << 20),
      log,
    };
    if (Boolean(values.postgres) !== Boolean(values.redis)) throw new UsageError('--postgres and --redis go together: a cluster node needs both (docs/scaling.md)');
    const embeddedOnly = (['data', 'retention', 'retention-mib', 'max-db-mib'] as const).filter((k) => values[k] !== undefined);
    if (values.postgres && embeddedOnly.length) throw new UsageError(`--${embeddedOnly[0]} is the embedded server's; a cluster node keeps its data in PostgreSQL and Redis`);
    if (!values.postgres && (values['node-id'] || values['history-days'])) throw new UsageError(`--${values['node-id'] ? 'node-id' : 'history-days'} is for a cluster node (with --postgres and --redis)`);
    const server =
      values.postgres && values.redis
        ? await startClusterServer({
            ...node,
            postgres: values.postgres,
            redis: values.redis,
            ...(values['node-id'] && { nodeId: values['node-id'] }),
            historyDays: intOption('--history-days', values['history-days'], 30, 1, 36_500),
          }).catch((err: unknown) => {
            throw new UsageError(`cannot start the cluster node: ${(err as Error).message} (is PostgreSQL at --postgres and Redis at --redis running and reachable?)`);
          })
        : await startServer({
            ...node,
            dataDir: values.data ?? defaultDataDir(),
            retentionPoints: intOption('--retention', values.retention, 1_000_000, 1, Number.MAX_SAFE_INTEGER),
            maxDatabaseMiB: intOption('--max-db-mib', values['max-db-mib'], 0, 0, 1 << 30),
            retentionMiB: intOption('--retention-mib', values['retention-mib'], 64, 1, 1 << 20),
          });
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log.info('stopping', `${signal}: stopping; writers get 503 and resume later`, { signal });
        void server.close().then(resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    return 0;
  },
);

/**
 * The heart-rate demo, end to end on one machine: the stream server, the real Uno firmware image
 * in a simulated ATmega328P fed by an MIT-BIH ECG recording and writing to a pseudo-terminal, and
 * the bridge reading that terminal like a board. What the page shows went through every part.
 */
import { join } from 'node:path';
import type { Logger, LogRecord } from '../shared/log.js';
import { packageRoot } from '../shared/package-root.js';
import { Bridge } from '../bridge/bridge.js';
import { plotLayout } from '../bridge/plot-layout.js';
import { startServer, DEFAULT_USER, type PlotwireServer } from '../server/index.js';
import { shareUrl } from '../server/core.js';
import type { TraceSpec } from '../server/store/plots.js';
import { startSimulation, type Simulation } from '../firmware/sim/simulation.js';

export const DEMO_FILENAME = 'heart-rate demo';
export const DEMO_RECORDING = join(packageRoot, 'test/data/heart/mitdb/100.adc.csv.gz');
/** Seconds of ECG each viewer keeps on screen, and of heart rate (about as many beats). */
const SECONDS_SHOWN = 10;
/** The simulated Uno says hello within its boot; more than this is a fault. */
const HELLO_WAIT_MS = 15_000;
const TITLE = 'Heart rate: MIT-BIH record 100 on a simulated Arduino Uno';

export interface HeartDemoOptions {
  readonly dataDir: string;
  readonly port?: number;
  readonly host?: string;
  /** An MIT-BIH `.adc.csv(.gz)` recording (default record 100). */
  readonly recording?: string;
  readonly log: Logger;
}

export interface HeartDemo {
  readonly server: PlotwireServer;
  readonly simulation: Simulation;
  readonly bridge: Bridge;
  readonly shareUrl: string;
  stop(): Promise<void>;
}

export async function startHeartDemo(options: HeartDemoOptions): Promise<HeartDemo> {
  const { log } = options;
  const server = await startServer({ dataDir: options.dataDir, port: options.port ?? 8080, host: options.host ?? '127.0.0.1', log });
  const stops: (() => Promise<unknown>)[] = [() => server.close()];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse().splice(0)) await s();
  };
  try {
    const { accounts, plots, service } = server.core;
    const user = accounts.userByName(DEFAULT_USER) ?? accounts.addUser(DEFAULT_USER).user;
    const ecg = accounts.createToken(user.id);
    const bpm = accounts.createToken(user.id);
    // The board's status: its signal state and a lead off, for the page's status line.
    const sig = accounts.createToken(user.id);
    const lead = accounts.createToken(user.id);

    const simulation = await startSimulation({ signal: options.recording ?? DEMO_RECORDING, output: 'pty' });
    stops.push(() => simulation.stop());

    const map = { ecg: ecg.token, 'beat.bpm': bpm.token, 'quality.sig': sig.token, 'lead.off': lead.token };
    const bridge = new Bridge({ server: server.url, boards: [{ serial: simulation.ptyPath as string, map }] });
    bridge.on('log', (r: LogRecord) => {
      const { level, event, message, ...fields } = r;
      if (level !== 'info' || event === 'hello') log.log(level, `bridge-${event}`, `bridge: ${message}`, fields);
    });
    // Read the board first: the plot is laid out from its hello, as plotwire bridge --create-plot does.
    bridge.start({ streams: false });
    stops.push(() => bridge.close());
    const [hello] = await bridge.hellos(HELLO_WAIT_MS);
    const laid = plotLayout([{ hello, map }], { title: TITLE, seconds: SECONDS_SHOWN });
    const ids = new Map([ecg, bpm, sig, lead].map((t) => [t.token, t.row.id]));
    const layout = laid.layout;
    const traces: TraceSpec[] = laid.traces.map((t) => ({ props: t.props, tokenId: ids.get(t.token) as number, maxpoints: t.maxpoints }));

    // One plot, the same link on every run: its traces move to this run's tokens, the old ones are revoked.
    const existing = plots.byFilename(user.id, DEMO_FILENAME);
    for (const t of existing?.traces ?? []) if (t.tokenId !== undefined) accounts.revokeToken(user.id, t.tokenId);
    const plot = existing ? await service.edit(existing.id, { layout, traces }) : await service.create(user.id, { filename: DEMO_FILENAME, layout, traces, worldReadable: true });
    bridge.startStreams();

    const url = shareUrl(server.core, plot);
    log.info('demo-ready', `heart-rate demo running: open ${url} (Ctrl-C stops it)`, { url, pty: simulation.ptyPath });
    return { server, simulation, bridge, shareUrl: url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

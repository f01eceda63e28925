/** The plotwire package: import { ... } from 'plotwire'. */
export * from './shared/index.js';
export {
  StreamClient,
  StreamStatusError,
  StreamTimeoutError,
  StreamClosedError,
  defaultPolicy,
  backoffDelay,
  type StreamPolicy,
  type Outcome,
  type Decision,
  type PolicyState,
  type StopKind,
  type StreamClientEvents,
  type StreamClientOptions,
  type StreamClientState,
  type StreamClientStats,
  type PointStyle,
  type XValue,
  type DecimateMode,
} from './bridge/stream-client.js';
export type { LogRecord } from './shared/log.js';
export { ServerApi, ServerApiError, type CreatedPlot, type PlotTraceInput } from './bridge/server-api.js';

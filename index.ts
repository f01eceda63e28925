/** The plotwire package: import { ... } from 'plotwire'. */
export * from './shared/index.js';
export {
  StreamClient,
  StreamStatusError,
  type StreamClientEvents,
  type StreamClientOptions,
  type StreamClientState,
  type StreamClientStats,
  type PointStyle,
  type XValue,
  type DecimateMode,
} from './bridge/stream-client.js';
export type { LogRecord } from './bridge/log.js';
export { ServerApi, ServerApiError, type CreatedPlot, type PlotTraceInput } from './bridge/server-api.js';

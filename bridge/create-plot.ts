/** --create-plot: creates the plot through the server's API, laid out by plot-layout.ts. */
import type { Dispatcher } from 'undici';
import { ServerApi, type CreatedPlot, type PlotTraceInput } from './server-api.js';
import { PlotwireError } from '../shared/errors.js';

export type { CreatedPlot } from './server-api.js';


export class CreatePlotError extends PlotwireError {
  readonly code = 'PW_ERR_CREATE_PLOT';
}

export async function createPlot(
  server: string,
  apiKey: string,
  plot: { readonly title: string; readonly traces: readonly PlotTraceInput[]; readonly layout?: Record<string, unknown> },
  dispatcher?: Dispatcher,
): Promise<CreatedPlot> {
  try {
    return await new ServerApi(server, apiKey, dispatcher).createPlot(plot);
  } catch (err) {
    throw new CreatePlotError(`cannot create the plot: ${(err as Error).message}`);
  }
}

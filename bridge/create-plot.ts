/** --create-plot: creates the plot through the server's API, one trace per mapped token. */
import type { Dispatcher } from 'undici';
import { ServerApi, type CreatedPlot, type PlotTraceInput } from './server-api.js';
import { PlotwireError } from '../shared/errors.js';

export type { CreatedPlot } from './server-api.js';

/** One trace per mapped token: its channel as the name. */
export type PlotTrace = PlotTraceInput & { readonly name: string; readonly maxpoints: number };

export class CreatePlotError extends PlotwireError {
  readonly code = 'PW_ERR_CREATE_PLOT';
}

export async function createPlot(
  server: string,
  apiKey: string,
  title: string,
  traces: readonly PlotTrace[],
  dispatcher?: Dispatcher,
): Promise<CreatedPlot> {
  try {
    return await new ServerApi(server, apiKey, dispatcher).createPlot({ title, traces });
  } catch (err) {
    throw new CreatePlotError(`cannot create the plot: ${(err as Error).message}`);
  }
}

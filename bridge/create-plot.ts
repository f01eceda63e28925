/** --create-plot: creates the plot through the server's API, one trace per mapped token. */
import { request, type Dispatcher } from 'undici';

export interface PlotTrace {
  readonly name: string;
  readonly token: string;
  readonly maxpoints: number;
}

export interface CreatedPlot {
  readonly id: string;
  readonly owner: string;
  readonly url: string;
  readonly embed_url: string;
}

export class CreatePlotError extends Error {
  override readonly name = 'CreatePlotError';
}

export async function createPlot(
  server: string,
  apiKey: string,
  title: string,
  traces: readonly PlotTrace[],
  dispatcher?: Dispatcher,
): Promise<CreatedPlot> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(new URL('/api/v1/plots', server), {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title, traces }),
      dispatcher,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
  } catch (err) {
    throw new CreatePlotError(`cannot create the plot on ${server}: ${(err as Error).message}`);
  }
  const text = await res.body.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Reported below with the status.
  }
  if (res.statusCode !== 201 || typeof body.url !== 'string') {
    const reason = typeof body.error === 'string' ? body.error : text.slice(0, 200);
    throw new CreatePlotError(`cannot create the plot: the server answered ${res.statusCode}${reason ? `: ${reason}` : ''}`);
  }
  return body as unknown as CreatedPlot;
}

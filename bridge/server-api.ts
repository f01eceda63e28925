/**
 * The plotwire server's JSON API for writers: create stream tokens and plots with an API key.
 * (Streams themselves go through StreamClient.)
 */
import { request, type Dispatcher } from 'undici';
import { PlotwireError } from '../shared/errors.js';

export interface PlotTraceInput {
  readonly token: string;
  readonly name?: string;
  readonly maxpoints?: number;
  /** Any other plotly.js trace attribute: type, mode, marker, line, xaxis, yaxis... */
  readonly [attribute: string]: unknown;
}

export interface CreatedPlot {
  readonly id: number;
  readonly owner: string;
  readonly url: string;
  readonly embed_url: string;
}

export class ServerApiError extends PlotwireError {
  readonly code = 'PW_ERR_SERVER_API';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export class ServerApi {
  constructor(
    readonly server: string,
    private readonly apiKey: string,
    private readonly dispatcher?: Dispatcher,
  ) {}

  /** A new stream token of this API key's user (Plotly's 10-character format, for Arduino sketches, on request). */
  async createToken(options: { plotlyFormat?: boolean } = {}): Promise<string> {
    return (await this.call('POST', '/api/v1/tokens', options.plotlyFormat ? { plotly_format: true } : undefined, 201)).token as string;
  }

  async createPlot(plot: { title: string; traces: readonly PlotTraceInput[]; layout?: Record<string, unknown>; world_readable?: boolean }): Promise<CreatedPlot> {
    return (await this.call('POST', '/api/v1/plots', plot, 201)) as unknown as CreatedPlot;
  }

  private async call(method: 'POST' | 'GET', path: string, body: unknown, expected: number): Promise<Record<string, unknown>> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(new URL(path, this.server), {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        dispatcher: this.dispatcher,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
    } catch (err) {
      throw new ServerApiError(`cannot reach ${this.server}: ${(err as Error).message}`);
    }
    const text = await res.body.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Reported below with the status.
    }
    if (res.statusCode !== expected) {
      const reason = typeof json.error === 'string' ? json.error : text.slice(0, 200);
      throw new ServerApiError(`${method} ${path}: the server answered ${res.statusCode}${reason ? `: ${reason}` : ''}`, res.statusCode);
    }
    return json;
  }
}

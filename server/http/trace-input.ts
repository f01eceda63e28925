/**
 * Traces as clients send them (Plotly's {x, y, stream: {token, maxpoints}} or the API's
 * {token, maxpoints}) turned into stored TraceSpecs, tokens checked against their owner.
 */
import type { Core } from '../core.js';
import { columnLength, type Columns } from '../data/columns.js';
import type { InitialData } from '../plot-service.js';
import { checkMaxpoints, splitTrace, type TraceSpec } from '../store/plots.js';
import { HttpError } from './router.js';
import { isObject, nestedDeeperThan } from '../../shared/validate.js';
import { MAX_JSON_DEPTH } from '../../shared/limits.js';

export interface TraceInput {
  readonly specs: TraceSpec[];
  /** Data sent with a streamed trace: it becomes the token's data (a replace). */
  readonly initial: InitialData;
}

export function traceInput(core: Core, userId: number, traces: unknown): TraceInput {
  if (!Array.isArray(traces)) throw new HttpError(400, 'traces must be an array of trace objects');
  const specs: TraceSpec[] = [];
  const initial: { tokenId: number; columns: Columns }[] = [];
  traces.forEach((trace: unknown, i) => {
    if (!isObject(trace)) throw new HttpError(400, `trace ${i} must be an object`);
    if (nestedDeeperThan(trace, MAX_JSON_DEPTH)) throw new HttpError(400, `trace ${i} is nested deeper than ${MAX_JSON_DEPTH} levels`);
    const stream = isObject(trace.stream) ? trace.stream : {};
    const token = stream.token ?? trace.token;
    let maxpoints: number;
    try {
      maxpoints = checkMaxpoints(stream.maxpoints ?? trace.maxpoints);
    } catch (err) {
      throw new HttpError(400, `trace ${i}: ${(err as Error).message}`);
    }
    const { props, data } = splitTrace(trace);
    if (token === undefined) {
      specs.push({ props, maxpoints, data });
      return;
    }
    if (typeof token !== 'string') throw new HttpError(400, `trace ${i}: stream.token must be a string`);
    const row = core.accounts.tokenBySecret(token);
    if (!row || row.userId !== userId) throw new HttpError(400, `trace ${i}: stream token is not one of this user's tokens`);
    if (row.revokedAt !== null) throw new HttpError(400, `trace ${i}: stream token was revoked`);
    specs.push({ props, maxpoints, tokenId: row.id });
    if (columnLength(data) > 0) initial.push({ tokenId: row.id, columns: data });
  });
  return { specs, initial };
}

/**
 * The stream client's status policy on its own, without sockets: what it decides for every
 * status the protocol defines, for statuses it does not know, and for connection failures; and
 * that a client takes a policy given in its options.
 */
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { statusCodes } from '../../shared/index.js';
import { backoffDelay, defaultPolicy, StreamClient, type Decision, type Outcome, type PolicyState } from '../../bridge/stream-client.js';
import { StreamTimeoutError } from '../../bridge/stream-state.js';

const state: PolicyState = { token: 'tok', attempt: 3, minBackoffMs: 100, maxBackoffMs: 1_000 };
const status = (code: number, body = '', from: 'stream' | 'state query' = 'stream'): Outcome => ({ kind: 'status', status: code, body, from });
const failure = (error: Error): Outcome => ({ kind: 'error', error });
const errno = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('the default stream policy', () => {
  it('does for each protocol status what shared/status.ts says a writer does', () => {
    for (const s of statusCodes) {
      const d = defaultPolicy(status(s.code, JSON.stringify({ error: `reason ${s.code}` })), state);
      if (s.writer === 'reconnect') {
        expect(d, `${s.code}`).toMatchObject({ action: 'retry', error: s.code !== 200 });
        if (s.code !== 200) expect((d as Extract<Decision, { action: 'retry' }>).log.message).toContain(`reason ${s.code}`);
      } else {
        expect(d, `${s.code}`).toMatchObject({ action: 'stop', status: s.code, kind: s.code === 449 ? 'takeover' : s.writer === 'fix' ? 'rejected' : 'refused' });
      }
    }
  });

  it('stops on a takeover rather than fight for the token, and says how to take it back', () => {
    expect(defaultPolicy(status(449), state)).toEqual({
      action: 'stop',
      kind: 'takeover',
      status: 449,
      reason: expect.stringMatching(/another connection took over token tok \(449\).*restart it to take the token back/),
    });
  });

  it('reconnects without counting an error when the server ended the stream healthily (200)', () => {
    expect(defaultPolicy(status(200), state)).toMatchObject({ action: 'retry', error: false, log: { level: 'info', event: 'ended' } });
  });

  it('names where the status came from and the server reason, else the status meaning', () => {
    const stop = defaultPolicy(status(404, '{"error":"this stream token is not registered"}', 'state query'), state);
    expect(stop).toMatchObject({ action: 'stop', reason: 'server refused token tok with 404 Not Found: this stream token is not registered; stopped' });
    const retry = defaultPolicy(status(503, '', 'state query'), state) as Extract<Decision, { action: 'retry' }>;
    expect(retry.log.message).toBe('server answered the state query with 503 Service Unavailable: The server is starting, stopping or overloaded, or its database refuses writes; `next` says what is stored, resend from there.; reconnecting');
    const plain = defaultPolicy(status(422, 'not json at all'), state);
    expect(plain).toMatchObject({ action: 'stop', kind: 'rejected', reason: expect.stringContaining('422 Unprocessable Content: not json at all (a writer bug') });
  });

  it('retries an unknown 5xx and stops on an unknown 4xx', () => {
    expect(defaultPolicy(status(502), state)).toMatchObject({ action: 'retry', error: true });
    expect(defaultPolicy(status(418), state)).toMatchObject({ action: 'stop', kind: 'refused', status: 418 });
  });

  it('retries every connection failure, described by its code', () => {
    const said = (err: Error): string => (defaultPolicy(failure(err), state) as Extract<Decision, { action: 'retry' }>).log.message;
    expect(said(errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'))).toBe('stream broke: connection refused (is the server running?)');
    expect(said(errno('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'))).toBe('stream broke: no answer in time');
    expect(said(errno('EHOSTUNREACH', 'connect EHOSTUNREACH'))).toBe('stream broke: connect EHOSTUNREACH (EHOSTUNREACH)');
    expect(said(new StreamTimeoutError('the state query got no answer within 5 ms'))).toBe('stream broke: the state query got no answer within 5 ms');
  });

  it('waits with exponential backoff and full jitter, within [min/2, max]', () => {
    for (let attempt = 1; attempt < 20; attempt++) {
      const ceiling = Math.min(1_000, 100 * 2 ** (attempt - 1));
      expect(backoffDelay(attempt, 100, 1_000, () => 0)).toBe(50);
      expect(backoffDelay(attempt, 100, 1_000, () => 1)).toBe(ceiling);
      const d = (defaultPolicy(status(503), { ...state, attempt }) as Extract<Decision, { action: 'retry' }>).delayMs;
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe('a policy given to the client', () => {
  it('decides instead of the default: here, stop at the first refused connection', async () => {
    // A port that was free a moment ago: connections to it are refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const seen: Outcome[] = [];
    const client = new StreamClient({
      server: `http://127.0.0.1:${port}`,
      token: 'tok',
      policy: (outcome) => {
        seen.push(outcome);
        return { action: 'stop', kind: 'refused', status: 0, reason: 'no server: giving up' };
      },
    });
    const stopped = new Promise((resolve) => client.once('stopped', resolve));
    client.push(1, 1);
    client.start();
    expect(await stopped).toEqual({ status: 0, reason: 'no server: giving up', kind: 'refused' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'error', error: { code: 'ECONNREFUSED' } });
    expect(client.stats).toMatchObject({ state: 'stopped', stopKind: 'refused', dropped: 1, reconnects: 0 });
    await client.close(100);
  });
});

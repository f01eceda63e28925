/**
 * The raw stream parser (head, framing, lines, answer) under arbitrary requests over real
 * sockets, written in arbitrary pieces: every answer is a status of the protocol's table and
 * never a 500, the server stays up and healthy, and its memory for points stays within bounds.
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import { statusCodes } from '../../shared/index.js';
import { testServer, type TestServer } from '../server/helpers.js';
import { fuzzParams, splitAt } from './fuzz.js';

let s: TestServer;
const faults: string[] = [];
let token: string;
beforeAll(async () => {
  s = await testServer({ idleTimeoutMs: 1000, headTimeoutMs: 1000, log: createLogger({ json: true, write: (level, line) => void (level === 'error' && faults.push(line)) }) });
  token = s.newToken();
  await fetch(`${s.server.url}/api/v1/plots`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ traces: [{ token, maxpoints: 100 }] }),
  });
});
afterAll(() => s.close());

/** Sends the pieces (each its own write), ends, and resolves with the status line's code (0: none). */
function exchange(pieces: Buffer[]): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(s.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    // The last status line: a 100 Continue may come first.
    socket.on('close', () => resolve(Number([...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].at(-1)?.[1] ?? 0)));
    socket.on('connect', () => {
      for (const p of pieces) if (!socket.destroyed) socket.write(p);
      if (!socket.destroyed) socket.end();
    });
  });
}

const line = fc.oneof(
  fc.constantFrom('{"x":1,"y":2}', '{"append":{"y":[1,2,3]},"seq":0}', '', '{"layout":{"title":"t"}}', '{"x":[1,2],"y":[3,4]}', '{"y":NaN}', '{"streamtoken":"TOKEN","x":1,"y":1}'),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }),
);
const body = fc.array(line, { maxLength: 8 }).map((lines) => lines.map((l) => `${l}\n`).join(''));
const headers = fc.record(
  {
    token: fc.oneof(fc.constant('TOKEN'), fc.string({ maxLength: 12 })),
    framing: fc.constantFrom('chunked', 'length', 'none', 'both', 'bogus'),
    expect: fc.boolean(),
    convert: fc.option(fc.constantFrom('America/Montreal', 'UTC', 'Nowhere/City'), { nil: undefined, freq: 3 }),
    extra: fc.array(fc.oneof(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), fc.string({ maxLength: 20 })).map(([k, v]) => `X-${k}: ${v}`), fc.string({ maxLength: 20 })), { maxLength: 2 }),
    method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'P0ST'),
    path: fc.constantFrom('/', '/', '/?x=1', '/other'),
  },
  { requiredKeys: ['framing', 'method', 'path'] },
);

/** A request as a writer, a careless one or a hostile one would send it. */
const request = fc.tuple(headers, body, fc.integer({ min: 0, max: 9 }).map((n) => n < 2), fc.constantFrom('', '', '', '\r\n0\r\n\r\n', '0\r\n\r\n{"x":9}\n', 'zz\r\n', '5\r\nab')).map(([h, text, lieAboutSize, tail]) => {
  const lines = [`${h.method} ${h.path} HTTP/1.1`, 'Host: fuzz'];
  if (h.token !== undefined) lines.push(`plotly-streamtoken: ${h.token.replace('TOKEN', token).replace(/[\r\n]/g, '')}`);
  if (h.framing === 'chunked' || h.framing === 'both') lines.push('Transfer-Encoding: chunked');
  if (h.framing === 'length' || h.framing === 'both') lines.push(`Content-Length: ${Buffer.byteLength(text) + (lieAboutSize ? 7 : 0)}`);
  if (h.framing === 'bogus') lines.push('Transfer-Encoding: gzip, chunked;q');
  if (h.expect) lines.push('Expect: 100-continue');
  if (h.convert !== undefined) lines.push(`plotly-convertTimestamp: ${h.convert}`);
  for (const e of h.extra ?? []) lines.push(e.replace(/[\r\n]/g, ''));
  const payload = text.replaceAll('TOKEN', token);
  const framed =
    h.framing === 'chunked' || h.framing === 'both' || h.framing === 'bogus'
      ? `${Buffer.byteLength(payload).toString(16)}${lieAboutSize ? '0' : ''}\r\n${payload}\r\n${tail || '0\r\n\r\n'}`
      : `${payload}${tail}`;
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${framed}`);
});

const known = new Set(statusCodes.map((c) => c.code));

describe('raw stream parser (fuzz)', () => {
  it('any request, written in any pieces: a status of the protocol (or none), never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(request, fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
        const status = await exchange(splitAt(bytes, cuts).filter((p) => p.length > 0));
        expect(status, bytes.toString('latin1').slice(0, 300)).not.toBe(500);
        // 0: the connection was closed with no answer (node:http's own for non-stream junk is a status too).
        if (status !== 0) expect(known.has(status) || [431, 400].includes(status), `status ${status}`).toBe(true);
      }),
      fuzzParams(250, 20_000),
    );
    expect(faults).toEqual([]);
    expect((await fetch(`${s.server.url}/api/v1/health`)).status).toBe(200);
    expect(s.server.core.store.memory.bytes).toBeLessThan(4 * 1024 * 1024);
  });
});

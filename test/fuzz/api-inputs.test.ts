/**
 * The JSON API and Plotly's form calls under arbitrary input, over real HTTP: whatever the body,
 * path or form, the answer is never a 500 (a client's mistake is a 4xx with the reason, Plotly's
 * calls answer in their `error` field), the server keeps answering, and its memory stays bounded.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import { testServer, type TestServer } from '../server/helpers.js';
import { fuzzParams } from './fuzz.js';

let s: TestServer;
const faults: string[] = [];
let token: string;
beforeAll(async () => {
  s = await testServer({ log: createLogger({ json: true, write: (level, line) => void (level === 'error' && faults.push(line)) }) });
  token = s.newToken();
});
afterAll(() => s.close());

async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${s.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json', ...headers },
    ...(body !== undefined && { body }),
  });
  return { status: res.status, text: await res.text() };
}

/** JSON that looks like what the API takes, with every part free to be wrong. */
const plotish = fc.record(
  {
    title: fc.oneof(fc.string(), fc.jsonValue()),
    filename: fc.oneof(fc.string(), fc.jsonValue()),
    world_readable: fc.jsonValue(),
    layout: fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('title', 'xaxis', '__proto__', 'constructor', 'shapes', 'a'), fc.jsonValue())),
    traces: fc.oneof(
      fc.jsonValue(),
      fc.array(
        fc.record(
          {
            token: fc.oneof(fc.constant('TOKEN'), fc.string(), fc.jsonValue()),
            maxpoints: fc.oneof(fc.integer({ min: -5, max: 20_000 }), fc.jsonValue()),
            stream: fc.oneof(fc.jsonValue(), fc.record({ token: fc.constant('TOKEN'), maxpoints: fc.jsonValue() }, { requiredKeys: [] })),
            x: fc.jsonValue(),
            y: fc.array(fc.oneof(fc.double(), fc.string(), fc.constant(null)), { maxLength: 20 }),
            marker: fc.jsonValue(),
            type: fc.string(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
    ),
  },
  { requiredKeys: [] },
);

const asBody = (v: unknown): string => JSON.stringify(v).replaceAll('"TOKEN"', JSON.stringify(token));

/** Text a client might send as a body: JSON, near-JSON, deep nesting, junk. */
const bodies = fc.oneof(
  plotish.map(asBody),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.nat({ max: 3000 }).map((n) => `{"layout":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.nat({ max: 3000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
);

describe('API inputs (fuzz)', () => {
  it('POST and PATCH bodies: never a 500', async () => {
    const created = await send('POST', '/api/v1/plots', asBody({ traces: [{ token: 'TOKEN' }] }));
    const id = (JSON.parse(created.text) as { id: number }).id;
    await fc.assert(
      fc.asyncProperty(bodies, fc.boolean(), async (body, patch) => {
        const res = patch ? await send('PATCH', `/api/v1/plots/${id}`, body) : await send('POST', '/api/v1/plots', body);
        expect(res.status, `${res.status} ${res.text.slice(0, 200)} for ${body.slice(0, 200)}`).toBeLessThan(500);
        expect(() => JSON.parse(res.text)).not.toThrow();
      }),
      fuzzParams(300, 15_000),
    );
    expect(faults).toEqual([]);
  });

  it("Plotly's /clientresp forms, URL-encoded or not: always Plotly's answer, never a 500", async () => {
    const field = fc.oneof(fc.string({ maxLength: 60 }), plotish.map(asBody), fc.jsonValue().map((v) => JSON.stringify(v)));
    const form = fc
      .record({
        un: fc.oneof(fc.constant('alice'), fc.string({ maxLength: 10 })),
        key: fc.oneof(fc.constant('KEY'), fc.string({ maxLength: 10 })),
        origin: fc.oneof(fc.constant('plot'), fc.string({ maxLength: 8 })),
        args: field,
        kwargs: fc.oneof(field, fc.record({ filename: fc.string(), fileopt: fc.constantFrom('new', 'overwrite', 'extend', 'append', 'x'), layout: fc.jsonValue() }).map(asBody)),
        encode: fc.boolean(),
        junk: fc.string({ maxLength: 30 }),
      })
      .map(({ encode, junk, ...fields }) =>
        `${Object.entries(fields)
          .map(([k, v]) => `${k}=${encode ? encodeURIComponent(v) : v}`)
          .join('&')}${junk}`.replace('key=KEY', `key=${s.apiKey}`),
      );
    await fc.assert(
      fc.asyncProperty(form, async (body) => {
        const res = await send('POST', '/clientresp', body, { 'content-type': 'application/x-www-form-urlencoded' });
        expect(res.status, `${res.status} ${res.text.slice(0, 200)} for ${body.slice(0, 200)}`).toBeLessThan(500);
      }),
      fuzzParams(300, 15_000),
    );
    expect(faults).toEqual([]);
  });

  it('any path and query: never a 500', async () => {
    const path = fc.oneof(
      fc.webPath(),
      fc.string({ maxLength: 40 }).map((p) => `/${encodeURI(p)}`),
      fc.constantFrom('/apigetfile/', '/~alice/', '/api/v1/plots/', '/api/v1/tokens/', '/login?next=').chain((base) => fc.string({ maxLength: 30 }).map((p) => `${base}${p.replace(/[#\s]/g, '%')}`)),
    );
    await fc.assert(
      fc.asyncProperty(path, fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH'), async (p, method) => {
        let res: { status: number; text: string };
        try {
          res = await send(method, p.startsWith('/') ? p : `/${p}`, method === 'GET' ? undefined : '{}', { 'plotly-username': 'alice', 'plotly-apikey': s.apiKey });
        } catch (err) {
          // fetch itself refuses some URLs before sending them; the server never saw those.
          if (err instanceof TypeError) return;
          throw err;
        }
        expect(res.status, `${method} ${p}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
      }),
      fuzzParams(400, 10_000),
    );
    expect(faults).toEqual([]);
    // The server still answers, and the memory it holds for points did not grow with the junk.
    expect((await send('GET', '/api/v1/health')).status).toBe(200);
    expect(s.server.core.store.memory.bytes).toBeLessThan(16 * 1024 * 1024);
  });
});

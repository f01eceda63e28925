/** PATCH /api/v1/plots/ID with trace_props: attributes merged into each trace, its stream kept. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createPlot, testServer, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(() => s?.close());

describe('trace_props', () => {
  it('merges name, colour, mode and meta into each trace by position; null leaves one as it is; the stream stays', async () => {
    const plot = await createPlot(s, [s.newToken(), s.newToken()], {}, 300);
    const res = await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { trace_props: [{ name: 'ecg', line: { color: '#ff0000' }, mode: 'markers', meta: { readout: 'mV' } }, null] });
    expect(res.status).toBe(200);
    const data = (res.json.figure as { data: Record<string, unknown>[] }).data;
    expect(data[0]).toMatchObject({ name: 'ecg', line: { color: '#ff0000' }, mode: 'markers', meta: { readout: 'mV' }, stream: { maxpoints: 300 } });
    expect(data[1]).toMatchObject({ mode: 'lines', stream: { maxpoints: 300 } });
    // null removes an attribute, as in a layout patch.
    const again = await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, { trace_props: [{ meta: { readout: null } }] });
    expect((again.json.figure as { data: Record<string, unknown>[] }).data[0]?.meta).toEqual({});
  });

  it('refuses data, streams, too many entries and traces sent beside it, with 400 and the reason', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    for (const [body, reason] of [
      [{ trace_props: [{ y: [1, 2] }] }, /trace_props\[0\] sets y/],
      [{ trace_props: [{ stream: { maxpoints: 5 } }] }, /trace_props\[0\] sets stream/],
      [{ trace_props: [{}, {}] }, /has 2 entries; plot \d+ has 1 traces/],
      [{ trace_props: { name: 'x' } }, /must be an array/],
      [{ trace_props: ['red'] }, /trace_props\[0\] must be an object or null/],
      [{ trace_props: [{}], traces: [{ token }] }, /not both/],
    ] as const) {
      const res = await api(s, 'PATCH', `/api/v1/plots/${plot.id}`, body);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(reason);
    }
  });
});

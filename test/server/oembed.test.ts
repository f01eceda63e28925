/** GET /oembed: the iframe that embeds a plot, for sites given its link (https://oembed.com). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlot, testServer, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(() => s?.close());

const oembed = async (query: string) => {
  const res = await fetch(`${s.server.url}/oembed?${query}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('GET /oembed', () => {
  it("answers a rich embed of the plot's embed page, sized within maxwidth and maxheight", async () => {
    const plot = await createPlot(s, [s.newToken()], { title: 'Kitchen <temp>' });
    const { status, body } = await oembed(`url=${encodeURIComponent(plot.url as string)}&maxwidth=500`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ version: '1.0', type: 'rich', provider_name: 'plotwire', title: 'Kitchen <temp>', author_name: s.user, width: 500, height: 400 });
    expect(body.html).toBe(`<iframe src="${plot.embed_url}" width="500" height="400" title="Kitchen &#60;temp&#62;" style="border:0" loading="lazy"></iframe>`);
    // Never below the smallest size the embed lays out at.
    expect((await oembed(`url=${encodeURIComponent(plot.url as string)}&maxwidth=100&maxheight=50`)).body).toMatchObject({ width: 320, height: 240 });
    // The plot page says where its oEmbed is.
    const page = await (await fetch(plot.url as string)).text();
    expect(page).toContain(`<link rel="alternate" type="application/json+oembed" href="${s.server.url}/oembed?url=${encodeURIComponent(plot.url as string).replace(/&/g, '&#38;')}"`);
  });

  it('embeds a private plot only from its share link, with the key in the iframe', async () => {
    const plot = await createPlot(s, [s.newToken()], { world_readable: false });
    expect((await oembed(`url=${encodeURIComponent(plot.url as string)}`)).status).toBe(404);
    const { status, body } = await oembed(`url=${encodeURIComponent(plot.share_url as string)}`);
    expect(status).toBe(200);
    expect(body.html).toContain(`src="${plot.embed_url}?share_key=${new URL(plot.share_url as string).searchParams.get('share_key')}"`);
  });

  it('refuses what it cannot answer, saying why', async () => {
    const plot = await createPlot(s, [s.newToken()]);
    for (const [query, status, reason] of [
      ['', 400, /needs url=/],
      ['url=not%20a%20link', 400, /not a link/],
      [`url=${encodeURIComponent(`${s.server.url}/~nobody/9`)}`, 404, /no plot at/],
      [`url=${encodeURIComponent(plot.url as string)}&format=xml`, 501, /use format=json/],
    ] as const) {
      const res = await oembed(query);
      expect(res.status).toBe(status);
      expect(res.body.error).toMatch(reason);
    }
  });
});

/**
 * Plotly's own Arduino library against plotwire, byte for byte as its C++ builds them
 * (test/clients/arduino-plotly.ts): init() makes the plot and reads the answer as the library
 * does, openStream() streams two tokens on one connection with its own chunk arithmetic, x
 * becomes dates in the sketch's time zone, closeStream() ends it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatDateInZone } from '../../shared/dates.js';
import { ArduinoPlotly, arduinoFloat, dtostrf, lenInt, lenUlong } from '../clients/arduino-plotly.js';
import { rawExchange, testServer, type TestServer } from './helpers.js';

let s: TestServer;
let user: { name: string; apiKey: string };
const tokens: string[] = [];

beforeAll(async () => {
  // As the recipe has it: the server known as plot.ly to the board (a DNS or hosts entry), and
  // Plotly-format credentials, which the library's arithmetic needs.
  s = await testServer({ publicUrl: 'http://plot.ly' });
  const added = s.server.core.accounts.addUser('maker', { plotlyFormat: true });
  user = { name: added.user.name, apiKey: added.apiKey };
  for (let i = 0; i < 4; i++) tokens.push(s.server.core.accounts.createToken(added.user.id, { plotlyFormat: true }).token);
});
afterAll(() => s.close());

const library = (extra: Partial<ConstructorParameters<typeof ArduinoPlotly>[0]> = {}): ArduinoPlotly =>
  new ArduinoPlotly({ username: user.name, apiKey: user.apiKey, tokens: tokens.slice(0, 2), filename: 'garden', ...extra });

async function figure(fileId: string): Promise<{ data: { x: unknown[]; y: unknown[]; stream: { maxpoints: number } }[] }> {
  const res = await fetch(`http://127.0.0.1:${s.port}/apigetfile/${user.name}/${fileId}`, { headers: { 'plotly-username': user.name, 'plotly-apikey': user.apiKey } });
  return ((await res.json()) as { payload: { figure: Awaited<ReturnType<typeof figure>> } }).payload.figure;
}

/** "YYYY-MM-DD HH:MM:SS.ffffff" read as if UTC: differences between two are real differences. */
const asMs = (date: unknown): number => Date.parse(`${String(date).replace(' ', 'T')}Z`);

describe("Plotly's Arduino library, unchanged", () => {
  it('Plotly-format credentials are what its arithmetic assumes: the Content-Length is exact', () => {
    expect(user.apiKey).toMatch(/^[a-z0-9]{10}$/);
    for (const t of tokens) expect(t).toMatch(/^[a-z0-9]{10}$/);
    expect(library().initLengths()).toEqual({ declared: library().initLengths().actual, actual: library().initLengths().actual });
  });

  it('init(): the plot is made, the library reads "All Streams Go!" and finds the link it prints', async () => {
    const lib = library();
    const res = await rawExchange(s.port, [lib.init()]);
    expect(res.status).toBe(200);
    expect(res.head.toLowerCase()).toContain('connection: close');
    const seen = lib.scan(res.body);
    expect(seen.proceed).toBe(true);
    const plot = s.server.core.plots.byFilename(s.server.core.accounts.userByName(user.name)!.id, 'garden')!;
    expect(seen.fid).toBe(String(plot.fileId));
    expect(seen.printed).toBe(`https://plot.ly/~maker/${plot.fileId}`);
    expect(plot.traces.map((t) => t.maxpoints)).toEqual([30, 30]);
    expect(res.body).toMatch(/^\{"stream-host": ".*", "stream-status": "All Streams Go!", "url": "http:\/\/plot\.ly\/~maker\/\d+", /);
  });

  it('streams two tokens on one connection; its chunk sizes hold, maxpoints holds, x becomes dates in its time zone', async () => {
    const lib = library();
    const fileId = lib.scan((await rawExchange(s.port, [lib.init()])).body).fid as string;
    const [a, b] = tokens as [string, string];
    const parts: (string | number)[] = [lib.openStream()];
    // The sketch's loop: millis() as x, an int reading for one token and a float for the other.
    const start = 1_234_567;
    const floats: number[] = [];
    for (let i = 0; i < 40; i++) {
      parts.push(lib.plotInt(start + i * 50, 400 + i, a));
      const y = i % 4 === 0 ? 9.996 : i % 4 === 1 ? -9.996 : (i * 7.31) % 97;
      floats.push(y);
      parts.push(lib.plotFloat(start + i * 50 + 25, y, b));
    }
    parts.push(lib.closeStream());
    const before = Date.now();
    const res = await rawExchange(s.port, parts);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ points: 80, tokens: [{ points: 40 }, { points: 40 }] });

    const fig = await figure(fileId);
    // maxpoints 30: the newest 30 of each.
    expect(fig.data[0]?.y).toEqual(Array.from({ length: 30 }, (_, i) => 410 + i));
    expect(fig.data[1]?.y).toEqual(floats.slice(10).map((y) => Number(arduinoFloat(y))));
    // Dates with the board's own spacing, anchored at arrival, in America/Montreal.
    const xs = fig.data[0]!.x.map(asMs);
    xs.forEach((x, i) => expect(x - (xs[0] as number)).toBe(i * 50));
    expect(asMs(fig.data[1]!.x[0]) - (xs[0] as number)).toBe(25);
    const montrealNow = asMs(formatDateInZone(before, 'America/Montreal'));
    expect(Math.abs((xs[0] as number) - 10 * 50 - montrealNow)).toBeLessThan(10_000);
  });

  it("its float arithmetic: a chunk one byte short (Arduino rounds 9.996 up to 10.00) loses nothing", () => {
    // The library counts dtostrf's 3 decimals less one, and prints Arduino's 2: a carry adds a digit.
    expect(dtostrf(9.996).length - 1).toBe(4);
    expect(arduinoFloat(9.996)).toBe('10.00');
    expect(lenInt(-32768)).toBe(6);
    expect(lenUlong(4_294_967_295)).toBe(10);
  });

  it('any reading the library can print is stored as printed (seeded random floats and millis)', async () => {
    const lib = library({ tokens: [tokens[2] as string], filename: 'random', maxpoints: 10_000 });
    const fileId = lib.scan((await rawExchange(s.port, [lib.init()])).body).fid as string;
    const cases = fc.sample(fc.tuple(fc.integer({ min: 0, max: 4_294_967_295 }), fc.float({ min: -30_000, max: 30_000, noNaN: true })), { seed: 1201, numRuns: 300 });
    const res = await rawExchange(s.port, [lib.openStream(), ...cases.map(([x, y]) => lib.plotFloat(x, y, tokens[2] as string)), lib.closeStream()]);
    expect(res.json).toMatchObject({ status: 200, points: 300 });
    expect((await figure(fileId)).data[0]?.y).toEqual(cases.map(([, y]) => Number(arduinoFloat(y)) + 0));
  });

  it('a bad token on a shared connection loses only its own objects, counted; the stream stays open', async () => {
    const lib = library({ tokens: [tokens[3] as string], filename: 'one good one bad', convertTimestamp: false });
    const fileId = lib.scan((await rawExchange(s.port, [lib.init()])).body).fid as string;
    const parts = [lib.openStream()];
    for (let i = 0; i < 5; i++) parts.push(lib.plotInt(i, i, 'nosuchtokn'), lib.plotInt(i, 10 * i, tokens[3] as string));
    const res = await rawExchange(s.port, [...parts, lib.closeStream()]);
    expect(res.status).toBe(200);
    expect(res.json.tokens).toEqual([
      { token: 'nosu…', points: 0, status: 404, error: 'this stream token is not registered', dropped: 5 },
      { token: `${(tokens[3] as string).slice(0, 4)}…`, points: 5, next: 5 },
    ]);
    expect((await figure(fileId)).data[0]).toMatchObject({ x: [0, 1, 2, 3, 4], y: [0, 10, 20, 30, 40] });
  });

  it('a stream without a token header or a streamtoken in its objects gets 406, and an unknown time zone 400', async () => {
    const lib = library();
    const none = await rawExchange(s.port, [lib.openStream(), '10\r\n{"x": 1, "y": 2}\n\r\n', lib.closeStream()]);
    expect(none.status).toBe(406);
    expect(none.json.error).toContain('streamtoken');
    const mars = await rawExchange(s.port, [library({ timezone: 'Mars/Olympus' }).openStream(), lib.closeStream()]);
    expect(mars.status).toBe(400);
    expect(mars.json.error).toMatch(/plotly-converttimestamp names no time zone this server knows: "Mars\/Olympus"/);
  });

  it('with credentials of the wrong length the answer says what the library needs', async () => {
    const alice = s.server.core.accounts.userByName('alice')!;
    const longKey = s.apiKey;
    const lib = new ArduinoPlotly({ username: alice.name, apiKey: longKey, tokens: [s.newToken()], filename: 'too long' });
    expect(lib.initLengths().declared).toBeLessThan(lib.initLengths().actual);
    const res = await rawExchange(s.port, [lib.init()]);
    expect(lib.scan(res.body).proceed).toBe(false);
    expect(res.body).toContain('--plotly-format');
  });
});

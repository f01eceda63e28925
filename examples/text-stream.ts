/**
 * The Twitter-stream demo of Plotly's day, on today's open streams: how often a minute each
 * keyword is mentioned in a public text stream, one point a second per keyword, with the rate of
 * all records on a second axis.
 *   npx tsx examples/text-stream.ts --source URL --keywords rust,python [--field PATH] [--window S] --api-key KEY
 * Sources: Mastodon's streaming API (SSE), Wikimedia's EventStreams (SSE), Bluesky's Jetstream
 * (WebSocket), any NDJSON over HTTP, or NDJSON on standard input with --source -.
 */
import { ServerApi, StreamClient } from 'plotwire';
import { exampleArgs, runFor } from './lib/args.js';
import { DEFAULT_FIELDS, KeywordRates, textOf } from './lib/keyword-rates.js';
import { TextSource } from './lib/text-source.js';

const args = exampleArgs('text-stream', 'Plots how often a minute each keyword is mentioned in a public text stream.', {
  options: {
    source: { type: 'string' },
    keywords: { type: 'string' },
    field: { type: 'string', multiple: true },
    event: { type: 'string', multiple: true },
    header: { type: 'string', multiple: true },
    window: { type: 'string' },
  },
  synopsis: '--source URL --keywords A,B,... [--field PATH]... [--event TYPE]... [--header "NAME: VALUE"]... [--window S]',
  help: `  --source URL       the stream: http(s) SSE or NDJSON, ws(s) JSON messages, or - for NDJSON on stdin, e.g.
                     https://stream.wikimedia.org/v2/stream/recentchange
                     "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post"
                     https://mastodon.social/api/v1/streaming/public (with --header "Authorization: Bearer TOKEN")
  --keywords A,B,... the words to count, each as a whole word in any case ("rust" counts "Rust's", not "trust")
  --field PATH       where a record's text is, dotted (repeatable; default: ${DEFAULT_FIELDS.join(', ')})
  --event TYPE       SSE event types to count (repeatable; default: message and update, Mastodon's new posts)
  --header "N: V"    a request header for the source (repeatable)
  --window S         the rate is over the last S seconds (default 60)`,
});

const { values } = args;
const source = values.source as string | undefined;
const keywords = String(values.keywords ?? '')
  .split(',')
  .map((k) => k.trim())
  .filter(Boolean);
const windowSeconds = values.window === undefined ? 60 : Number(values.window);
const headers = Object.fromEntries(((values.header as string[] | undefined) ?? []).map((h) => [h.slice(0, h.indexOf(':')).trim(), h.slice(h.indexOf(':') + 1).trim()]));
const problem = !source
  ? '--source is needed'
  : keywords.length === 0
    ? '--keywords is needed (a comma-separated list)'
    : !(Number.isInteger(windowSeconds) && windowSeconds >= 1 && windowSeconds <= 86_400)
      ? '--window must be a whole number of seconds from 1 to 86400'
      : Object.keys(headers).some((name) => !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name))
        ? '--header takes "NAME: VALUE"'
        : undefined;
if (problem) {
  console.error(`text-stream: ${problem}; npx tsx examples/text-stream.ts --help says more`);
  process.exit(2);
}
const fields = values.field as string[] | undefined;

const api = new ServerApi(args.server, args.apiKey);
const tokens = await Promise.all([...keywords, 'all'].map(() => api.createToken()));
const sourceName = source === '-' ? 'standard input' : new URL(source as string).host;
const plot = await api.createPlot({
  title: `Mentions a minute in ${sourceName}`,
  traces: [
    ...keywords.map((k, i) => ({ token: tokens[i] as string, name: k, mode: 'lines', maxpoints: 3600 })),
    { token: tokens[keywords.length] as string, name: 'all records', mode: 'lines', maxpoints: 3600, yaxis: 'y2', line: { color: '#999', dash: 'dot' } },
  ],
  layout: {
    xaxis: { title: { text: 'time' } },
    yaxis: { title: { text: `mentions a minute (last ${windowSeconds} s)` }, rangemode: 'tozero' },
    yaxis2: { title: { text: 'records a minute' }, overlaying: 'y', side: 'right', rangemode: 'tozero', showgrid: false },
    legend: { orientation: 'h' },
  },
});
console.log(`streaming to ${plot.url}`);

const clients = tokens.map((token) => new StreamClient({ server: args.server, token, dateX: 'local' }).start());
// A short input (a file on stdin) can end before the streams open, and close() sends only on an open one.
await Promise.all(clients.map((c) => new Promise((resolve) => c.on('state', (state) => (state === 'streaming' || state === 'stopped') && resolve(state)))));
const rates = new KeywordRates(keywords, windowSeconds);
const text = new TextSource({
  url: source as string,
  headers,
  events: (values.event as string[] | undefined) ?? ['message', 'update'],
  maxRecordBytes: 1 << 20,
  onRecord: (record) => rates.count(textOf(record, fields), Date.now()),
  onNote: (line) => console.error(`text-stream: ${line}`),
});

/** A point a trace: the rates now. */
function plotRates(): void {
  const now = Date.now();
  rates.perMinute(now).forEach((rate, i) => clients[i]?.push(now, Math.round(rate * 100) / 100));
}
let ticks = 0;
const timer = setInterval(() => {
  plotRates();
  if (++ticks % 10 === 0) progress();
}, 1000);

/** A line of what was counted so far, every ten seconds and at the end. */
function progress(): void {
  const counted = rates.counted();
  const skipped = text.stats.tooLong ? `, ${text.stats.tooLong} too long to read` : '';
  console.log(`${text.stats.records} records${skipped}: ${keywords.map((k, i) => `${k} ${counted[i]}`).join(', ')}`);
}

const done = text.run();
await Promise.race([runFor(args.seconds), done]);
text.stop();
clearInterval(timer);
plotRates();
await Promise.all(clients.map((c) => c.close()));
progress();
await done;

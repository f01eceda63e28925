/**
 * Every number both wire protocols depend on. The firmware header and the tables in
 * docs/protocol.md are generated from this table, so a change here is a change everywhere.
 */

export interface Limit {
  readonly value: number;
  readonly unit: string;
  /** What the number means to someone reading docs/protocol.md. */
  readonly doc: string;
  /** Whether the firmware needs it (it goes into plotwire_protocol.h). */
  readonly firmware: boolean;
}

export const PROTOCOL_VERSION = 1;

export const limits = {
  MAX_LINE: {
    value: 256,
    unit: 'bytes',
    doc: 'Longest device line, newline included. The bridge discards a longer line up to the next newline and counts it.',
    firmware: true,
  },
  MAX_SAMPLES_PER_LINE: {
    value: 16,
    unit: 'samples',
    doc: 'Most values a channel may carry as an array in one device line.',
    firmware: true,
  },
  DEFAULT_BAUD: {
    value: 115200,
    unit: 'baud',
    doc: 'Serial speed the firmware uses and the bridge opens by default.',
    firmware: true,
  },
  DEFAULT_SAMPLE_RATE_HZ: {
    value: 500,
    unit: 'Hz',
    doc: 'Sampling rate of the heart-rate firmware.',
    firmware: true,
  },
  DEFAULT_SAMPLES_PER_LINE: {
    value: 5,
    unit: 'samples',
    doc: 'Samples the heart-rate firmware packs into one line, so 500 Hz fits 115200 baud.',
    firmware: true,
  },
  WRITE_INTERVAL_MS: {
    value: 50,
    unit: 'ms',
    doc: 'A writer sends at most one object per token in this window; the bridge batches the window into one object.',
    firmware: false,
  },
  IDLE_TIMEOUT_MS: {
    value: 60_000,
    unit: 'ms',
    doc: 'The server ends a stream with 408 after this long without a byte.',
    firmware: false,
  },
  HEARTBEAT_INTERVAL_MS: {
    value: 30_000,
    unit: 'ms',
    doc: 'A writer sends a bare newline after this long without data; always below the idle timeout.',
    firmware: false,
  },
  MAXPOINTS_DEFAULT: {
    value: 500,
    unit: 'points',
    doc: "Points a trace keeps when its stream.maxpoints is not set (Plotly's default).",
    firmware: false,
  },
  MAXPOINTS_MAX: {
    value: 10_000,
    unit: 'points',
    doc: "Largest stream.maxpoints a trace may ask for (Plotly's maximum).",
    firmware: false,
  },
  MAX_STREAM_LINE: {
    value: 1_048_576,
    unit: 'bytes',
    doc: 'Longest stream object (one line of a stream body). A longer line ends the stream with 413.',
    firmware: false,
  },
  MAX_LAYOUT: {
    value: 131_072,
    unit: 'bytes',
    doc: "Largest layout of a plot (as JSON), after a stream object's or an edit's layout is merged in. A larger one is refused with 413 and the layout stays as it was.",
    firmware: false,
  },
  MAX_JSON_DEPTH: {
    value: 32,
    unit: 'levels',
    doc: 'Deepest nesting of objects and arrays in a layout, a trace or an API body. Deeper is refused (422 in a stream, 400 in the API).',
    firmware: false,
  },
  MAX_BATCH_POINTS: {
    value: 10_000,
    unit: 'points',
    doc: 'Most points one batch-append object may carry.',
    firmware: false,
  },
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof limits;

/** Every limit's value under its name, as the code imports them (MAX_LINE, ...). */
const values = Object.fromEntries(Object.entries(limits).map(([name, limit]) => [name, limit.value])) as { readonly [K in LimitName]: (typeof limits)[K]['value'] };

export const { MAX_LINE, MAX_SAMPLES_PER_LINE, DEFAULT_BAUD, DEFAULT_SAMPLE_RATE_HZ, DEFAULT_SAMPLES_PER_LINE, WRITE_INTERVAL_MS } = values;
export const { IDLE_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, MAXPOINTS_DEFAULT, MAXPOINTS_MAX, MAX_STREAM_LINE, MAX_BATCH_POINTS, MAX_LAYOUT, MAX_JSON_DEPTH } = values;

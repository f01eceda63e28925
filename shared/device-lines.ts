/**
 * Wire protocol 1: the NDJSON lines a board writes to the bridge over serial.
 *
 * A line is a hello (has "hello"), an event (has "ev") or a sample (anything else). A sample is a
 * flat object of channels, so a sketch that prints {"temp":21.5} needs nothing from plotwire to
 * be plotted. "n" (sequence) and "t" (device time) are stamps only once a board's hello has
 * declared them ("stamped" lines): for any other sketch they are channels like every key, so
 * {"t":21.5,"h":40} (t for temperature) plots both.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_LINE, MAX_SAMPLES_PER_LINE } from './limits.js';
import { ProtocolError, parseJson } from './errors.js';
import { compile } from './validate.js';

/** Every key a device line may use. The firmware prints these from the generated header. */
export const deviceKeys = {
  HELLO: 'hello',
  FIRMWARE: 'fw',
  BOARD: 'board',
  RATE: 'rate',
  CHANNELS: 'ch',
  UNITS: 'unit',
  SAMPLES_PER_LINE: 'spl',
  MODE: 'mode',
  SEQ: 'n',
  TIME: 't',
  EVENT: 'ev',
  BPM: 'bpm',
  IBI: 'ibi',
  OFF: 'off',
  SIGNAL: 'sig',
  QUALITY: 'q',
  LEVEL: 'lvl',
  MESSAGE: 'msg',
  LINES: 'lines',
} as const;

const K = deviceKeys;

/** Values of "ev". */
export const eventTypes = { BEAT: 'beat', LEAD: 'lead', QUALITY: 'quality', LOG: 'log', DROP: 'drop' } as const;
/**
 * Values of "sig" in a quality event: ok (beats and a rate), lost (no beat found for a while, or
 * a lead off), and why a signal cannot give a beat: noisy, flat, clipped (at an ADC rail), weak
 * (too small). The board reports no beat and no rate while the state is not ok.
 */
export const signalStates = { OK: 'ok', NOISY: 'noisy', FLAT: 'flat', LOST: 'lost', CLIPPED: 'clipped', WEAK: 'weak' } as const;
/** Values of "mode" in the hello line. */
export const firmwareModes = { PPG: 'ppg', ECG: 'ecg', ANALOG: 'analog', MOCK: 'mock' } as const;
/** Values of "lvl" in a log event. */
export const logLevels = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

const oneOf = <T extends Record<string, string>>(values: T, description: string) =>
  Type.Union(
    Object.values(values).map((v) => Type.Literal(v)),
    { description: `${description}: one of ${Object.values(values).join(', ')}` },
  );

const Seq = Type.Integer({
  minimum: 0,
  maximum: 65535,
  description: 'the line sequence number: an integer from 0 to 65535 that wraps to 0',
});
const DeviceTime = Type.Integer({
  minimum: 0,
  maximum: 4294967295,
  description: 'the device time in ms: an integer from 0 to 4294967295 that wraps to 0',
});
const Name = (what: string) => Type.String({ minLength: 1, maxLength: 32, description: `${what}: a string of 1 to 32 characters` });

export const ChannelValue = Type.Union(
  [Type.Number(), Type.Array(Type.Number(), { minItems: 1, maxItems: MAX_SAMPLES_PER_LINE })],
  { description: `a channel value: a number, or an array of 1 to ${MAX_SAMPLES_PER_LINE} numbers (consecutive samples)` },
);

export const HelloLine = Type.Object(
  {
    [K.HELLO]: Type.Integer({ minimum: 1, maximum: 65535, description: 'the protocol version the firmware speaks: an integer >= 1' }),
    [K.FIRMWARE]: Name('the firmware version'),
    [K.BOARD]: Name('the board name'),
    [K.RATE]: Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'the sample rate in Hz: a number above 0 and at most 100000' }),
    [K.CHANNELS]: Type.Array(Name('a channel name'), { minItems: 1, maxItems: 16, description: 'the channel names: an array of 1 to 16 names' }),
    [K.UNITS]: Type.Optional(
      Type.Array(Type.String({ maxLength: 32 }), {
        maxItems: 16,
        description: 'the unit of each channel, in the order of "ch" ("" for none): an array of up to 16 strings of at most 32 characters',
      }),
    ),
    [K.SAMPLES_PER_LINE]: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_SAMPLES_PER_LINE, description: `samples per channel in each sample line: an integer from 1 to ${MAX_SAMPLES_PER_LINE}` }),
    ),
    [K.MODE]: Type.Optional(Name('the firmware mode')),
    [K.SEQ]: Type.Optional(Seq),
    [K.TIME]: Type.Optional(DeviceTime),
  },
  // A newer firmware of the same protocol version may announce more; the bridge ignores it.
  { additionalProperties: true },
);

export const SampleLine = Type.Object(
  { [K.SEQ]: Type.Optional(Seq), [K.TIME]: Type.Optional(DeviceTime) },
  { additionalProperties: ChannelValue },
);

/** A sample line of a board that sent no hello: every key a channel, "n" and "t" included. */
export const UnstampedSampleLine = Type.Object({}, { additionalProperties: ChannelValue });

const event = <P extends Record<string, TSchema>>(type: string, props: P) =>
  Type.Object(
    {
      [K.EVENT]: Type.Literal(type),
      ...props,
      [K.SEQ]: Type.Optional(Seq),
      [K.TIME]: Type.Optional(DeviceTime),
    },
    { additionalProperties: false },
  );

export const BeatEvent = event(eventTypes.BEAT, {
  [K.BPM]: Type.Optional(Type.Number({ minimum: 0, maximum: 400, description: 'the heart rate in beats per minute (absent until one is known): a number from 0 to 400' })),
  [K.IBI]: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 65535, description: 'the interval since the previous beat in ms (absent for the first beat after a gap): an integer from 0 to 65535' }),
  ),
});
export const LeadEvent = event(eventTypes.LEAD, {
  [K.OFF]: Type.Boolean({ description: 'true or false: whether an electrode is off' }),
});
export const QualityEvent = event(eventTypes.QUALITY, {
  [K.SIGNAL]: oneOf(signalStates, 'the signal state'),
  [K.QUALITY]: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'the signal quality: an integer from 0 to 100' })),
  [K.BPM]: Type.Optional(Type.Number({ minimum: 0, maximum: 400, description: 'the heart rate now (absent while none is known): a number from 0 to 400' })),
});
export const LogEvent = event(eventTypes.LOG, {
  [K.LEVEL]: Type.Optional(oneOf(logLevels, 'the log level')),
  [K.MESSAGE]: Type.String({ maxLength: MAX_LINE, description: `the log text: a string of at most ${MAX_LINE} characters` }),
});
export const DropEvent = event(eventTypes.DROP, {
  [K.LINES]: Type.Integer({ minimum: 1, maximum: 4294967295, description: 'lines the device dropped because the link was full: an integer >= 1' }),
});

export const eventSchemas = {
  [eventTypes.BEAT]: BeatEvent,
  [eventTypes.LEAD]: LeadEvent,
  [eventTypes.QUALITY]: QualityEvent,
  [eventTypes.LOG]: LogEvent,
  [eventTypes.DROP]: DropEvent,
} as const;

export type HelloLine = Static<typeof HelloLine>;
/** A sample line: "n" and "t" optional, every other key a channel. */
export type SampleLine = { n?: number; t?: number } & { [channel: string]: number | number[] | undefined };
export type BeatEvent = Static<typeof BeatEvent>;
export type LeadEvent = Static<typeof LeadEvent>;
export type QualityEvent = Static<typeof QualityEvent>;
export type LogEvent = Static<typeof LogEvent>;
export type DropEvent = Static<typeof DropEvent>;
export type EventLine = BeatEvent | LeadEvent | QualityEvent | LogEvent | DropEvent;

export type DeviceLine =
  | { readonly kind: 'hello'; readonly line: HelloLine }
  | { readonly kind: 'sample'; readonly line: SampleLine }
  | { readonly kind: 'event'; readonly line: EventLine };

/** Every device-line schema, for the generator and the docs. */
export const deviceSchemas = { hello: HelloLine, sample: SampleLine, ...eventSchemas } as const;

const helloCheck = compile(HelloLine);
const sampleCheck = compile(SampleLine);
const unstampedCheck = compile(UnstampedSampleLine);
const eventChecks = new Map(Object.entries(eventSchemas).map(([type, schema]) => [type, compile(schema)]));
export const EventType = oneOf(eventTypes, 'the event type');
const eventTypeRule = EventType.description as string;

/** True for keys that are channels in a stamped sample line (all but "n" and "t"; unstamped, every key is). */
export function isChannelKey(key: string): boolean {
  return key !== K.SEQ && key !== K.TIME;
}

const isUint = (v: unknown, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const isFiniteNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/**
 * The SampleLine schema's rules written out by hand, plus "at least one channel": the compiled
 * schema check costs more than the JSON.parse before it (bench/bridge-throughput.ts), and sample
 * lines are nearly all the traffic. A test holds it to the schema. False sends the line through
 * the schema, which says what is wrong.
 */
export function isSampleLine(value: object, stamped = true): value is SampleLine {
  let channels = 0;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (stamped && key === K.SEQ) {
      if (!isUint(v, 65_535)) return false;
    } else if (stamped && key === K.TIME) {
      if (!isUint(v, 4_294_967_295)) return false;
    } else if (isFiniteNumber(v)) channels++;
    else if (Array.isArray(v) && v.length >= 1 && v.length <= MAX_SAMPLES_PER_LINE) {
      for (let i = 0; i < v.length; i++) if (!isFiniteNumber(v[i])) return false;
      channels++;
    } else return false;
  }
  return channels > 0;
}

/**
 * Validates an already-parsed device line and says which kind it is; `stamped` once the board's
 * hello declared "n" and "t". Throws ProtocolError naming the field and the rule.
 */
export function classifyDeviceLine(value: unknown, stamped = true): DeviceLine {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('device line', '', 'must be a JSON object', value);
  }
  if (K.HELLO in value) return { kind: 'hello', line: helloCheck.parse('hello line', value) };
  if (K.EVENT in value) {
    const type = (value as Record<string, unknown>)[K.EVENT];
    const check = typeof type === 'string' ? eventChecks.get(type) : undefined;
    if (!check) throw new ProtocolError('event line', K.EVENT, `must be ${eventTypeRule}`, type);
    return { kind: 'event', line: check.parse('event line', value) as EventLine };
  }
  if (isSampleLine(value, stamped)) return { kind: 'sample', line: value };
  // Not a valid sample: the schema names the field and the rule.
  const sample = (stamped ? sampleCheck : unstampedCheck).parse('sample line', value) as SampleLine;
  for (const key in sample) {
    if (!stamped || isChannelKey(key)) return { kind: 'sample', line: sample };
  }
  throw new ProtocolError('sample line', '', stamped ? 'must have at least one channel (a key other than "n" and "t" with a number)' : 'must have at least one channel (a key with a number)');
}

/**
 * Parses and validates one line of text (without its newline). The serial framer enforces
 * MAX_LINE in bytes; this cheaper check in characters guards callers that skip the framer.
 */
export function decodeDeviceLine(text: string): DeviceLine {
  return decodeDeviceText(text, true);
}

/** decodeDeviceLine for a board whose hello did (stamped) or did not declare "n" and "t". */
export function decodeDeviceText(text: string, stamped: boolean): DeviceLine {
  if (text.length >= MAX_LINE) {
    throw new ProtocolError('device line', '', `must be shorter than ${MAX_LINE} bytes with its newline (got ${text.length} characters)`);
  }
  return classifyDeviceLine(parseJson('device line', text), stamped);
}

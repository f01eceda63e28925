/**
 * Wire protocol 2: the newline-separated JSON objects a writer sends in a chunked POST to the
 * stream server, Plotly's rules first and plotwire's extension (append + seq) beside them.
 *
 * Plotly's rule, per key: a scalar appends one point, an array replaces the trace's data.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_BATCH_POINTS, MAX_JSON_DEPTH, MAX_STREAM_LINE } from './limits.js';
import { classifyXText } from './dates.js';
import { ProtocolError, parseJson } from './errors.js';
import { compile, nestedDeeperThan } from './validate.js';

/** HTTP header that carries the stream token (Plotly's name). */
export const STREAM_TOKEN_HEADER = 'plotly-streamtoken';
/**
 * plotwire's extension: a writer names itself (any id it chose, e.g. a random UUID) on its
 * stream and its state queries, and the state answer says which writer's stream holds the token,
 * so a new writer can start numbering from the server's count once its own stream holds the
 * token, when no older writer's points can land any more.
 */
export const STREAM_WRITER_HEADER = 'plotwire-writer';
/** GET with the token header answers a StreamState: how far the server has stored this token. */
export const STREAM_STATE_PATH = '/api/v1/streams/state';

export const streamKeys = {
  X: 'x',
  Y: 'y',
  Z: 'z',
  TEXT: 'text',
  MARKER: 'marker',
  LINE: 'line',
  LAYOUT: 'layout',
  APPEND: 'append',
  SEQ: 'seq',
} as const;

const S = streamKeys;
/** Keys whose values are point data (as opposed to layout and the extension's own keys). */
export const dataKeys = [S.X, S.Y, S.Z, S.TEXT, S.MARKER, S.LINE] as const;
type DataKey = (typeof dataKeys)[number];

/** `YYYY-MM-DD`, optionally with ` HH:MM`, `:SS` and up to six fraction digits (Plotly's date form). */
export const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$/;
const DATE_RULE = 'a number, a real date ("YYYY-MM-DD HH:MM:SS.ffffff", or ISO 8601 with "T"), or other text for a category axis';
/**
 * Plotly's Arduino libraries send no token header: each object names its token under this key,
 * and one connection carries several tokens.
 */
export const STREAM_TOKEN_KEY = 'streamtoken';

const scalars = () => [Type.Number(), Type.String(), Type.Null()];
const Scalar = Type.Union(scalars(), { description: 'a number, a string or null' });
const Points = Type.Array(Scalar, {
  minItems: 1,
  maxItems: MAX_BATCH_POINTS,
  description: `an array of 1 to ${MAX_BATCH_POINTS} values, each a number, a string or null`,
});
const Value = Type.Union([...scalars(), Type.Array(Scalar)], {
  description: "a number, a string or null (appends a point), or an array of them (replaces the trace's data)",
});
/**
 * The data keys of a stream object, each holding `value`; marker and line hold an object of
 * style properties, each a `value`.
 */
const dataProperties = <V extends TSchema>(value: V) => {
  const style = (what: string) => Type.Optional(Type.Record(Type.String(), value, { description: `an object of ${what} properties, each ${value.description}` }));
  return {
    [S.X]: Type.Optional(value),
    [S.Y]: Type.Optional(value),
    [S.Z]: Type.Optional(value),
    [S.TEXT]: Type.Optional(value),
    [S.MARKER]: style('marker'),
    [S.LINE]: style('line'),
  };
};

/** plotwire's batch append: many points in one object, every array the same length. */
export const AppendBatch = Type.Object(dataProperties(Points), {
  additionalProperties: false,
  description: 'a batch of points: arrays of equal length under x, y, z, text, marker, line',
});

export const StreamObject = Type.Object(
  {
    ...dataProperties(Value),
    [S.LAYOUT]: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'a plotly.js layout object' })),
    [S.APPEND]: Type.Optional(AppendBatch),
    [S.SEQ]: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: "the token's sequence number of the object's first point: an integer >= 0",
      }),
    ),
  },
  { additionalProperties: false },
);

/** The answer to GET STREAM_STATE_PATH. */
export const StreamState = Type.Object(
  {
    next: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'the seq of the next point the server expects (all before it are stored): an integer >= 0',
    }),
    writer: Type.Optional(
      Type.Union([Type.String({ maxLength: 128 }), Type.Null()], {
        description: `the ${STREAM_WRITER_HEADER} of the stream that holds the token now: a string, or null when no stream holds it or the one that does gave none`,
      }),
    ),
  },
  { additionalProperties: true },
);

export type StreamObject = Static<typeof StreamObject>;
export type AppendBatch = Static<typeof AppendBatch>;
export type StreamState = Static<typeof StreamState>;

const objectCheck = compile(StreamObject);
const stateCheck = compile(StreamState);
const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object';

/**
 * Points an object appends: the batch length for `append`, 1 when any data key holds a scalar,
 * else 0 (it only replaces data or edits the layout).
 */
export function pointCount(obj: StreamObject): number {
  if (obj.append) return batchLength(obj.append);
  for (const key of dataKeys) {
    const v = obj[key];
    if (v === undefined) continue;
    if (key === S.MARKER || key === S.LINE) {
      if (Object.values(v as Record<string, unknown>).some(isScalar)) return 1;
    } else if (isScalar(v)) return 1;
  }
  return 0;
}

/** Every array of a batch, with its path for error messages. */
function* batchArrays(batch: AppendBatch): Generator<[string, unknown[]]> {
  for (const key of dataKeys) {
    const v = batch[key];
    if (v === undefined) continue;
    if (Array.isArray(v)) yield [`${S.APPEND}.${key}`, v];
    else for (const [sub, arr] of Object.entries(v)) yield [`${S.APPEND}.${key}.${sub}`, arr];
  }
}

function batchLength(batch: AppendBatch): number {
  for (const [, arr] of batchArrays(batch)) return arr.length;
  return 0;
}

/**
 * x strings: a date (Plotly's form, or ISO 8601 normalized to it) or any other text for a
 * category axis; a string that starts like a date must be a real one. Normalizes in place.
 */
function checkX(field: string, holder: Record<string, unknown>, key: string): void {
  const v = holder[key];
  const check = (x: unknown): unknown => {
    if (typeof x !== 'string') return x;
    const c = classifyXText(x);
    if (c.kind === 'bad date') throw new ProtocolError('stream object', field, `must be ${DATE_RULE}`, x);
    return c.kind === 'date' ? c.text : x;
  };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (typeof v[i] === 'string') v[i] = check(v[i]);
  } else if (typeof v === 'string') holder[key] = check(v);
}

/** The rules a JSON schema cannot say: dates in x, equal batch lengths, what seq may go with. */
function checkRules(obj: StreamObject): void {
  checkX(S.X, obj as Record<string, unknown>, S.X);
  if (obj.append) {
    const mixed = dataKeys.find((k: DataKey) => obj[k] !== undefined);
    if (mixed) throw new ProtocolError('stream object', mixed, `cannot be combined with "${S.APPEND}"; put it inside the batch`);
    checkX(`${S.APPEND}.${S.X}`, obj.append as Record<string, unknown>, S.X);
    let length = -1;
    let first = '';
    for (const [path, arr] of batchArrays(obj.append)) {
      if (length === -1) [length, first] = [arr.length, path];
      else if (arr.length !== length) {
        throw new ProtocolError('stream object', path, `must have as many values as "${first}" (${length}), got ${arr.length}`);
      }
    }
    if (length === -1) throw new ProtocolError('stream object', S.APPEND, 'must hold at least one array of points');
  }
  if (obj.seq !== undefined && pointCount(obj) === 0) {
    throw new ProtocolError('stream object', S.SEQ, 'numbers appended points, so it needs "append" or a scalar value to go with');
  }
}

/**
 * Validates an already-parsed stream object, strictly: every key must be one the protocol
 * defines. Throws ProtocolError naming the field and the rule. Date strings in x are normalized.
 */
export function validateStreamObject(value: unknown): StreamObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('stream object', '', 'must be a JSON object', value);
  }
  const obj = objectCheck.parse('stream object', value);
  checkRules(obj);
  return obj;
}

const knownKeys = new Set<string>(Object.keys(StreamObject.properties));

/**
 * What a line carried besides its data, for the writer's and the log's counts: keys plotwire does
 * not use (Plotly's clients send "type", "name" ...), dropped; non-finite numbers (Python's NaN,
 * Infinity), made gaps.
 */
export interface LineNotes {
  readonly ignoredKeys: readonly string[];
  readonly gaps: number;
}

const NO_NOTES: LineNotes = Object.freeze({ ignoredKeys: Object.freeze([]) as readonly string[], gaps: 0 });

export type StreamLine =
  | { readonly kind: 'heartbeat' }
  | {
      readonly kind: 'object';
      readonly object: StreamObject;
      /** The object's own token (Plotly's Arduino libraries name it in each object). */
      readonly token?: string;
      readonly notes: LineNotes;
    };

const HEARTBEAT: StreamLine = Object.freeze({ kind: 'heartbeat' });

/**
 * Python's json.dumps writes NaN, Infinity and -Infinity bare, which JSON does not allow. Outside
 * strings they become null (a gap); returns the text and how many were replaced.
 */
function nonFiniteToNull(text: string): { text: string; replaced: number } {
  let out = '';
  let replaced = 0;
  let i = 0;
  let from = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip a string, escapes included.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      i++;
      continue;
    }
    const word = text.startsWith('-Infinity', i) ? 9 : text.startsWith('Infinity', i) ? 8 : text.startsWith('NaN', i) ? 3 : 0;
    if (word) {
      out += `${text.slice(from, i)}null`;
      i += word;
      from = i;
      replaced++;
      continue;
    }
    i++;
  }
  return { text: out + text.slice(from), replaced };
}

/** JSON.parse, taking Python's NaN and Infinity as gaps (null). */
function parseLine(text: string): { value: unknown; gaps: number } {
  try {
    return { value: JSON.parse(text), gaps: 0 };
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) return { value: parseJson('stream object', text), gaps: 0 };
    const fixed = nonFiniteToNull(text);
    try {
      return { value: JSON.parse(fixed.text), gaps: fixed.replaced };
    } catch {
      throw new ProtocolError('stream object', '', `is not valid JSON: ${(err as Error).message}`, undefined, 'PW_ERR_NOT_JSON');
    }
  }
}

/**
 * One line of a stream body (without its newline): a heartbeat when blank, else an object. As
 * Plotly's server did, keys plotwire does not use are dropped and noted, not refused; Plotly's
 * Arduino libraries' "streamtoken" is taken out as the object's token.
 */
export function decodeStreamLine(text: string): StreamLine {
  if (text.trim() === '') return HEARTBEAT;
  if (text.length > MAX_STREAM_LINE) {
    throw new ProtocolError('stream object', '', `must be at most ${MAX_STREAM_LINE} bytes (got ${text.length} characters)`);
  }
  const { value, gaps } = parseLine(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('stream object', '', 'must be a JSON object', value);
  }
  // Before anything recursive (the schema check, a layout merge) meets it.
  if (nestedDeeperThan(value, MAX_JSON_DEPTH)) throw new ProtocolError('stream object', '', `must not nest objects and arrays deeper than ${MAX_JSON_DEPTH} levels (MAX_JSON_DEPTH)`);
  const record = value as Record<string, unknown>;
  let token: string | undefined;
  let ignored: string[] | undefined;
  for (const key in record) {
    if (knownKeys.has(key)) continue;
    if (key === STREAM_TOKEN_KEY) {
      const t = record[key];
      if (typeof t !== 'string' || t === '') throw new ProtocolError('stream object', key, 'must be a stream token: a string', t);
      token = t;
    } else (ignored ??= []).push(key);
    delete record[key];
  }
  const object = validateStreamObject(record);
  const notes = ignored || gaps ? { ignoredKeys: ignored ?? [], gaps } : NO_NOTES;
  return token === undefined ? { kind: 'object', object, notes } : { kind: 'object', object, token, notes };
}

/** Validates the answer to a stream-state query. */
export function validateStreamState(value: unknown): StreamState {
  return stateCheck.parse('stream state', value);
}

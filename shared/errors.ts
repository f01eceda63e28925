/**
 * One error family, as undici's lib/core/errors.js: every error plotwire throws is a
 * PlotwireError whose stable `code` ("PW_ERR_...") is what programs switch on. The message is
 * for people; nothing in plotwire decides on its text.
 */

export abstract class PlotwireError extends Error {
  abstract readonly code: `PW_ERR_${string}`;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // Each class's own name ("ProtocolError"), as node prints it before the message.
    this.name = new.target.name;
  }
}

/** A value given to a plotwire API is out of its range or of the wrong kind (a caller's bug). */
export class InvalidArgumentError extends PlotwireError {
  readonly code = 'PW_ERR_INVALID_ARGUMENT';
}

/** Something plotwire needs (a file, a build product, a package folder) is missing or unreadable. */
export class MissingFileError extends PlotwireError {
  readonly code = 'PW_ERR_MISSING_FILE';
}

export type MessageKind =
  | 'device line'
  | 'hello line'
  | 'sample line'
  | 'event line'
  | 'stream object'
  | 'stream state'
  | 'bridge config';

/** A message of either wire protocol (or a config) that breaks a rule: names the kind, the field and the rule. */
export class ProtocolError extends PlotwireError {
  readonly code: 'PW_ERR_INVALID' | 'PW_ERR_NOT_JSON';

  constructor(
    readonly kind: MessageKind,
    /** The failing field as a path ("ch[2]", "append.y"); "" for the message as a whole. */
    readonly field: string,
    /** The rule that failed, in words ("must be an integer from 0 to 65535"). */
    readonly rule: string,
    readonly value?: unknown,
    code: ProtocolError['code'] = 'PW_ERR_INVALID',
  ) {
    super(`invalid ${kind}: ${field ? `"${field}" ` : ''}${rule}${gotText(value)}`);
    this.code = code;
  }
}

function gotText(value: unknown): string {
  if (value === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return ` (got ${text.length > 40 ? `${text.slice(0, 37)}...` : text})`;
}

/** JSON.parse that reports a syntax error as a ProtocolError of the given kind. */
export function parseJson(kind: MessageKind, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ProtocolError(kind, '', `is not valid JSON: ${reason}`, undefined, 'PW_ERR_NOT_JSON');
  }
}

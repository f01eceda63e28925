/**
 * Typed protocol errors (undici-style): a stable `code` for programs, a message for people that
 * names the message kind, the field and the rule.
 */

export type MessageKind =
  | 'device line'
  | 'hello line'
  | 'sample line'
  | 'event line'
  | 'stream object'
  | 'stream state'
  | 'bridge config';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
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

/**
 * Compiled validators with errors a person can act on: every failure names the field and the
 * rule it broke, in words taken from the schema.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { ProtocolError, type MessageKind } from './errors.js';

/** A plain JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether a JSON value nests objects and arrays deeper than `max` levels, found without recursion
 * (a value nested thousands deep would overflow the stack of anything recursive: JSON.stringify,
 * a schema check, a merge).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push({ v: child, depth: depth + 1 });
  }
  return false;
}

export interface Validator<T> {
  /** Fast path: true when the value matches the schema. */
  check(value: unknown): value is T;
  /** The value typed, or a ProtocolError naming the first field that fails. */
  parse(kind: MessageKind, value: unknown): T;
}

export function compile<S extends TSchema>(schema: S): Validator<Static<S>> {
  const compiled: TypeCheck<S> = TypeCompiler.Compile(schema);
  return {
    check: (value: unknown): value is Static<S> => compiled.Check(value),
    parse(kind: MessageKind, value: unknown): Static<S> {
      if (compiled.Check(value)) return value;
      // Errors() walks the schema again, slowly; only failures pay for it.
      const first = compiled.Errors(value).First();
      throw first ? errorFrom(kind, first) : new ProtocolError(kind, '', 'must match the schema', value);
    },
  };
}

function errorFrom(kind: MessageKind, e: ValueError): ProtocolError {
  const field = fieldName(e.path);
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return new ProtocolError(kind, field, `is required: ${describe(e.schema)}`, undefined);
    case ValueErrorType.ObjectAdditionalProperties:
      return new ProtocolError(kind, field, `is not a key of this message (allowed: ${knownKeys(e.schema)})`, e.value);
    default:
      return new ProtocolError(kind, field, `must be ${describe(e.schema)}`, e.value);
  }
}

/** JSON pointer "/ch/2" -> "ch[2]"; the root is "". */
export function fieldName(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

function knownKeys(schema: TSchema): string {
  return Object.keys((schema as { properties?: object }).properties ?? {}).join(', ');
}

/** The rule a schema states, in words: its description when it has one. */
export function describe(schema: TSchema): string {
  if (typeof schema.description === 'string') return schema.description;
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as TSchema[]).map(describe).join(' or ');
  const range = (lo: unknown, hi: unknown): string =>
    lo !== undefined && hi !== undefined ? ` from ${lo} to ${hi}` : lo !== undefined ? ` >= ${lo}` : hi !== undefined ? ` <= ${hi}` : '';
  switch (schema.type) {
    case 'integer':
      return `an integer${range(schema.minimum, schema.maximum)}`;
    case 'number':
      return `a number${range(schema.minimum ?? schema.exclusiveMinimum, schema.maximum)}`;
    case 'string':
      return `a string${schema.maxLength !== undefined ? ` of at most ${schema.maxLength} characters` : ''}`;
    case 'boolean':
      return 'true or false';
    case 'array':
      return `an array of ${schema.minItems ?? 0} to ${schema.maxItems ?? 'any number of'} items, each ${describe(schema.items as TSchema)}`;
    case 'object':
      return 'a JSON object';
    case 'null':
      return 'null';
    default:
      return 'a valid value';
  }
}

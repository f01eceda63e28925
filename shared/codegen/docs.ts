/**
 * Fills the generated tables of docs/protocol.md from shared/. The prose around them is written
 * by hand; only the text between the BEGIN/END GENERATED markers is replaced.
 */
import type { TSchema } from '@sinclair/typebox';
import { limits } from '../limits.js';
import { statusCodes } from '../status.js';
import { AppendBatch, StreamObject } from '../stream-objects.js';
import { headerSections } from './header.js';
import { CodegenError } from './codegen-error.js';

export const DOCS_PATH = 'docs/protocol.md';

const cell = (s: string | number): string => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = (head: string[], rows: (string | number)[][]): string =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

const propertyRows = (schema: TSchema, prefix = ''): string[][] =>
  Object.entries(schema.properties as Record<string, TSchema>).map(([key, prop]) => [
    `\`${prefix}${key}\``,
    prop.description ?? '',
  ]);

const tables: Record<string, () => string> = {
  limits: () =>
    table(
      ['name', 'value', 'unit', 'meaning', 'in firmware header'],
      Object.entries(limits).map(([name, l]) => [`\`${name}\``, l.value, l.unit, l.doc, l.firmware ? `\`PW_${name}\`` : '']),
    ),
  status: () =>
    table(
      ['code', 'name', 'meaning', 'the bridge', 'Plotly'],
      statusCodes.map((s) => [s.code, s.name, s.meaning, s.writer, s.plotly ? 'yes' : 'plotwire']),
    ),
  'device-keys': () =>
    table(
      ['C name', 'value', 'meaning'],
      headerSections()
        .filter((s) => s.title !== 'Limits (shared/limits.ts)')
        .flatMap((s) => s.constants.map((c) => [`\`${c.name}\``, `\`${c.literal}\``, c.doc])),
    ),
  'stream-keys': () =>
    table(['key', 'meaning'], [...propertyRows(StreamObject), ...propertyRows(AppendBatch, 'append.')]),
};

/** The document with every generated table filled in. Throws when a marker pair is missing. */
export function renderDocs(current: string): string {
  let doc = current;
  for (const [name, render] of Object.entries(tables)) {
    const begin = `<!-- BEGIN GENERATED: ${name} -->`;
    const end = `<!-- END GENERATED: ${name} -->`;
    const from = doc.indexOf(begin);
    const to = doc.indexOf(end);
    if (from < 0 || to < from) throw new CodegenError(`${DOCS_PATH} lacks the markers "${begin}" ... "${end}"`);
    doc = `${doc.slice(0, from + begin.length)}\n${render()}\n${doc.slice(to)}`;
  }
  return doc;
}

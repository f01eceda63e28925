/**
 * npm run codegen [-- --check]: writes the firmware header and the tables of docs/protocol.md from
 * shared/, or with --check says which generated file is stale and exits 1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HEADER_PATH, renderHeader } from './header.js';
import { DOCS_PATH, renderDocs } from './docs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface GeneratedFile {
  readonly path: string;
  readonly current: string;
  readonly wanted: string;
}

/** Every generated file, as it is on disk and as the generator would write it. */
export function generatedFiles(dir = root): GeneratedFile[] {
  const read = (p: string): string => {
    try {
      return readFileSync(join(dir, p), 'utf8');
    } catch {
      return '';
    }
  };
  const docs = read(DOCS_PATH);
  return [
    { path: HEADER_PATH, current: read(HEADER_PATH), wanted: renderHeader() },
    { path: DOCS_PATH, current: docs, wanted: renderDocs(docs) },
  ];
}

/** The first line that differs, for a message a person can act on. */
export function firstDifference(current: string, wanted: string): string {
  const a = current.split('\n');
  const b = wanted.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: has ${JSON.stringify(a[i] ?? '(end of file)')}, generator writes ${JSON.stringify(b[i] ?? '(end of file)')}`;
  }
  return 'identical';
}

function main(): number {
  const { values } = parseArgs({ options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(`usage: npm run codegen [-- --check]

Writes ${HEADER_PATH} and the generated tables of ${DOCS_PATH} from shared/.
  --check   write nothing; exit 1 and say what differs when a generated file is stale`);
    return 0;
  }
  const stale = generatedFiles().filter((f) => f.current !== f.wanted);
  if (values.check) {
    for (const f of stale) console.error(`${f.path} is stale (${firstDifference(f.current, f.wanted)}): run npm run codegen`);
    if (stale.length === 0) console.log('generated files are up to date');
    return stale.length === 0 ? 0 : 1;
  }
  for (const f of stale) {
    writeFileSync(join(root, f.path), f.wanted);
    console.log(`wrote ${f.path}`);
  }
  if (stale.length === 0) console.log('generated files are up to date');
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();

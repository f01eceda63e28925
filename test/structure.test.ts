/**
 * Rules of the code that no other test sees: every error plotwire throws belongs to the one
 * family (a PlotwireError with a code), and no thrown error is a bare Error.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const parts = ['shared', 'bridge', 'server', 'cli', 'demo', 'firmware', 'bench', 'examples', 'index.ts'];

function* sources(path: string): Generator<string> {
  if (statSync(path).isFile()) {
    if (path.endsWith('.ts')) yield path;
    return;
  }
  for (const entry of readdirSync(path)) yield* sources(join(path, entry));
}

const files = parts.flatMap((p) => [...sources(join(root, p))]).map((file) => ({ file: relative(root, file), text: readFileSync(file, 'utf8') }));

it('reads the sources it checks', () => {
  expect(files.length).toBeGreaterThan(80);
});

it('every error class is a PlotwireError (the base alone extends Error)', () => {
  const outside = files.flatMap(({ file, text }) =>
    [...text.matchAll(/class (\w+) extends (\w*Error)\b/g)].filter(([, , base]) => base === 'Error' && file !== 'shared/errors.ts').map(([, name]) => `${file}: ${name}`),
  );
  expect(outside).toEqual([]);
});

it('nothing throws a bare Error, TypeError or RangeError', () => {
  const bare = files.flatMap(({ file, text }) => [...text.matchAll(/new (Error|TypeError|RangeError)\(/g)].map((m) => `${file}: ${m[0]}`));
  expect(bare).toEqual([]);
});

it('the package bundles every runtime dependency (a Pi installs it offline from the tarball)', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; bundleDependencies: string[] };
  expect([...pkg.bundleDependencies].sort()).toEqual(Object.keys(pkg.dependencies).sort());
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const read = (p: string): string => readFileSync(join(root, p), 'utf8');
const commandLines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

it('.ci/run runs exactly the README test line', () => {
  const readmeLine = commandLines(read('README.md')).find((l) => /^npm .*npm test$/.test(l));
  expect(readmeLine, 'README.md has a line that ends with "npm test"').toBeDefined();
  expect(commandLines(read('.ci/run')).at(-1)).toBe(readmeLine);
});

it('the README has the line that runs the main job', () => {
  expect(commandLines(read('README.md'))).toContain('npm ci && npm start');
});

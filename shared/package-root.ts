/** The package's root folder and version, found the same way from sources (tsx, vitest) and from dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingFileError } from './errors.js';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'plotwire') return dir;
    const up = dirname(dir);
    if (up === dir) throw new MissingFileError('cannot find the plotwire package root (a package.json named plotwire above this file)');
    dir = up;
  }
}

export const packageRoot = findRoot();
export const packageVersion = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

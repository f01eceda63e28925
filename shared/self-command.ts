/**
 * The plotwire command a hint prints, as it works when typed in this shell: `plotwire` when that
 * name on PATH is this very plotwire (an npm install -g), `npx plotwire` in the package's folder
 * (a clone), else the node command with the CLI's full path. A hint that names a command not on
 * PATH, or drops --data, sends a person to an empty database elsewhere.
 */
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { packageRoot } from './package-root.js';

const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command for `args` (words after "plotwire"); --data is added when dataDir is not the default. */
export function plotwireCommand(args: readonly string[], data?: { readonly dir: string; readonly defaultDir: string }, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const words = [...args, ...(data && data.dir !== data.defaultDir ? ['--data', data.dir] : [])].map(quote).join(' ');
  return `${plotwirePrefix(env, cwd)} ${words}`;
}

function plotwirePrefix(env: NodeJS.ProcessEnv, cwd: string): string {
  const bin = join(packageRoot, 'dist/cli/main.js');
  const real = realpathOr(bin);
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'plotwire');
    if (dir && existsSync(candidate) && realpathOr(candidate) === real) return 'plotwire';
  }
  const inside = relative(packageRoot, cwd);
  if (!inside.startsWith('..') && !inside.startsWith('/')) return 'npx plotwire';
  return `node ${quote(bin)}`;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Reads platformio.ini the way PlatformIO does for the options the build uses: sections, `key =
 * value` with indented continuation lines, `;` comments, `${section.key}` references, and [env]
 * as the base of every [env:NAME]. So the CI build takes its sources and flags from the same file
 * users build with.
 */
import { readFileSync } from 'node:fs';
import { PlotwireError } from '../../shared/errors.js';

/** platformio.ini cannot be read as the build needs it. */
export class PlatformioIniError extends PlotwireError {
  readonly code = 'PW_ERR_PLATFORMIO_INI';
}

export type IniSections = Map<string, Map<string, string>>;

export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s;.*$|^;.*$/, '').replace(/\s+$/, '');
    if (line.trim() === '') return;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!.trim(), current);
      lastKey = undefined;
      return;
    }
    if (/^\s/.test(line) && current && lastKey) {
      current.set(lastKey, `${current.get(lastKey)} ${line.trim()}`.trim());
      return;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!kv || !current) throw new PlatformioIniError(`platformio.ini line ${i + 1}: expected "[section]" or "key = value", got "${line.trim()}"`);
    lastKey = kv[1]!;
    current.set(lastKey, kv[2]!);
  });
  return sections;
}

export interface PlatformioEnv {
  readonly name: string;
  get(key: string): string | undefined;
  /** A whitespace-separated option as a list (build_flags, build_src_filter...). */
  list(key: string): string[];
}

/** The options of [env:NAME], falling back to [env], with ${section.key} expanded. */
export function readEnv(sections: IniSections, name: string): PlatformioEnv {
  const own = sections.get(`env:${name}`);
  if (!own) throw new PlatformioIniError(`platformio.ini has no [env:${name}]`);
  const base = sections.get('env') ?? new Map<string, string>();
  const expand = (value: string, depth = 0): string =>
    value.replace(/\$\{([^.}]+)\.([^}]+)\}/g, (_m, sec: string, key: string) => {
      const v = sections.get(sec)?.get(key);
      if (v === undefined || depth > 8) throw new PlatformioIniError(`platformio.ini: cannot resolve \${${sec}.${key}}`);
      return expand(v, depth + 1);
    });
  const get = (key: string): string | undefined => {
    const v = own.get(key) ?? base.get(key);
    return v === undefined ? undefined : expand(v);
  };
  return { name, get, list: (key) => (get(key) ?? '').split(/\s+/).filter(Boolean) };
}

export function readPlatformioIni(file: string): IniSections {
  return parseIni(readFileSync(file, 'utf8'));
}

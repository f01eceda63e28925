/**
 * npm run firmware [-- --json] [--env NAME]: builds the firmware without PlatformIO, from the
 * sources and flags platformio.ini gives, with the Debian AVR toolchain and the Debian Arduino
 * core (/usr/share/arduino/hardware/arduino/avr), the way the Arduino core's platform.txt does:
 *   build/firmware/uno/firmware.{elf,hex}, build/firmware/yun/firmware.{elf,hex}
 *   build/firmware/native/replay (the core on the host)
 * It prints flash and RAM use and fails when a board is over its budget: Uno 12 KB flash and
 * 1 KB RAM; Yún the same plus what its USB stack costs (measured: an empty sketch on the Yún minus
 * the same on the Uno).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { readEnv, readPlatformioIni, type PlatformioEnv } from './platformio-ini.js';
import { PlotwireError } from '../../shared/errors.js';

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, '../..');
export const BUILD_DIR = join(ROOT, 'build/firmware');
export const ARDUINO_AVR = '/usr/share/arduino/hardware/arduino/avr';
/** The committed Uno image `plotwire simulate` uses by default (no toolchain needed). */
export const PREBUILT_UNO_HEX = join(ROOT, 'firmware/prebuilt/uno.hex');
const ARDUINO_VERSION = '10807';

export const BUDGET = { flash: 12 * 1024, ram: 1024 } as const;

export interface Size {
  flash: number;
  ram: number;
}
export interface BoardResult {
  env: string;
  elf: string;
  hex: string;
  size: Size;
  budget: Size;
  withinBudget: boolean;
}

export class BuildError extends PlotwireError {
  readonly code = 'PW_ERR_BUILD';
}

async function tool(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new BuildError(`${cmd} is not installed: run bash scripts/ensure-deps.sh test (apt: gcc-avr avr-libc binutils-avr arduino-core-avr g++)`);
    throw new BuildError(`${cmd} ${args.map((a) => relative(ROOT, a) || a).join(' ')}\n${(e.stderr ?? e.message).trim()}`);
  }
}

/** Runs tasks two at a time (2 cores here). */
async function pool<T>(items: readonly T[], task: (item: T) => Promise<void>, limit = 2): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** boards.txt properties of one board (uno, yun). */
function boardProps(board: string): Map<string, string> {
  const file = join(ARDUINO_AVR, 'boards.txt');
  if (!existsSync(file)) throw new BuildError(`${file} is missing: install the Debian package arduino-core-avr`);
  const props = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = new RegExp(`^${board}\\.(build\\.[^=]+)=(.*)$`).exec(line.trim());
    if (m) props.set(m[1]!, m[2]!);
  }
  if (!props.has('build.mcu')) throw new BuildError(`${file} has no board "${board}"`);
  return props;
}

/** Files of a PlatformIO build_src_filter (+<file> and +<dir/>, relative to src_dir). */
export function sourcesOf(srcDir: string, filter: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of filter) {
    const m = /^([+-])<(.+)>$/.exec(f);
    if (!m) throw new BuildError(`platformio.ini build_src_filter: cannot read "${f}"`);
    const path = join(srcDir, m[2]!);
    const files = m[2]!.endsWith('/') ? readdirSync(path).filter((n) => /\.(c|cpp|S)$/.test(n)).map((n) => join(path, n)) : [path];
    for (const file of files) {
      if (m[1] === '+' && !out.includes(file)) out.push(file);
      if (m[1] === '-') out.splice(out.indexOf(file) >>> 0, out.includes(file) ? 1 : 0);
    }
  }
  return out.sort();
}

interface AvrTarget {
  mcu: string;
  defines: string[];
  includes: string[];
}

function avrTarget(env: PlatformioEnv): AvrTarget {
  const board = env.get('board');
  if (!board) throw new BuildError(`[env:${env.name}] has no board`);
  const p = boardProps(board);
  const mcu = p.get('build.mcu')!;
  const fcpu = p.get('build.f_cpu')!;
  if (env.get('board_build.mcu') !== mcu || env.get('board_build.f_cpu') !== fcpu) {
    throw new BuildError(`[env:${env.name}]: board_build.mcu/f_cpu must be ${mcu}/${fcpu} as the ${board} board has`);
  }
  const defines = [`-DF_CPU=${fcpu}`, `-DARDUINO=${ARDUINO_VERSION}`, `-DARDUINO_${p.get('build.board')}`, '-DARDUINO_ARCH_AVR', '-DDECIMAL_DIG=__DECIMAL_DIG__'];
  if (p.get('build.extra_flags')?.includes('usb_flags')) {
    defines.push(`-DUSB_VID=${p.get('build.vid')}`, `-DUSB_PID=${p.get('build.pid')}`, '-DUSB_MANUFACTURER="Unknown"', `-DUSB_PRODUCT=${p.get('build.usb_product')}`);
  }
  const includes = [`-I${join(ARDUINO_AVR, 'cores/arduino')}`, `-I${join(ARDUINO_AVR, 'variants', p.get('build.variant')!)}`];
  return { mcu, defines, includes };
}

// The Arduino core's platform.txt flags.
const C_FLAGS = ['-c', '-g', '-Os', '-w', '-std=gnu11', '-ffunction-sections', '-fdata-sections', '-flto', '-fno-fat-lto-objects'];
const CPP_FLAGS = ['-c', '-g', '-Os', '-std=gnu++11', '-fpermissive', '-fno-exceptions', '-ffunction-sections', '-fdata-sections', '-fno-threadsafe-statics', '-Wno-error=narrowing', '-flto'];
const S_FLAGS = ['-c', '-g', '-x', 'assembler-with-cpp', '-flto'];
const LINK_FLAGS = ['-w', '-Os', '-g', '-flto', '-fuse-linker-plugin', '-Wl,--gc-sections'];

async function compileAvr(file: string, out: string, t: AvrTarget, extra: string[]): Promise<void> {
  const common = [`-mmcu=${t.mcu}`, ...t.defines, ...t.includes, ...extra, file, '-o', out];
  if (file.endsWith('.c')) await tool('avr-gcc', [...C_FLAGS, ...common]);
  else if (file.endsWith('.S')) await tool('avr-gcc', [...S_FLAGS, ...common]);
  else await tool('avr-g++', [...CPP_FLAGS, ...common]);
}

const objName = (file: string): string => `${relative(ROOT, file).replace(/[\\/]/g, '_')}.o`;

/** The Arduino core as an archive, rebuilt only when the target's flags change. */
async function coreArchive(dir: string, t: AvrTarget): Promise<string> {
  const coreDir = join(dir, 'core');
  const archive = join(coreDir, 'core.a');
  const stamp = join(coreDir, 'flags');
  const key = createHash('sha256').update(JSON.stringify(t)).digest('hex');
  if (existsSync(archive) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return archive;
  mkdirSync(coreDir, { recursive: true });
  const srcDir = join(ARDUINO_AVR, 'cores/arduino');
  const sources = readdirSync(srcDir).filter((n) => /\.(c|cpp|S)$/.test(n)).map((n) => join(srcDir, n));
  const objects = sources.map((s) => join(coreDir, objName(s)));
  await pool(sources, (s) => compileAvr(s, join(coreDir, objName(s)), t, ['-w']));
  await tool('avr-gcc-ar', ['rcs', archive, ...objects]);
  writeFileSync(stamp, key);
  return archive;
}

async function sizeOf(elf: string): Promise<Size> {
  const sections = new Map<string, number>();
  for (const line of (await tool('avr-size', ['-A', elf])).split('\n')) {
    const m = /^(\.\w+)\s+(\d+)/.exec(line);
    if (m) sections.set(m[1]!, Number(m[2]));
  }
  const s = (name: string): number => sections.get(name) ?? 0;
  return { flash: s('.text') + s('.data'), ram: s('.data') + s('.bss') + s('.noinit') };
}

async function linkAvr(dir: string, objects: string[], archive: string, t: AvrTarget): Promise<{ elf: string; hex: string; size: Size }> {
  const elf = join(dir, 'firmware.elf');
  const hex = join(dir, 'firmware.hex');
  await tool('avr-gcc', [...LINK_FLAGS, `-mmcu=${t.mcu}`, '-o', elf, ...objects, archive, `-L${dir}`, '-lm']);
  await tool('avr-objcopy', ['-O', 'ihex', '-R', '.eeprom', elf, hex]);
  return { elf, hex, size: await sizeOf(elf) };
}

/** What the board's core alone costs (an empty sketch that opens Serial), to measure the USB stack. */
async function emptySketchSize(dir: string, t: AvrTarget, archive: string): Promise<Size> {
  const emptyDir = join(dir, 'empty');
  mkdirSync(emptyDir, { recursive: true });
  const src = join(emptyDir, 'empty.cpp');
  writeFileSync(src, '#include <Arduino.h>\nvoid setup() { Serial.begin(115200); Serial.write(1); }\nvoid loop() {}\n');
  const obj = join(emptyDir, 'empty.o');
  await compileAvr(src, obj, t, []);
  return (await linkAvr(emptyDir, [obj], archive, t)).size;
}

async function buildAvr(sections: ReturnType<typeof readPlatformioIni>, envName: string, variant?: { name: string; flags: string[] }): Promise<BoardResult & { empty?: Size }> {
  const env = readEnv(sections, envName);
  const t = avrTarget(env);
  const dir = join(BUILD_DIR, variant ? `${envName}-${variant.name}` : envName);
  mkdirSync(dir, { recursive: true });
  const srcDir = join(ROOT, sections.get('platformio')?.get('src_dir') ?? 'src');
  const includeDir = join(ROOT, sections.get('platformio')?.get('include_dir') ?? 'include');
  const flags = [`-I${includeDir}`, ...env.list('build_flags').map((f) => (f.startsWith('-I') ? `-I${join(ROOT, f.slice(2))}` : f)), ...(variant?.flags ?? [])];
  // Variants share the env's core: the same target, the same flags.
  const archive = await coreArchive(join(BUILD_DIR, envName), t);
  const sources = sourcesOf(srcDir, env.list('build_src_filter'));
  const objects = sources.map((s) => join(dir, objName(s)));
  await pool(sources, (s) => compileAvr(s, join(dir, objName(s)), t, [...flags, ...env.list('build_src_flags')]));
  const linked = await linkAvr(dir, objects, archive, t);
  // What the core alone costs sets a board's budget; a variant has none of its own.
  const empty = variant ? undefined : await emptySketchSize(dir, t, archive);
  return { env: envName, ...linked, budget: { ...BUDGET }, withinBudget: true, empty };
}

/** An env built with extra -D flags into build/firmware/<env>-<name> (for benchmarks). */
export async function buildVariant(envName: string, name: string, flags: string[]): Promise<BoardResult> {
  const { empty: _empty, ...b } = await buildAvr(readPlatformioIni(join(ROOT, 'platformio.ini')), envName, { name, flags });
  return b;
}

/** build/firmware/native/replay from [env:native]'s sources and flags. */
export async function buildReplay(): Promise<string> {
  const sections = readPlatformioIni(join(ROOT, 'platformio.ini'));
  const env = readEnv(sections, 'native');
  const srcDir = join(ROOT, sections.get('platformio')?.get('src_dir') ?? 'src');
  const includeDir = join(ROOT, sections.get('platformio')?.get('include_dir') ?? 'include');
  const out = join(BUILD_DIR, 'native/replay');
  mkdirSync(join(BUILD_DIR, 'native'), { recursive: true });
  const flags = env.list('build_flags').map((f) => (f.startsWith('-I') ? `-I${join(ROOT, f.slice(2))}` : f));
  await tool('g++', [`-I${includeDir}`, ...flags, ...env.list('build_src_flags'), '-o', out, ...sourcesOf(srcDir, env.list('build_src_filter'))]);
  return out;
}

/** The core's host unit tests (firmware/test, doctest), with AddressSanitizer and UBSan; returns the binary. */
export async function buildHostTests(): Promise<string> {
  const out = join(BUILD_DIR, 'native/tests');
  mkdirSync(join(BUILD_DIR, 'native'), { recursive: true });
  const dirs = ['firmware/core', 'firmware/test'].map((d) => join(ROOT, d));
  const sources = dirs.flatMap((d) => readdirSync(d).filter((n) => n.endsWith('.cpp')).map((n) => join(d, n)));
  await tool('g++', [
    // -O0: with doctest and the sanitizers, -O1 takes twice as long to build as the tests take to run.
    '-std=c++11', '-g', '-O0', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer',
    '-Wall', '-Wextra', '-Werror', `-I${join(ROOT, 'firmware/include')}`, ...dirs.map((d) => `-I${d}`), '-o', out, ...sources,
  ]);
  return out;
}

/**
 * The ESP32 firmware ([env:esp32]'s sources and flags: main.cpp, the core, boards/esp32.cpp) built
 * with g++ against a stand-in of the arduino-esp32 API it uses (firmware/test/esp32), for that
 * core's major version (2 and 3 differ in the timer API), with its tests; returns the binary.
 * extraDefines replace the env's defines of the same name.
 */
export async function buildEsp32StandIn(major: 2 | 3, extraDefines: readonly string[] = []): Promise<string> {
  const sections = readPlatformioIni(join(ROOT, 'platformio.ini'));
  const env = readEnv(sections, 'esp32');
  const srcDir = join(ROOT, sections.get('platformio')?.get('src_dir') ?? 'src');
  const includeDir = join(ROOT, sections.get('platformio')?.get('include_dir') ?? 'include');
  const standIn = join(ROOT, 'firmware/test/esp32');
  const out = join(BUILD_DIR, `esp32-stand-in-${major}/tests`);
  mkdirSync(join(BUILD_DIR, `esp32-stand-in-${major}`), { recursive: true });
  const defined = (flag: string): string | undefined => /^-D([A-Za-z_]\w*)/.exec(flag)?.[1];
  const replaced = new Set(extraDefines.map(defined));
  const flags = env
    .list('build_flags')
    .filter((f) => !replaced.has(defined(f)))
    .map((f) => (f.startsWith('-I') ? `-I${join(ROOT, f.slice(2))}` : f));
  const sources = [
    ...sourcesOf(srcDir, env.list('build_src_filter')),
    ...readdirSync(standIn).filter((n) => n.endsWith('.cpp')).map((n) => join(standIn, n)),
    join(ROOT, 'firmware/test/main.cpp'),
  ];
  await tool('g++', [
    major >= 3 ? '-std=gnu++17' : '-std=gnu++11', '-g', '-O0', '-fsanitize=address,undefined', '-fno-sanitize-recover=all',
    '-DARDUINO_ARCH_ESP32', `-DESP_ARDUINO_VERSION_MAJOR=${major}`, ...extraDefines,
    `-I${standIn}`, `-I${includeDir}`, `-I${srcDir}`, ...flags, ...env.list('build_src_flags'), '-o', out, ...sources,
  ]);
  return out;
}

export async function buildAll(envs: readonly string[] = ['uno', 'yun']): Promise<{ boards: BoardResult[]; replay: string }> {
  const sections = readPlatformioIni(join(ROOT, 'platformio.ini'));
  const built: (BoardResult & { empty?: Size })[] = [];
  for (const e of envs) built.push(await buildAvr(sections, e));
  // The Yún's budget is the Uno's plus its USB stack: what an empty sketch costs more there.
  const unoEmpty = built.find((b) => b.env === 'uno')?.empty ?? (envs.includes('yun') ? (await buildAvr(sections, 'uno')).empty : undefined);
  const boards = built.map(({ empty, ...b }) => {
    const budget = { ...BUDGET };
    if (b.env !== 'uno' && unoEmpty && empty) {
      budget.flash += Math.max(0, empty.flash - unoEmpty.flash);
      budget.ram += Math.max(0, empty.ram - unoEmpty.ram);
    }
    return { ...b, budget, withinBudget: b.size.flash <= budget.flash && b.size.ram <= budget.ram };
  });
  return { boards, replay: await buildReplay() };
}

function table(boards: BoardResult[]): string {
  const rows = boards.map((b) => {
    const pct = (a: number, c: number): string => `${((100 * a) / c).toFixed(0)}%`;
    return `${b.env.padEnd(6)} ${String(b.size.flash).padStart(6)} / ${String(b.budget.flash).padEnd(6)} ${pct(b.size.flash, b.budget.flash).padStart(4)}   ${String(b.size.ram).padStart(5)} / ${String(b.budget.ram).padEnd(5)} ${pct(b.size.ram, b.budget.ram).padStart(4)}   ${b.withinBudget ? 'ok' : 'OVER BUDGET'}  ${relative(ROOT, b.hex)}`;
  });
  return [`${'env'.padEnd(6)} ${'flash (bytes)'.padEnd(20)} ${'RAM (bytes)'.padEnd(20)}`, ...rows].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'update-prebuilt': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`usage: npm run firmware [-- --env uno --env yun --json --update-prebuilt]

Builds the AVR boards of platformio.ini with the Debian toolchain into build/firmware/<env>/
firmware.{elf,hex}, and build/firmware/native/replay; prints flash and RAM use; exits 1 when a
board is over budget (Uno: ${BUDGET.flash} bytes flash, ${BUDGET.ram} bytes RAM; Yún: the same plus its USB stack).
ESP32 needs PlatformIO: pio run -e esp32.
  --env NAME           build only these AVR envs (default uno and yun)
  --json               print the results as JSON
  --update-prebuilt    copy the Uno image to ${relative(ROOT, PREBUILT_UNO_HEX)} (commit it; a test checks it matches)`);
    return 0;
  }
  const envs = values.env ?? ['uno', 'yun'];
  try {
    if (!values.json) console.error(`firmware: building ${envs.join(', ')} and native/replay ...`);
    const { boards, replay } = await buildAll(envs);
    if (values['update-prebuilt']) {
      const uno = boards.find((b) => b.env === 'uno');
      if (!uno) throw new BuildError('--update-prebuilt needs the uno env');
      mkdirSync(join(ROOT, 'firmware/prebuilt'), { recursive: true });
      copyFileSync(uno.hex, PREBUILT_UNO_HEX);
    }
    if (values.json) console.log(JSON.stringify({ boards, replay: relative(ROOT, replay) }));
    else console.log(`${table(boards)}\nnative replay: ${relative(ROOT, replay)}`);
    return boards.every((b) => b.withinBudget) ? 0 : 1;
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    console.error(`firmware: build failed: ${err.message}`);
    return 1;
  }
}

if (process.argv[1] && basename(process.argv[1]) === 'build.ts' && process.argv[1] === import.meta.filename) process.exitCode = await main();

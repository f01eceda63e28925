/**
 * The generated header is the firmware's only source of protocol constants: it must be fresh,
 * compile for the host and for AVR, and hold exactly the values shared/ has.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HEADER_PATH, headerSections } from '../../shared/codegen/header.js';
import { generatedFiles, firstDifference } from '../../shared/codegen/main.js';

const root = join(import.meta.dirname, '../..');
const includeDir = join(root, 'firmware/include');
const work = mkdtempSync(join(tmpdir(), 'plotwire-header-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const constants = headerSections().flatMap((s) => s.constants);
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('generated files', () => {
  it.each(generatedFiles().map((f) => [f.path, f] as const))('%s is up to date', (_path, f) => {
    if (f.current !== f.wanted) {
      throw new Error(`${f.path} is stale (${firstDifference(f.current, f.wanted)}): run npm run codegen`);
    }
  });

  it('changing a limit in shared/ without regenerating fails the check, saying to run the generator', () => {
    const copy = join(work, 'repo');
    for (const p of ['shared', 'firmware/include', 'docs', 'package.json', 'tsconfig.json']) {
      cpSync(join(root, p), join(copy, p), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const limitsFile = join(copy, 'shared/limits.ts');
    const source = readFileSync(limitsFile, 'utf8');
    const changed = source.replace(/(MAX_LINE: \{\s*value: )(\d+)/, (_m, head: string, n: string) => `${head}${Number(n) * 2}`);
    expect(changed).not.toBe(source);
    writeFileSync(limitsFile, changed);

    const check = spawnSync(process.execPath, ['--import', 'tsx', 'shared/codegen/main.ts', '--check'], { cwd: copy, encoding: 'utf8' });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(`${HEADER_PATH} is stale`);
    expect(check.stderr).toContain('PW_MAX_LINE');
    expect(check.stderr).toContain('run npm run codegen');

    const regenerate = spawnSync(process.execPath, ['--import', 'tsx', 'shared/codegen/main.ts'], { cwd: copy, encoding: 'utf8' });
    expect(regenerate.status).toBe(0);
    expect(readFileSync(join(copy, HEADER_PATH), 'utf8')).toMatch(/#define PW_MAX_LINE \d+u/);
    const again = spawnSync(process.execPath, ['--import', 'tsx', 'shared/codegen/main.ts', '--check'], { cwd: copy, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
  });
});

describe('plotwire_protocol.h compiles and matches shared/', () => {
  it('g++: every constant has the value TypeScript has', () => {
    const printers = constants.map((c) =>
      typeof c.value === 'number'
        ? `  std::printf("\\"%s\\":%lu,", "${c.name}", (unsigned long)(${c.name}));`
        : `  std::printf("\\"%s\\":\\"%s\\",", "${c.name}", ${c.name});`,
    );
    const source = `#include <cstdio>\n#include "plotwire_protocol.h"\nint main() {\n  std::printf("{");\n${printers.join('\n')}\n  std::printf("\\"end\\":0}");\n  return 0;\n}\n`;
    writeFileSync(join(work, 'values.cpp'), source);
    const exe = join(work, 'values');
    execFileSync('g++', ['-std=c++11', '-Wall', '-Wextra', '-Werror', '-pedantic', `-I${includeDir}`, '-o', exe, join(work, 'values.cpp')]);
    const printed = JSON.parse(execFileSync(exe, { encoding: 'utf8' })) as Record<string, unknown>;
    for (const c of constants) expect(printed[c.name], c.name).toBe(c.value);
  });

  it('gcc: the header is valid C too', () => {
    writeFileSync(join(work, 'c.c'), '#include "plotwire_protocol.h"\nstatic const char line[] = "{\\"" PW_KEY_SEQ "\\":";\nint main(void) { return (int)sizeof line - 6; }\n');
    execFileSync('gcc', ['-std=c99', '-Wall', '-Werror', '-pedantic', `-I${includeDir}`, '-o', join(work, 'c'), join(work, 'c.c')]);
    expect(spawnSync(join(work, 'c')).status).toBe(0);
  });

  it.skipIf(!has('avr-g++'))('avr-g++ (ATmega328P): every constant has the value TypeScript has', () => {
    const asserts = constants.map((c) =>
      typeof c.value === 'number'
        ? `static_assert(${c.name} == ${c.value}UL, "${c.name}");`
        : `static_assert(same(${c.name}, ${JSON.stringify(c.value)}), "${c.name}");`,
    );
    const source = `#include "plotwire_protocol.h"
constexpr bool same(const char* a, const char* b) { return *a == *b && (*a == 0 || same(a + 1, b + 1)); }
${asserts.join('\n')}
int main() { return 0; }
`;
    writeFileSync(join(work, 'avr.cpp'), source);
    execFileSync('avr-g++', ['-mmcu=atmega328p', '-std=c++11', '-Os', '-Wall', '-Werror', `-I${includeDir}`, '-c', '-o', join(work, 'avr.o'), join(work, 'avr.cpp')]);
  });
});

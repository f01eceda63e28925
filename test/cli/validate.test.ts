import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The built CLI, as users run it (npm test builds it first).
const cli = join(import.meta.dirname, '../../dist/cli/main.js');
const plotwire = (args: string[], input = '') => spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8' });

describe('plotwire validate', () => {
  const lines = [
    'boot noise',
    '{"hello":1,"fw":"0.1.0","board":"uno","rate":500,"ch":["ecg"]}',
    '{"n":1,"t":2,"ecg":[1,2]}\r',
    '{"n":70000,"ecg":1}',
    '{"ev":"beat","bpm":70,"ibi":857}',
  ].join('\n');

  it('names each bad line, its field and rule, and exits 1', () => {
    const run = plotwire(['validate'], lines);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('line 1: invalid device line: is not valid JSON');
    expect(run.stdout).toContain('line 4: invalid sample line: "n" must be the line sequence number');
    expect(run.stdout).toContain('5 lines: 3 valid (1 hello, 1 sample, 1 event), 2 invalid');
  });

  it('reads a sketch without a hello as the bridge does: "t" and "n" are channels', () => {
    const run = plotwire(['validate'], '{"t":21.5,"h":40}\n{"n":-1,"v":2}\n');
    expect(run.stdout).toContain('2 lines: 2 valid (2 sample), 0 invalid');
    expect(run.status).toBe(0);
  });

  it('prints JSON for machines with --json', () => {
    const out = plotwire(['validate', '--json'], lines).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out[1]).toMatchObject({ line: 4, kind: 'sample line', field: 'n', code: 'PW_ERR_INVALID' });
    expect(out.at(-1)).toMatchObject({ summary: true, lines: 5, valid: 3, invalid: 2 });
  });

  it('checks stream objects with --stream and exits 0 when all are valid', () => {
    const run = plotwire(['validate', '--stream'], '{"x":1,"y":2}\n\n{"append":{"y":[1,2]},"seq":0}\n');
    expect(run.stdout).toContain('3 lines: 3 valid');
    expect(run.status).toBe(0);
  });

  it('says so when the file does not exist, with usage, exit 2', () => {
    const run = plotwire(['validate', '/nonexistent/lines.ndjson']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('cannot read /nonexistent/lines.ndjson: no such file');
    expect(run.stderr).toContain('usage: plotwire validate');
  });
});

describe('plotwire', () => {
  it('lists its commands with --help', () => {
    const run = plotwire(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/validate\s+check device lines/);
  });
  it('has help on every command', () => {
    expect(plotwire(['validate', '--help']).stdout).toContain('usage: plotwire validate');
  });
  it('rejects an unknown command or option clearly', () => {
    const unknown = plotwire(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const option = plotwire(['validate', '--bogus']);
    expect(option.status).toBe(2);
    expect(option.stderr).toContain("Unknown option '--bogus'");
  });
});

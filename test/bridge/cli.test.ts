/** The bridge's command line: usage errors name the problem, config files are checked, ports lists. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { Bridge } from '../../bridge/bridge.js';
import { formatStatus, StatusReporter } from '../../bridge/status.js';
import { cli } from './helpers/bridge-cli.js';

const plotwire = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
const dir = mkdtempSync(join(tmpdir(), 'pw-cli-'));

describe('plotwire bridge: usage', () => {
  it.each([
    [['bridge'], /give --serial PORT \(with --map CHANNEL=TOKEN for its channels\), or --config FILE/],
    [['bridge', '--serial', 'usb:zzzz', '--server', 'http://h'], /--serial: "usb:zzzz" is not a USB identity/],
    [['bridge', '--serial', '/dev/x', '--map', 'ecg', '--server', 'http://h'], /--map must be CHANNEL=TOKEN \(got "ecg"\)/],
    [['bridge', '--serial', '/dev/x', '--map', 'a=t'], /give --server URL/],
    [['bridge', '--serial', '/dev/x', '--map', 'a=t', '--map', 'b=t', '--server', 'http://h'], /uses the token of boards\[0\]\.map\.a: one token feeds one trace/],
    [['bridge', '--serial', '/dev/x', '--map', 'a=t', '--server', 'http://h', '--baud', 'fast'], /--baud must be a number \(got "fast"\)/],
    [['bridge', '--serial', '/dev/x', '--map', 'a=t', '--server', 'http://h', '--legacy', 'median'], /"legacy" must be legacy decimation \(loses points\): one of last, mean, minmax/],
    [['bridge', '--serial', '/dev/x', '--map', 'a=t', '--server', 'http://h', '--create-plot', 'T'], /--create-plot needs --api-key KEY/],
  ])('%j', (args, message) => {
    const run = plotwire(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('usage: plotwire bridge');
  });

  it('checks a config file and names the field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ server: 'http://h', boards: [{ serial: 'auto', map: { a: 't' }, baud: 'fast' }] }));
    expect(plotwire(['bridge', '--config', bad]).stderr).toMatch(/invalid bridge config: "boards\[0\]\.baud" must be the baud rate/);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ server: ');
    expect(plotwire(['bridge', '--config', notJson]).stderr).toMatch(/invalid bridge config: is not valid JSON/);
    expect(plotwire(['bridge', '--config', join(dir, 'missing.json')]).stderr).toMatch(/cannot be read from .*missing\.json: no such file/);
  });

  it('has help', () => {
    const run = plotwire(['bridge', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/--legacy MODE .*\n.*LOSES points/);
    expect(plotwire(['--help']).stdout).toMatch(/bridge +stream serial NDJSON[\s\S]*ports +list serial ports/);
  });
});

describe('plotwire ports', () => {
  it('lists ports as JSON, one a line, with a likely-board field', () => {
    const run = plotwire(['ports', '--json']);
    expect(run.status).toBe(0);
    for (const line of run.stdout.trim().split('\n').filter(Boolean)) {
      const port = JSON.parse(line) as { path: string; board: string | null };
      expect(port.path).toMatch(/^\/dev\//);
      expect(port).toHaveProperty('board');
    }
    expect(plotwire(['ports']).status).toBe(0);
  });
});

describe('status', () => {
  const config = { server: 'http://127.0.0.1:9', boards: [{ serial: '/dev/none', map: { ecg: 'abcdefghijk' } }] };

  it('one line per port and token', () => {
    const bridge = new Bridge(config);
    const text = formatStatus(bridge.stats, [512.4]);
    expect(text).toBe('/dev/none searching 512 lines/s | abcdef… idle sent 0 buf 0');
  });

  it('on a terminal, redraws the status line in place with log lines above it', async () => {
    const bridge = new Bridge(config);
    const out = new PassThrough();
    let written = '';
    out.on('data', (d: Buffer) => (written += d.toString()));
    const reporter = new StatusReporter(bridge, { mode: 'tty', out: Object.assign(out, { columns: 40 }), refreshMs: 20 }).start();
    await until('the status line', () => written.includes('/dev/none'));
    bridge.emit('log', { level: 'warn', event: 'x', message: 'something happened' });
    await until('the status line drawn again below the log line', () => /something happened\n\r\x1b\[2K\/dev\/none/.test(written));
    reporter.stop(bridge.stats);
    expect(written).toContain('\r\x1b[2K/dev/none searching 0 lines/s | abcdef…');
    expect(written).toMatch(/\r\x1b\[2K\d\d:\d\d:\d\d\.\d{3} warn: something happened\n\r\x1b\[2K\/dev\/none/);
    // Cut to the terminal's width.
    for (const line of written.split(/\r\x1b\[2K/)) if (line.startsWith('/dev/none')) expect(line.length).toBeLessThanOrEqual(39);
  });
});

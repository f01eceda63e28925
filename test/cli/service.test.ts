/**
 * plotwire service install, written under a --root folder: the unit passes systemd-analyze verify
 * and runs this node by its absolute path; the udev rule for a board given by USB identity is
 * well-formed udev syntax; a dry run writes nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../bridge/helpers/bridge-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-service-'));
const config = join(dir, 'bridge.json');
writeFileSync(config, JSON.stringify({ server: 'http://plots.local:8080', boards: [{ serial: 'usb:2341:0043:85736323838351F0E1C1', map: { ecg: 'TOKEN1' } }, { serial: 'tcp://arduino.local:6571' }] }));
const plotwire = (args: string[]) => spawnSync(process.execPath, [cli, 'service', ...args], { encoding: 'utf8' });

/**
 * udev's rule syntax (udev(7)): comma-separated KEY[{attr}] OP "value", match keys with == or !=,
 * assignments with =, +=, -= or :=, each key of a kind udev knows.
 */
function udevSyntaxErrors(text: string): string[] {
  const match = new Set(['ACTION', 'DEVPATH', 'KERNEL', 'KERNELS', 'NAME', 'SYMLINK', 'SUBSYSTEM', 'SUBSYSTEMS', 'DRIVER', 'DRIVERS', 'ATTR', 'ATTRS', 'ENV', 'TAG', 'TAGS', 'TEST', 'PROGRAM', 'RESULT']);
  const assign = new Set(['NAME', 'SYMLINK', 'OWNER', 'GROUP', 'MODE', 'ATTR', 'ENV', 'TAG', 'RUN', 'LABEL', 'GOTO', 'IMPORT', 'OPTIONS']);
  const errors: string[] = [];
  text.split('\n').forEach((line, n) => {
    if (!line.trim() || line.startsWith('#')) return;
    const rest = line.replace(/\s*([A-Z]+)(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"\\]*)"\s*(,|$)/g, (_all, key: string, _attr, op: string) => {
      const isMatch = op === '==' || op === '!=';
      if (!(isMatch ? match : assign).has(key)) errors.push(`line ${n + 1}: ${key} ${op} is not a udev ${isMatch ? 'match' : 'assignment'}`);
      return '';
    });
    if (rest.trim()) errors.push(`line ${n + 1}: cannot parse "${rest.trim()}"`);
  });
  return errors;
}

describe('plotwire service install', () => {
  it('writes a unit systemd-analyze verify accepts, with the absolute node, and a udev rule for the USB board', () => {
    const root = join(dir, 'root');
    const run = plotwire(['install', '--config', config, '--user', 'plotwire', '--root', root]);
    expect(run.status, run.stderr).toBe(0);
    const unitPath = join(root, 'etc/systemd/system/plotwire-bridge.service');
    const unit = readFileSync(unitPath, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} `);
    expect(unit).toMatch(/ExecStart=\S+ \S+\/dist\/cli\/main\.js bridge --config \/etc\/plotwire\/bridge\.json --json/);
    expect(unit).toContain('User=plotwire');
    expect(unit).toContain('RestartPreventExitStatus=3');
    const verify = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
    // Only what a test root cannot have: the user, and units of a booted system.
    const complaints = verify.stderr.split('\n').filter((l) => l.trim() && !/Failed to resolve user|Unit .*\.target not found|Cannot add dependency job|Failed to determine|Failed to open/.test(l));
    expect(complaints, verify.stderr).toEqual([]);
    // The config went to /etc/plotwire, readable by the service only.
    expect(readFileSync(join(root, 'etc/plotwire/bridge.json'), 'utf8')).toBe(readFileSync(config, 'utf8'));
    expect(statSync(join(root, 'etc/plotwire/bridge.json')).mode & 0o777).toBe(0o640);
    const rules = readFileSync(join(root, 'etc/udev/rules.d/99-plotwire.rules'), 'utf8');
    expect(rules).toContain('SUBSYSTEM=="tty", ATTRS{idVendor}=="2341", ATTRS{idProduct}=="0043", ATTRS{serial}=="85736323838351F0E1C1", SYMLINK+="plotwire-0", GROUP="dialout", MODE="0660"');
    expect(udevSyntaxErrors(rules)).toEqual([]);
    expect(run.stdout).toContain('sudo systemctl enable --now plotwire-bridge');
  });

  it('the udev check catches what udev would refuse', () => {
    expect(udevSyntaxErrors('SUBSYSTEM="tty", ATTRS{idVendor}=="2341"')).toEqual(['line 1: SUBSYSTEM = is not a udev assignment']);
    expect(udevSyntaxErrors('SUBSYSTEM=="tty" ATTRS{idVendor}=="2341"')).not.toEqual([]);
  });

  it('a dry run prints the files and commands and writes nothing; a bad config is refused first', () => {
    const root = join(dir, 'dry');
    const run = plotwire(['install', '--config', config, '--dry-run', '--root', root]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/--- would write .*plotwire-bridge\.service/);
    expect(run.stdout).toMatch(/would run: (useradd --system .* plotwire|usermod --append --groups dialout plotwire)/);
    expect(existsSync(root)).toBe(false);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ server: 'http://x', boards: [{ serial: 'usb:zzzz' }] }));
    const refused = plotwire(['install', '--config', bad, '--dry-run']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/"boards\[0\]\.serial" "usb:zzzz" is not a USB identity/);
  });
});

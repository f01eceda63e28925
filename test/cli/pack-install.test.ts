/**
 * The Pi install, for real: `npm pack` makes a tarball that carries its dependencies, `npm install
 * -g --offline` puts it in a fresh global prefix with no registry, and `plotwire --help` runs
 * through the bin link npm made (executable, so a systemd unit can run it too).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

it('npm pack, then npm install -g --offline from the tarball: plotwire on PATH works', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-pack-'));
  // dist/ as built by npm test's pretest; no lifecycle scripts, so nothing is rebuilt here.
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, maxBuffer: 64 << 20 });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz')) as string;
  const prefix = join(dir, 'prefix');
  const env = { ...process.env, npm_config_cache: join(dir, 'empty-cache'), npm_config_update_notifier: 'false' };
  await run('npm', ['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(dir, tarball)], { cwd: dir, env, maxBuffer: 64 << 20 });
  const bin = join(prefix, 'bin/plotwire');
  accessSync(realpathSync(bin), constants.X_OK);
  const help = await run('plotwire', ['--help'], { env: { ...env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` } });
  expect(help.stdout).toMatch(/^plotwire \d+\.\d+\.\d+: live plots from sensors/);
  expect(help.stdout).toMatch(/service +install the bridge as a systemd service/);
  // The native serial binding loads from the installed copy.
  const ports = await run(bin, ['ports', '--json']);
  expect(ports.stderr).toBe('');
});

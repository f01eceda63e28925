/**
 * plotwire service install: the bridge as a systemd service that survives reboots and unplugs:
 * the config checked and copied to /etc/plotwire (the folder made, readable by the service user
 * only), a dedicated system user in the dialout group, the unit with the absolute path of the
 * node running this (a Node from nvm is not on systemd's PATH), and a udev rule per board given
 * by USB identity.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, constants, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ProtocolError } from '../../shared/index.js';
import { packageRoot } from '../../shared/package-root.js';
import { readBridgeConfig, validateBridgeConfig } from '../../bridge/config.js';
import { UsageError, defineCommand } from '../command.js';
import { optionSpec } from '../options.js';
import { SERVICE_NAME, udevRules, unitFile } from '../service-files.js';

const usage = `usage: plotwire service install --config FILE [--user NAME] [--dry-run] [--root DIR]

Installs the bridge as a systemd service (run it as root, e.g. with sudo):
  /etc/plotwire/bridge.json                 FILE, checked, readable by the service user only
  /etc/systemd/system/${SERVICE_NAME}.service   runs this node and this plotwire
  /etc/udev/rules.d/99-plotwire.rules       /dev/plotwire-N for each board given as usb:VID:PID[:SERIAL]
and a system user NAME (default plotwire) in the dialout group. Then it says how to start it.

  --config FILE   the bridge config (see plotwire bridge --help), checked before anything is written
  --user NAME     the user the bridge runs as (default plotwire, made when missing)
  --dry-run       print what would be written and run, change nothing
  --root DIR      write the files under DIR (for packaging), run nothing`;

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export const serviceCommand = defineCommand(
  { name: 'service', summary: 'install the bridge as a systemd service (service install --config FILE)', usage, options: optionSpec(['config', 'user', 'root'], ['dry-run']), positionals: 1 },
  (values, positionals) => {
    if (positionals[0] !== 'install') throw new UsageError('say: plotwire service install --config FILE');
    if (!values.config) throw new UsageError('--config FILE is required: the bridge config the service runs');
    const user = values.user ?? 'plotwire';
    if (!USER_NAME.test(user)) throw new UsageError(`--user must be a system user name (lower-case letters, digits, "_" and "-"; got "${user}")`);
    let config;
    try {
      config = validateBridgeConfig(readBridgeConfig(values.config));
    } catch (err) {
      if (err instanceof ProtocolError) throw new UsageError(err.message);
      throw err;
    }
    const dry = values['dry-run'] ?? false;
    const root = values.root ? resolve(values.root) : '/';
    const at = (path: string): string => join(root, path);
    const node = process.execPath;
    const cli = realpathSync(join(packageRoot, 'dist/cli/main.js'));
    const configPath = '/etc/plotwire/bridge.json';
    const files: Array<{ path: string; text: string; mode: number; owner?: string }> = [
      { path: configPath, text: readFileSync(values.config, 'utf8'), mode: 0o640, owner: user },
      { path: `/etc/systemd/system/${SERVICE_NAME}.service`, text: unitFile({ node, cli, config: configPath, user }), mode: 0o644 },
    ];
    const rules = udevRules(config);
    if (rules) files.push({ path: '/etc/udev/rules.d/99-plotwire.rules', text: rules, mode: 0o644 });
    const commands: string[][] = [];
    const userExists = spawnSync('id', ['-u', user]).status === 0;
    if (!userExists) commands.push(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', '--groups', 'dialout', user]);
    else commands.push(['usermod', '--append', '--groups', 'dialout', user]);
    commands.push(['systemctl', 'daemon-reload']);
    if (rules) commands.push(['udevadm', 'control', '--reload-rules'], ['udevadm', 'trigger', '--subsystem-match=tty']);

    const unreachable = [node, cli].filter((p) => !othersReach(p));
    if (unreachable.length && user !== 'root') {
      console.log(`warning: ${unreachable.join(' and ')} ${unreachable.length > 1 ? 'are' : 'is'} in a folder other users cannot enter (a Node from nvm in a home folder?): the service user "${user}" could not run it. Install Node for the whole system, or give --user with your own user name.`);
    }
    if (dry) {
      for (const f of files) console.log(`--- would write ${at(f.path)} (mode ${f.mode.toString(8)})\n${f.text}`);
      for (const c of commands) console.log(`would run: ${c.join(' ')}`);
      return 0;
    }
    if (!values.root && process.getuid?.() !== 0) {
      throw new UsageError(`installing a service needs root: sudo ${node} ${cli} service install --config ${resolve(values.config)}${values.user ? ` --user ${user}` : ''}`);
    }
    if (!values.root) for (const c of commands.filter((c) => c[0] === 'useradd' || c[0] === 'usermod')) run(c);
    for (const f of files) {
      mkdirSync(dirname(at(f.path)), { recursive: true, mode: 0o755 });
      writeFileSync(at(f.path), f.text, { mode: f.mode });
      chmodSync(at(f.path), f.mode);
      if (f.owner && !values.root) chownSync(at(f.path), 0, groupId(user));
      console.log(`wrote ${at(f.path)}`);
    }
    if (values.root) {
      for (const c of commands) console.log(`then run: ${c.join(' ')}`);
    } else {
      for (const c of commands.filter((c) => c[0] !== 'useradd' && c[0] !== 'usermod')) if (existsSync(`/usr/bin/${c[0]}`) || existsSync(`/bin/${c[0]}`)) run(c);
    }
    console.log(`start it, and at every boot: sudo systemctl enable --now ${SERVICE_NAME}\nits log: journalctl -u ${SERVICE_NAME} -f`);
    return 0;
  },
);

function run(command: string[]): void {
  const r = spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new UsageError(`${command.join(' ')} failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  console.log(`ran: ${command.join(' ')}`);
}

function groupId(user: string): number {
  const r = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : 0;
}

/** Whether a user other than its owner can reach the file: every folder above it enterable by others. */
function othersReach(path: string): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    try {
      if ((statSync(dir).mode & constants.S_IXOTH) === 0) return false;
    } catch {
      return false;
    }
    if (dir === dirname(dir)) return true;
  }
}

/** What docs/scaling.md tells users to install is checked by the tools that will read it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../server/helpers.js';
import { haproxyConfig } from './fixture.js';

const doc = readFileSync(join(import.meta.dirname, '../../docs/scaling.md'), 'utf8');

describe('docs/scaling.md', () => {
  it("the node's systemd unit passes systemd-analyze verify (with this machine's node and CLI paths)", () => {
    const unit = /<!-- systemd: plotwire-node\.service[^>]*-->\n```ini\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(unit).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'pw-node-unit-'));
    const path = join(dir, 'plotwire-node.service');
    writeFileSync(path, (unit as string).replace('/usr/bin/node /usr/lib/node_modules/plotwire/dist/cli/main.js', `${process.execPath} ${cli}`));
    const verify = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    // Only what a test machine cannot have: the user, and units of a booted system.
    const complaints = verify.stderr.split('\n').filter((l) => l.trim() && !/Failed to resolve user|Unit .*\.target not found|Cannot add dependency job|Failed to determine|Failed to open/.test(l));
    expect(complaints, verify.stderr).toEqual([]);
  });

  it('the HAProxy configuration is valid for haproxy -c', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-haproxy-'));
    const path = join(dir, 'haproxy.cfg');
    writeFileSync(path, haproxyConfig(18080, [{ name: 'a', port: 18081 }]));
    const check = spawnSync('haproxy', ['-c', '-f', path], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });
});

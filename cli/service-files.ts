/**
 * What `plotwire service install` writes: the bridge's systemd unit and a udev rule per board
 * given by USB identity. Pure text from the config, so a dry run shows exactly what an install
 * writes, and tests check it with systemd-analyze verify.
 */
import { parsePortSpec } from '../bridge/port-spec.js';
import type { BridgeConfig } from '../bridge/config.js';
import { EXIT_NO_TOKEN } from './exit-codes.js';

export const SERVICE_NAME = 'plotwire-bridge';

export interface UnitInput {
  /** Absolute paths: the node running now (nvm's included: systemd's PATH has none) and the CLI. */
  readonly node: string;
  readonly cli: string;
  readonly config: string;
  readonly user: string;
}

const arg = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);

export function unitFile(u: UnitInput): string {
  return `# Written by plotwire service install. The bridge: sensor boards -> live plots.
[Unit]
Description=plotwire bridge (sensor boards to live plots)
After=network-online.target
Wants=network-online.target

[Service]
User=${u.user}
Group=${u.user}
# Serial ports belong to the dialout group.
SupplementaryGroups=dialout
ExecStart=${arg(u.node)} ${arg(u.cli)} bridge --config ${arg(u.config)} --json
# A lost server, port or network is retried inside the bridge; it exits only for a reason a
# restart may cure, or with ${EXIT_NO_TOKEN} when every token was refused (404/403): then restarting would not help.
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=${EXIT_NO_TOKEN}
# SIGTERM flushes every stream and ends it cleanly.
KillSignal=SIGTERM
TimeoutStopSec=15
NoNewPrivileges=yes
ProtectSystem=strict
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
`;
}

/** udev rules naming each board given as usb:VID:PID[:SERIAL] (/dev/plotwire-N), or undefined when none is. */
export function udevRules(config: BridgeConfig): string | undefined {
  const lines = config.boards.flatMap((board, i) => {
    const spec = parsePortSpec(board.serial);
    if (spec.kind !== 'usb') return [];
    const id = spec.identity;
    const serial = id.serialNumber ? `, ATTRS{serial}=="${id.serialNumber}"` : '';
    return [`SUBSYSTEM=="tty", ATTRS{idVendor}=="${id.vendorId}", ATTRS{idProduct}=="${id.productId}"${serial}, SYMLINK+="plotwire-${i}", GROUP="dialout", MODE="0660"`];
  });
  return lines.length ? `# Written by plotwire service install: a stable name for each board, whatever order USB enumerates in.\n${lines.join('\n')}\n` : undefined;
}

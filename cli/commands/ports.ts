/** plotwire ports: lists serial ports with their USB identity and marks the likely boards. */
import { defineCommand } from '../command.js';
import { optionSpec } from '../options.js';
import { likelyBoard, listPorts } from '../../bridge/ports.js';

const usage = `usage: plotwire ports [--json]

Lists the serial ports of this machine with their USB identity (vendor:product, serial number,
maker) and marks the likely boards (Arduino Uno/Yún/Leonardo, ESP32 USB-UART chips). Use the
path with "plotwire bridge --serial PATH", or the identity as --serial usb:VID:PID[:SERIAL] so
the bridge finds the board whatever path it gets after a replug.

  --json   one JSON object per port`;

export const portsCommand = defineCommand(
  { name: 'ports', summary: 'list serial ports with their USB identity; mark the likely boards', usage, options: optionSpec([], ['json']) },
  async (values) => {
    const ports = await listPorts();
    if (values.json) {
      for (const p of ports) console.log(JSON.stringify({ ...p, board: likelyBoard(p) ?? null }));
      return 0;
    }
    if (ports.length === 0) {
      console.log('no serial ports found (is the board plugged in? on a Raspberry Pi, is the serial port enabled?)');
      return 0;
    }
    const rows = ports.map((p) => {
      const board = likelyBoard(p);
      return [
        board ? '*' : ' ',
        p.path,
        p.vendorId ? `${p.vendorId}:${p.productId ?? '????'}` : '-',
        p.serialNumber ?? '-',
        board ?? [p.manufacturer, p.product].filter(Boolean).join(' ') ?? '',
      ];
    });
    const head = [' ', 'path', 'usb id', 'serial', 'device'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    for (const row of [head, ...rows]) console.log(row.map((c, i) => (c ?? '').padEnd(widths[i] ?? 0)).join('  ').trimEnd());
    if (rows.some((r) => r[0] === '*')) console.log('\n* likely board; use --serial auto to pick the first');
    return 0;
  },
);

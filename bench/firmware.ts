/**
 * npm run bench: what sampling, detection and output cost the Uno's 16 MHz ATmega328P at 500 Hz,
 * counted in avr8js cycles. The firmware sleeps in pw::boardIdle() when it has nothing to do, so
 * every cycle whose program counter lies elsewhere (interrupts included) is work. Baseline in the
 * same run: the same firmware in analog mode (same rate, same link load, no beat detector).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SAMPLE_RATE_HZ, DEFAULT_SAMPLES_PER_LINE } from '../shared/limits.js';
import { ADC_REFERENCE_VOLTS, MITDB_RATE_HZ, ecgVolts, readMitdbRecord } from '../firmware/sim/recordings.js';
import { UNO_CLOCK_HZ, Uno } from '../firmware/sim/uno.js';
import { buildAll, buildVariant, ROOT, type BoardResult } from '../firmware/tools/build.js';

const TARGET_PERCENT = 25;

/** Byte address range of a function in the ELF. */
function symbolRange(elf: string, name: string): [number, number] {
  const out = execFileSync('avr-nm', ['-S', '-C', elf], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.endsWith(` ${name}`));
  if (!line) throw new Error(`${elf} has no symbol ${name}`);
  const [addr, size] = line.split(' ');
  return [parseInt(addr!, 16), parseInt(addr!, 16) + parseInt(size!, 16)];
}

interface Row {
  image: string;
  signal: string;
  busyPercent: number;
  cyclesPerSample: number;
  bytesPerSecond: number;
}

function measure(board: BoardResult, label: string, signal: string, volts: Float64Array, seconds: number): Row {
  const [from, to] = symbolRange(board.elf, 'pw::boardIdle()');
  let bytes = 0;
  const perSample = UNO_CLOCK_HZ / DEFAULT_SAMPLE_RATE_HZ;
  const uno = new Uno(readFileSync(board.hex, 'utf8'), { onByte: () => bytes++, volts: (c) => volts[Math.floor(c / perSample) % volts.length]! });
  uno.run(UNO_CLOCK_HZ); // boot and the detector's learning second, not measured
  bytes = 0;
  const cycles = seconds * UNO_CLOCK_HZ;
  const idle = uno.runCounting(cycles, from, to);
  const busy = cycles - idle;
  return { image: label, signal, busyPercent: (100 * busy) / cycles, cyclesPerSample: busy / (seconds * DEFAULT_SAMPLE_RATE_HZ), bytesPerSecond: bytes / seconds };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, seconds: { type: 'string', default: '10' } } });
  const seconds = Number(values.seconds);
  process.stderr.write('bench: building the firmware (uno, and uno in analog mode as the baseline) ...\n');
  const { boards } = await buildAll(['uno']);
  const uno = boards[0]!;
  const analog = await buildVariant('uno', 'analog', ['-DPW_APP=PW_APP_ANALOG', `-DPW_RATE_HZ=${DEFAULT_SAMPLE_RATE_HZ}u`, `-DPW_SAMPLES_PER_LINE=${DEFAULT_SAMPLES_PER_LINE}u`]);
  const rec = readMitdbRecord(join(ROOT, 'test/data/heart/mitdb'), '100');
  const ecg = ecgVolts(rec.counts.subarray(0, (seconds + 2) * MITDB_RATE_HZ), DEFAULT_SAMPLE_RATE_HZ);
  const flat = new Float64Array(DEFAULT_SAMPLE_RATE_HZ).fill(ADC_REFERENCE_VOLTS / 2);
  process.stderr.write(`bench: running each image for ${seconds} s simulated ...\n`);
  const rows = [
    measure(uno, 'uno: ECG mode (detector)', 'MIT-BIH 100', ecg, seconds),
    measure(uno, 'uno: ECG mode (detector)', 'flat line', flat, seconds),
    measure(analog, 'baseline: analog mode', 'MIT-BIH 100', ecg, seconds),
  ];
  const worst = Math.max(rows[0]!.busyPercent, rows[1]!.busyPercent);
  if (values.json) {
    console.log(JSON.stringify({ clockHz: UNO_CLOCK_HZ, rateHz: DEFAULT_SAMPLE_RATE_HZ, seconds, rows, targetPercent: TARGET_PERCENT, met: worst <= TARGET_PERCENT }));
  } else {
    console.log(`CPU of sampling + detection + output at ${DEFAULT_SAMPLE_RATE_HZ} Hz, ${DEFAULT_SAMPLES_PER_LINE} samples a line, on a 16 MHz ATmega328P (avr8js, ${seconds} s simulated)`);
    console.log(`${'image'.padEnd(28)}${'signal'.padEnd(14)}${'CPU %'.padStart(7)}${'cycles/sample'.padStart(15)}${'serial B/s'.padStart(12)}`);
    for (const r of rows) {
      console.log(`${r.image.padEnd(28)}${r.signal.padEnd(14)}${r.busyPercent.toFixed(1).padStart(7)}${r.cyclesPerSample.toFixed(0).padStart(15)}${r.bytesPerSecond.toFixed(0).padStart(12)}`);
    }
    const detector = rows[0]!.cyclesPerSample - rows[2]!.cyclesPerSample;
    console.log(`detector cost: ${detector.toFixed(0)} cycles a sample (${((100 * detector * DEFAULT_SAMPLE_RATE_HZ) / UNO_CLOCK_HZ).toFixed(1)} % CPU) over the baseline`);
    console.log(`target: <= ${TARGET_PERCENT} % CPU: ${worst <= TARGET_PERCENT ? 'met' : 'MISSED'} (${worst.toFixed(1)} %)`);
  }
  return 0;
}

process.exitCode = await main();

/**
 * npm run bench: what sampling, detection and output cost the Uno's 16 MHz ATmega328P at 500 Hz,
 * counted in avr8js cycles. The firmware sleeps in pw::boardIdle() when it has nothing to do, so
 * every cycle whose program counter lies elsewhere (interrupts included) is work. Baseline in the
 * same run: the same firmware in analog mode (same rate, same link load, no beat detector).
 *
 * Then how fast the simulator runs that firmware (simulated seconds per wall-clock second, as fast
 * as it can): on its own thread with idle loops jumped over (startSimulation), against the old
 * simulation in the same run (on the caller's thread, every cycle stepped); alone, with a busy
 * loop on another core, and with the caller's thread kept busy (as the demo's server and bridge do).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SAMPLE_RATE_HZ, DEFAULT_SAMPLES_PER_LINE } from '../shared/limits.js';
import { ADC_REFERENCE_VOLTS, MITDB_RATE_HZ, ecgVolts, readMitdbRecord } from '../firmware/sim/recordings.js';
import { parseIntelHex, programWords } from '../firmware/sim/intel-hex.js';
import { Pacer } from '../firmware/sim/pacer.js';
import { startSimulation } from '../firmware/sim/simulation.js';
import { UNO_CLOCK_HZ, Uno } from '../firmware/sim/uno.js';
import { buildAll, buildVariant, ROOT, type BoardResult } from '../firmware/tools/build.js';
import { printTable } from './lib/table.js';
import { BenchError } from './lib/bench-error.js';

const TARGET_PERCENT = 25;

/** Byte address range of a function in the ELF. */
function symbolRange(elf: string, name: string): [number, number] {
  const out = execFileSync('avr-nm', ['-S', '-C', elf], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.endsWith(` ${name}`));
  if (!line) throw new BenchError(`${elf} has no symbol ${name}`);
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

const program = (board: BoardResult): Uint16Array => programWords(parseIntelHex(readFileSync(board.hex, 'utf8')));
/** The recording on the analog pin, looping. */
const voltsAt =
  (volts: Float64Array) =>
  (cycle: number): number =>
    volts[Math.floor((cycle * DEFAULT_SAMPLE_RATE_HZ) / UNO_CLOCK_HZ) % volts.length]!;

function measure(board: BoardResult, label: string, signal: string, volts: Float64Array, seconds: number): Row {
  const [from, to] = symbolRange(board.elf, 'pw::boardIdle()');
  let bytes = 0;
  const uno = new Uno(program(board), { onByte: () => bytes++, volts: voltsAt(volts) });
  uno.run(2 * UNO_CLOCK_HZ); // boot and the detector's two learning seconds, not measured
  bytes = 0;
  const cycles = seconds * UNO_CLOCK_HZ;
  const idle = uno.runCounting(cycles, from, to);
  const busy = cycles - idle;
  return { image: label, signal, busyPercent: (100 * busy) / cycles, cyclesPerSample: busy / (seconds * DEFAULT_SAMPLE_RATE_HZ), bytesPerSecond: bytes / seconds };
}

/** A simulation run as fast as it can, as the benchmark sees it. */
interface Running {
  until(ms: number): Promise<void>;
  bytes(): number;
  stop(): Promise<void>;
}

/** The old simulation: the board on the caller's thread, jumpIdle false stepping every cycle. */
function onCallersThread(board: BoardResult, volts: Float64Array, jumpIdle: boolean): Running {
  let bytes = 0;
  const uno = new Uno(program(board), { onByte: () => bytes++, volts: voltsAt(volts), jumpIdle });
  let reached = (): void => undefined;
  const pacer = new Pacer(uno, {
    speed: Infinity,
    afterSlice: () => undefined,
    onHold: () => reached(),
    onFailure: (err) => {
      throw err;
    },
  });
  return {
    until(ms) {
      pacer.holdAt((ms * UNO_CLOCK_HZ) / 1000);
      pacer.release();
      return new Promise((resolve) => (reached = resolve));
    },
    bytes: () => bytes,
    stop: async () => pacer.stop(),
  };
}

async function onOwnThread(board: BoardResult, volts: Float64Array): Promise<Running> {
  let bytes = 0;
  const sim = await startSimulation({ hex: board.hex, signal: volts, output: (b) => (bytes += b.length), speed: Infinity });
  return { until: (ms) => sim.until(ms), bytes: () => bytes, stop: () => sim.stop() };
}

const LOADS = ['alone', 'another core busy', "caller's thread busy"] as const;
type Load = (typeof LOADS)[number];

/** Runs fn under the load: a busy loop in another process, or 10 ms busy turns on this thread. */
async function underLoad<T>(load: Load, fn: () => Promise<T>): Promise<T> {
  if (load === 'another core busy') {
    const spinner = spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' });
    try {
      return await fn();
    } finally {
      spinner.kill();
    }
  }
  if (load === "caller's thread busy") {
    let spinning = true;
    const spin = (): void => {
      for (const until = performance.now() + 10; performance.now() < until; );
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    try {
      return await fn();
    } finally {
      spinning = false;
    }
  }
  return fn();
}

interface Speed {
  /** Simulated seconds per wall-clock second, and per CPU second of the whole process. */
  readonly factor: number;
  readonly perCpuSecond: number;
  readonly bytes: number;
}

/** Over `seconds` simulated, after a simulated second of warm-up. */
async function measureSpeed(start: () => Promise<Running> | Running, seconds: number): Promise<Speed> {
  const run = await start();
  try {
    await run.until(1000);
    const bytes = run.bytes();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await run.until(1000 + seconds * 1000);
    const cpu = process.cpuUsage(cpu0);
    return {
      factor: (seconds * 1000) / (performance.now() - t0),
      perCpuSecond: (seconds * 1e6) / (cpu.user + cpu.system),
      bytes: run.bytes() - bytes,
    };
  } finally {
    await run.stop();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean' }, seconds: { type: 'string', default: '10' }, 'speed-seconds': { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } },
  });
  const seconds = Number(values.seconds);
  const speedSeconds = Number(values['speed-seconds']);
  const rounds = Number(values.rounds);
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

  process.stderr.write(`bench: simulator speed, ${speedSeconds} s simulated a run, 3 ways x 3 loads, best of ${rounds} rounds ...\n`);
  const ways = [
    ["baseline: caller's thread, every cycle stepped", () => onCallersThread(uno, ecg, false)],
    ["caller's thread, idle loops jumped", () => onCallersThread(uno, ecg, true)],
    ['own thread, idle loops jumped (startSimulation)', () => onOwnThread(uno, ecg)],
  ] as const;
  // Round after round over every cell, keeping each cell's best: the least disturbed by whatever
  // else the machine runs.
  const best = new Map<string, Speed & { way: string; load: Load }>();
  for (let round = 0; round < rounds; round++) {
    for (const [way, start] of ways) {
      for (const load of LOADS) {
        const s = await underLoad(load, () => measureSpeed(start, speedSeconds));
        const key = `${way}|${load}`;
        const before = best.get(key);
        if (!before || s.factor > before.factor) best.set(key, { way, load, ...s });
      }
    }
  }
  const speed = [...best.values()];
  const cell = (way: number, load: Load): Speed => best.get(`${ways[way]![0]}|${load}`)!;
  const [loadAverage] = loadavg();

  if (values.json) {
    console.log(JSON.stringify({ clockHz: UNO_CLOCK_HZ, rateHz: DEFAULT_SAMPLE_RATE_HZ, seconds, rows, targetPercent: TARGET_PERCENT, met: worst <= TARGET_PERCENT, speedSeconds, rounds, loadAverage, speed }));
  } else {
    console.log(`CPU of sampling + detection + output at ${DEFAULT_SAMPLE_RATE_HZ} Hz, ${DEFAULT_SAMPLES_PER_LINE} samples a line, on a 16 MHz ATmega328P (avr8js, ${seconds} s simulated)`);
    console.log(`${'image'.padEnd(28)}${'signal'.padEnd(14)}${'CPU %'.padStart(7)}${'cycles/sample'.padStart(15)}${'serial B/s'.padStart(12)}`);
    for (const r of rows) {
      console.log(`${r.image.padEnd(28)}${r.signal.padEnd(14)}${r.busyPercent.toFixed(1).padStart(7)}${r.cyclesPerSample.toFixed(0).padStart(15)}${r.bytesPerSecond.toFixed(0).padStart(12)}`);
    }
    const detector = rows[0]!.cyclesPerSample - rows[2]!.cyclesPerSample;
    console.log(`detector cost: ${detector.toFixed(0)} cycles a sample (${((100 * detector * DEFAULT_SAMPLE_RATE_HZ) / UNO_CLOCK_HZ).toFixed(1)} % CPU) over the baseline`);
    console.log(`target: <= ${TARGET_PERCENT} % CPU: ${worst <= TARGET_PERCENT ? 'met' : 'MISSED'} (${worst.toFixed(1)} %)`);
    printTable(
      `Simulator speed: simulated seconds per wall-clock second, as fast as it can (uno ECG image, MIT-BIH 100, ${speedSeconds} s simulated, best of ${rounds}; ${availableParallelism()} cores, load average ${loadAverage!.toFixed(1)})`,
      ['run', ...LOADS.map((l) => `x real time, ${l}`), 'per CPU second, alone', 'serial bytes'],
      ways.map(([way], i) => [way, ...LOADS.map((l) => cell(i, l).factor), cell(i, 'alone').perCpuSecond, cell(i, 'alone').bytes]),
    );
    console.log(`\nspeed-up over the baseline: ${LOADS.map((l) => `${(cell(2, l).factor / cell(0, l).factor).toFixed(1)}x ${l}`).join(', ')}`);
  }
  return 0;
}

process.exitCode = await main();

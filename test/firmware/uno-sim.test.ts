/**
 * The compiled Uno image (build/firmware/uno/firmware.hex, from npm run firmware) running in
 * avr8js on the simulation's own thread: its serial output is the protocol, at the right rate, with
 * beats where the cardiologists marked them, the same lines the host build of the core prints, and
 * the right status on a flat line and with a lead off. Simulated time is kept short (the simulator
 * runs at a few times real time).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { DEFAULT_SAMPLES_PER_LINE, DEFAULT_SAMPLE_RATE_HZ, decodeDeviceLine, type DeviceLine, type QualityEvent } from '../../shared/index.js';
import { BUILD_DIR, PREBUILT_UNO_HEX } from '../../firmware/tools/build.js';
import { beatsOf, replayLines } from '../../firmware/tools/replay.js';
import { ADC_REFERENCE_VOLTS, MITDB_RATE_HZ, adcCodes, ecgVolts, readMitdbRecord } from '../../firmware/sim/recordings.js';
import { startSimulation } from '../../firmware/sim/simulation.js';
import { UNO_CLOCK_HZ, Uno } from '../../firmware/sim/uno.js';
import { parseIntelHex, programWords } from '../../firmware/sim/intel-hex.js';

const HEX = join(BUILD_DIR, 'uno/firmware.hex');
const root = join(import.meta.dirname, '../..');
const RATE = DEFAULT_SAMPLE_RATE_HZ;
const msPerLine = (1000 * DEFAULT_SAMPLES_PER_LINE) / RATE;

/** Runs the image at full speed for ms of simulated time and returns its serial output as lines. */
async function runUno(volts: Float64Array, ms: number, during?: (sim: Awaited<ReturnType<typeof startSimulation>>) => Promise<void>): Promise<string[]> {
  const chunks: Buffer[] = [];
  const sim = await startSimulation({ hex: HEX, signal: volts, output: (b) => chunks.push(b), speed: Infinity, loop: false });
  if (during) await during(sim);
  await sim.until(ms);
  await sim.stop();
  return linesOf(Buffer.concat(chunks).toString('latin1'));
}

/** Whole lines of serial output; the empty one before a hello (its newline first) left out, as the bridge does. */
const linesOf = (text: string): string[] => text.split('\n').slice(0, -1).filter((l) => l !== '');

/** The socat processes serving a pseudo-terminal (their command line names its link). */
function socatsServing(ptyPath: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args[0]!.endsWith('socat') && args.some((a) => a.includes(`link=${ptyPath}`));
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

beforeAll(() => {
  if (!existsSync(HEX)) throw new Error(`${HEX} is missing: npm test builds it (npm run firmware)`);
});

describe('the Uno image in avr8js on a recorded ECG (MIT-BIH 100, 60..72 s)', () => {
  const rec = readMitdbRecord(join(root, 'test/data/heart/mitdb'), '100');
  const fromSample = 60 * MITDB_RATE_HZ;
  const volts = ecgVolts(rec.counts.subarray(fromSample, fromSample + 14 * MITDB_RATE_HZ), RATE);
  const codes = adcCodes(volts);
  let text: string[] = [];
  let lines: DeviceLine[] = [];
  let offset = 0; // the recording sample the firmware's first sample is

  beforeAll(async () => {
    // At 12 s the electrode comes off (the AD8232 drives LO+ high), back on at 13 s.
    text = await runUno(volts, 14_000, async (sim) => {
      await sim.until(12_000);
      sim.setLeadOff(true);
      await sim.until(13_000);
      sim.setLeadOff(false);
    });
    lines = text.map(decodeDeviceLine);
    const first = lines.find((l) => l.kind === 'sample')!.line as { ecg: number[] };
    offset = Array.from(codes).findIndex((_, i) => first.ecg.every((v, k) => codes[i + k] === v));
  }, 60_000);

  it('says hello first, then only valid protocol lines', () => {
    expect(lines[0]).toEqual({ kind: 'hello', line: { hello: 1, fw: expect.any(String), board: 'uno', rate: RATE, ch: ['ecg'], spl: DEFAULT_SAMPLES_PER_LINE, mode: 'ecg' } });
    expect(lines.filter((l) => l.kind === 'hello')).toHaveLength(1);
  });

  it('sends the samples the ADC read, spl a line, every line numbered, at the firmware rate', () => {
    const samples = lines.filter((l) => l.kind === 'sample').map((l) => l.line as { n: number; t: number; ecg: number[] });
    expect(samples.length).toBeGreaterThan((14_000 / msPerLine) * 0.98);
    samples.forEach((s, i) => expect(s.t).toBe(i * msPerLine));
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(samples.flatMap((s) => s.ecg)).toEqual(Array.from(codes.subarray(offset, offset + samples.length * DEFAULT_SAMPLES_PER_LINE)));
    lines.slice(1).forEach((l, i) => expect((l.line as { n: number }).n).toBe(i));
    expect(lines.some((l) => l.kind === 'event' && l.line.ev === 'drop')).toBe(false);
  });

  it('marks beats within 150 ms of the reference R peaks, none extra', () => {
    const beats = beatsOf(lines).filter((b) => b.t < 12_000);
    const startMs = (offset * 1000) / RATE;
    const ref = rec.beats.map((s) => ((s - fromSample) * 1000) / MITDB_RATE_HZ - startMs).filter((t) => t > 2000 && t < 11_500);
    for (const r of ref) expect(beats.some((b) => Math.abs(b.t - r) <= 150), `beat near ${r} ms`).toBe(true);
    for (const b of beats) expect(ref.some((r) => Math.abs(b.t - r) <= 150) || b.t <= 2000 || b.t >= 11_500, `beat at ${b.t} ms is real`).toBe(true);
    expect(beats.at(-1)!.bpm).toBeGreaterThan(60);
  });

  it('reports the lead off (from the LO pins) with no rate and no beat until it is back', () => {
    const events = lines.filter((l) => l.kind === 'event').map((l) => l.line);
    const off = events.find((e) => e.ev === 'lead' && 'off' in e && e.off === true);
    const on = events.find((e) => e.ev === 'lead' && 'off' in e && e.off === false);
    expect(off?.t).toBeGreaterThanOrEqual(11_990);
    expect(off!.t).toBeLessThan(12_020);
    expect(on?.t).toBeGreaterThanOrEqual(12_990);
    const lost = events.find((e) => e.ev === 'quality' && (e.t ?? 0) >= off!.t!);
    expect(lost).toMatchObject({ sig: 'lost' });
    expect(lost).not.toHaveProperty('bpm');
    expect(beatsOf(lines).filter((b) => b.t > off!.t! && b.t < on!.t!)).toEqual([]);
  });

  it('prints exactly the lines the host build of the core prints for the same samples, in order, through the simulation thread', async () => {
    // Every line up to the first one stamped 11 s or later (before the lead comes off at 12 s).
    const untilLeadOff = text.slice(1, text.findIndex((l, i) => i > 0 && (decodeDeviceLine(l).line as { t: number }).t >= 11_000));
    const host = await replayLines(codes.subarray(offset));
    expect(untilLeadOff).toEqual(host.slice(1, untilLeadOff.length + 1));
  });
});

describe('the Uno image on a flat line and at a rail', () => {
  it('reports the signal flat within 3.5 s, with no rate and no beats', async () => {
    const volts = new Float64Array(5 * RATE).fill(ADC_REFERENCE_VOLTS / 2);
    const lines = (await runUno(volts, 4000)).map(decodeDeviceLine);
    const quality = lines.filter((l) => l.kind === 'event' && l.line.ev === 'quality').map((l) => l.line as QualityEvent);
    expect(quality.at(-1)).toMatchObject({ sig: 'flat', q: 0 });
    expect(quality.at(-1)).not.toHaveProperty('bpm');
    expect(quality.at(-1)!.t).toBeLessThanOrEqual(3500);
    expect(beatsOf(lines)).toEqual([]);
  }, 30_000);

  it('reports a signal at the top rail clipped within a second', async () => {
    const volts = new Float64Array(3 * RATE).fill(ADC_REFERENCE_VOLTS);
    const lines = (await runUno(volts, 2000)).map(decodeDeviceLine);
    const quality = lines.filter((l) => l.kind === 'event' && l.line.ev === 'quality').map((l) => l.line as QualityEvent);
    expect(quality.at(-1)).toMatchObject({ sig: 'clipped', q: 0 });
    expect(quality.at(-1)!.t).toBeLessThanOrEqual(1000);
    expect(beatsOf(lines)).toEqual([]);
  }, 30_000);
});

describe('a reset (what opening the port does on an Uno)', () => {
  /** The image on an Uno in this thread at a steady mid-rail signal; `started(cycle)` is told of each ADC conversion. */
  function board(started: (cycle: number) => void = () => undefined): { uno: Uno; text: () => string } {
    let text = '';
    const program = programWords(parseIntelHex(readFileSync(HEX, 'utf8')));
    const uno = new Uno(program, {
      onByte: (b) => (text += String.fromCharCode(b)),
      volts: (cycle) => {
        started(cycle);
        return ADC_REFERENCE_VOLTS / 2;
      },
    });
    return { uno, text: () => text };
  }
  const cyclesOf = (ms: number): number => (ms * UNO_CLOCK_HZ) / 1000;
  /** After the reset: a hello, then lines of samples again. */
  const startedAgain = (after: string): void => {
    const lines = linesOf(after.slice(after.indexOf('{"hello":1,')));
    expect(lines[0]).toMatch(/^\{"hello":1,/);
    expect(lines.filter((l) => decodeDeviceLine(l).kind === 'sample').length).toBeGreaterThanOrEqual(10);
  };

  it('with a character on the wire: the board starts again and sends', () => {
    const { uno, text } = board();
    uno.run(cyclesOf(300));
    // Step until a byte has just gone to the USART: it is on the wire for a character's time.
    const sent = text().length;
    while (text().length === sent) uno.run(10);
    uno.run(100);
    const before = text().length;
    uno.reset();
    uno.run(cyclesOf(200));
    startedAgain(text().slice(before));
  });

  it('during an ADC conversion: the board starts again and samples', () => {
    let converting = false;
    const { uno, text } = board(() => (converting = true));
    uno.run(cyclesOf(300));
    converting = false;
    while (!converting) uno.run(10);
    const before = text().length;
    uno.reset();
    uno.run(cyclesOf(200));
    startedAgain(text().slice(before));
  });

  it('keeps a lead that is off off', () => {
    const { uno, text } = board();
    uno.setLeadOff(true);
    uno.run(cyclesOf(300));
    const before = text().length;
    uno.reset();
    uno.run(cyclesOf(1500));
    const after = linesOf(text().slice(before)).map(decodeDeviceLine);
    expect(after.some((l) => l.kind === 'event' && l.line.ev === 'lead' && 'off' in l.line && l.line.off === true)).toBe(true);
  });
});

describe('the committed image', () => {
  it('firmware/prebuilt/uno.hex is exactly what the sources build today', () => {
    const built = readFileSync(HEX, 'utf8');
    if (readFileSync(PREBUILT_UNO_HEX, 'utf8') !== built) {
      throw new Error('firmware/prebuilt/uno.hex differs from build/firmware/uno/firmware.hex: run npm run firmware -- --update-prebuilt and commit it');
    }
  });
});

describe('plotwire simulate', () => {
  it('serves the board on a pseudo-terminal that a reader opens like a serial port', async () => {
    const volts = ecgVolts(readMitdbRecord(join(root, 'test/data/heart/mitdb'), '100').counts.subarray(0, 5 * MITDB_RATE_HZ), RATE);
    const sim = await startSimulation({ signal: volts, output: 'pty' });
    try {
      expect(sim.ptyPath).toBeDefined();
      const reader = spawn('cat', [sim.ptyPath!], { stdio: ['ignore', 'pipe', 'inherit'] });
      let got = '';
      reader.stdout.on('data', (b: Buffer) => (got += b.toString('latin1')));
      // Real time: about 100 lines a second; allow for a busy machine.
      await until('60 lines, and the hello of the reset the open causes', () => got.split('\n').length >= 60 && got.split('\n').slice(1, -1).some((l) => l.includes('{"hello":1,')), 20_000);
      reader.kill();
      const lines = linesOf(got);
      expect(lines[0]).toMatch(/^\{"hello":1,/);
      expect(lines.length).toBeGreaterThan(50);
      // Opening the port resets the board, as on an Uno: it says hello again, cutting at most the
      // line it was sending.
      const bad = lines.filter((l) => {
        try {
          decodeDeviceLine(l);
          return false;
        } catch {
          return true;
        }
      });
      expect(bad.length).toBeLessThanOrEqual(1);
      expect(lines.slice(1).some((l) => l.includes('{"hello":1,'))).toBe(true);
      expect(socatsServing(sim.ptyPath!)).toHaveLength(1);
    } finally {
      await sim.stop();
    }
    expect(existsSync(sim.ptyPath!)).toBe(false);
    expect(socatsServing(sim.ptyPath!)).toEqual([]);
  }, 30_000);

  it('runs on a thread of its own: the board keeps time while the caller\'s thread is busy', async () => {
    const volts = new Float64Array(RATE).fill(ADC_REFERENCE_VOLTS / 2);
    const sim = await startSimulation({ hex: HEX, signal: volts, output: 'none' });
    try {
      await sim.until(50);
      await new Promise((r) => setImmediate(r)); // the board is released
      const before = sim.stats().cycles;
      // No event loop turn here until the board moves on (or 5 s): a board on this thread could not.
      for (const until = performance.now() + 5000; performance.now() < until && sim.stats().cycles === before; );
      expect(sim.stats().cycles).toBeGreaterThan(before);
    } finally {
      await sim.stop();
    }
  });

  it('stop() ends the simulation thread and socat: a program that stops it exits by itself', async () => {
    const script = `
      import { startSimulation } from ${JSON.stringify(pathToFileURL(join(root, 'dist/firmware/sim/simulation.js')).href)};
      const sim = await startSimulation({ signal: ${JSON.stringify(join(root, 'test/data/heart/mitdb/100.adc.csv.gz'))}, output: 'pty' });
      console.log(sim.ptyPath);
      await sim.until(200);
      await sim.stop();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => (child.kill('SIGKILL'), resolve('still running 20 s later')), 20_000);
      child.on('exit', (c) => (clearTimeout(timer), resolve(c ?? 'killed')));
    });
    expect(code).toBe(0);
    const ptyPath = out.trim();
    expect(ptyPath).toMatch(/ttyPLOTWIRE$/);
    expect(existsSync(ptyPath)).toBe(false);
    expect(socatsServing(ptyPath)).toEqual([]);
  }, 30_000);

  it('the CLI writes the board to stdout and rejects a signal file it does not know', async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'simulate', ...args]);
        let out = '';
        let err = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
      });
    const ok = await cli(['--signal', join(root, 'test/data/heart/mitdb/100.adc.csv.gz'), '--stdout', '--duration', '1', '--speed', '4']);
    expect(ok.code).toBe(0);
    const lines = linesOf(ok.out);
    expect(decodeDeviceLine(lines[0]!).kind).toBe('hello');
    expect(lines.length).toBeGreaterThan(90);
    const bad = await cli(['--signal', join(root, 'README.md'), '--stdout']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/not a signal file plotwire knows/);
  }, 30_000);

  it('the CLI reports progress every 10 simulated seconds', async () => {
    const child = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'simulate', '--signal', join(root, 'test/data/heart/mitdb/100.adc.csv.gz'), '--stdout', '--duration', '11', '--speed', '1000'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const lines = err.trim().split('\n');
    expect(lines.filter((l) => /simulated/.test(l))).toEqual([
      expect.stringMatching(/^plotwire simulate: 10 s simulated \(\d+\.\d\dx real time\), \d+ bytes sent$/),
      expect.stringMatching(/^plotwire simulate: stopped after 11\.0 s simulated, \d+ bytes sent$/),
    ]);
  }, 90_000);
});

/**
 * The runner's jumps over idle loops: the compiled Uno image on a recorded ECG, run once stepping
 * every instruction and once jumping, must be the same machine at every slice (cycle count,
 * program counter, every register and byte of memory, every serial byte at the same cycle) and
 * count the same cycles in a program range.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AVRTimer, CPU, timer1Config } from 'avr8js';
import { describe, expect, it } from 'vitest';
import { AvrRunner } from '../../firmware/sim/avr-runner.js';
import { DEFAULT_SAMPLE_RATE_HZ } from '../../shared/index.js';
import { parseIntelHex, programWords } from '../../firmware/sim/intel-hex.js';
import { MITDB_RATE_HZ, ecgVolts, readMitdbRecord } from '../../firmware/sim/recordings.js';
import { UNO_CLOCK_HZ, Uno } from '../../firmware/sim/uno.js';
import { BUILD_DIR } from '../../firmware/tools/build.js';

const HEX = join(BUILD_DIR, 'uno/firmware.hex');
const root = join(import.meta.dirname, '../..');
const SLEEP = 0x9588;

function board(program: Uint16Array, volts: Float64Array, jumpIdle: boolean): { uno: Uno; serial: number[] } {
  const serial: number[] = [];
  const perSample = UNO_CLOCK_HZ / DEFAULT_SAMPLE_RATE_HZ;
  const uno: Uno = new Uno(program, {
    onByte: (b) => serial.push(b, uno.cpu.cycles),
    volts: (c) => volts[Math.floor(c / perSample) % volts.length]!,
    jumpIdle,
  });
  return { uno, serial };
}

describe('AvrRunner', () => {
  it('jumps over the idle loop with the same result as stepping, cycle for cycle', () => {
    if (!existsSync(HEX)) throw new Error(`${HEX} is missing: npm test builds it (npm run firmware)`);
    const program = programWords(parseIntelHex(readFileSync(HEX, 'utf8')));
    const rec = readMitdbRecord(join(root, 'test/data/heart/mitdb'), '100');
    const volts = ecgVolts(rec.counts.subarray(0, 4 * MITDB_RATE_HZ), DEFAULT_SAMPLE_RATE_HZ);
    const stepped = board(program, volts, false);
    const jumped = board(program, volts, true);
    // The firmware's wait loop around its SLEEP: a range holding all of it, and one cutting it.
    const sleep = program.indexOf(SLEEP) * 2;
    expect(sleep).toBeGreaterThan(0);
    const ranges: [number, number][] = [[sleep - 0x20, sleep + 0x10], [sleep, sleep + 2]];
    const insides = [0, 0];
    const counted = [0, 0];
    let cycles = 0;
    for (let slice = 0; slice < 40; slice++) {
      // Uneven slices: a slice may end anywhere in a turn of the loop, or in an interrupt, or
      // between cycles (a paced run's slices are wall-clock time at 16 MHz).
      const n = 400_000 + ((slice * 7919) % 9973) + (slice % 3) / 3;
      if (slice === 10) for (const b of [stepped, jumped]) b.uno.setLeadOff(true);
      if (slice === 14) for (const b of [stepped, jumped]) b.uno.setLeadOff(false);
      if (slice % 4 === 1 || slice % 4 === 2) {
        const [from, to] = ranges[slice % 4 - 1]!;
        const a = stepped.uno.runCounting(n, from, to);
        const b = jumped.uno.runCounting(n, from, to);
        expect(b, `cycles counted in slice ${slice}`).toBe(a);
        insides[slice % 4 - 1]! += a;
        counted[slice % 4 - 1]! += n;
      } else {
        stepped.uno.run(n);
        jumped.uno.run(n);
      }
      cycles += n;
      expect(jumped.uno.cpu.cycles).toBe(stepped.uno.cpu.cycles);
      expect(jumped.uno.cpu.pc).toBe(stepped.uno.cpu.pc);
      expect(Buffer.compare(jumped.uno.cpu.data, stepped.uno.cpu.data), `memory after slice ${slice}`).toBe(0);
    }
    expect(jumped.serial).toEqual(stepped.serial);
    expect(stepped.serial.length / 2).toBeGreaterThan(4000);
    // The firmware idles most of the time, and most of that was jumped over.
    expect(insides[0]).toBeGreaterThan(counted[0]! * 0.5);
    expect(insides[1]).toBeGreaterThan(0);
    expect(insides[1]).toBeLessThan(counted[1]! * 0.5);
    expect(jumped.uno.jumpedCycles).toBeGreaterThan(cycles * 0.5);
    expect(stepped.uno.jumpedCycles).toBe(0);
  }, 60_000);

  it('goes back to stepping when a clock event changes a register the idle loop reads', () => {
    // Timer1 counts every cycle (CTC, TOP 1000) with its interrupt off; the loop sleeps until it
    // sees the compare flag, then counts in r20. Only the flag, set by a clock event, ends the loop.
    const program = Uint16Array.from([
      0xe003, 0x9300, 0x0089, // ldi r16, 0x03; sts OCR1AH, r16
      0xee08, 0x9300, 0x0088, // ldi r16, 0xe8; sts OCR1AL, r16
      0xe009, 0x9300, 0x0081, // ldi r16, WGM12 | CS10; sts TCCR1B, r16
      0x9478,                 // sei
      0x9bb1,                 // loop: sbis TIFR1, OCF1A
      0xc001,                 //   rjmp nap
      0xc002,                 //   rjmp done
      0x9588,                 // nap: sleep
      0xcffb,                 //   rjmp loop
      0x9543,                 // done: inc r20
      0xcffe,                 //   rjmp done
    ]);
    const machines = [false, true].map((jumpIdle) => {
      const cpu = new CPU(program, 0x800);
      new AVRTimer(cpu, timer1Config);
      return { cpu, runner: new AvrRunner(cpu, jumpIdle) };
    });
    for (const { runner } of machines) runner.runUntil(5000.5);
    const [stepped, jumped] = machines.map((m) => m.cpu);
    expect(stepped!.data[20]).toBeGreaterThan(0);
    expect(jumped!.cycles).toBe(stepped!.cycles);
    expect(jumped!.pc).toBe(stepped!.pc);
    expect(Buffer.compare(jumped!.data, stepped!.data)).toBe(0);
    expect(machines[1]!.runner.jumpedCycles).toBeGreaterThan(500);
  });
});

/**
 * Timer1 paces sampling: in each of its prescaler ranges (/256 from 1 Hz, /64 from 4 Hz, /8 from
 * 31 Hz, /1 from 245 Hz) the Uno image in avr8js sends as many samples per simulated second as
 * its hello says. (With a fixed prescaler of 64 the compare value overflowed below 3.8 Hz: 1 Hz
 * ran at 4.7.)
 */
import { describe, expect, it } from 'vitest';
import { decodeDeviceLine } from '../../shared/index.js';
import { ADC_REFERENCE_VOLTS } from '../../firmware/sim/recordings.js';
import { startSimulation } from '../../firmware/sim/simulation.js';
import { buildVariant } from '../../firmware/tools/build.js';

describe('the Uno image samples at the rate its hello announces', () => {
  it.each([
    // rate Hz, samples a line, simulated seconds (prescaler range)
    [1, 1, 12], // /256
    [20, 1, 5], // /64
    [100, 5, 4], // /8
    [1000, 16, 3], // /1
  ])('%i Hz', async (rate, spl, seconds) => {
    const board = await buildVariant('uno', `timer-${rate}`, ['-DPW_APP=PW_APP_ANALOG', `-DPW_RATE_HZ=${rate}u`, `-DPW_SAMPLES_PER_LINE=${spl}u`]);
    const chunks: Buffer[] = [];
    const sim = await startSimulation({ hex: board.hex, signal: new Float64Array(1000).fill(ADC_REFERENCE_VOLTS / 2), output: (b) => chunks.push(b), speed: Infinity });
    let simulatedMs = 0;
    try {
      await sim.until(seconds * 1000);
      // The board holds here until this continuation is done: it is stopped where it stands.
      simulatedMs = sim.stats().simulatedMs;
    } finally {
      await sim.stop();
    }
    const lines = Buffer.concat(chunks).toString('latin1').split('\n').slice(0, -1).filter((l) => l !== '').map(decodeDeviceLine);
    expect(lines[0]).toMatchObject({ kind: 'hello', line: { rate, spl } });
    let samples = 0;
    for (const l of lines) if (l.kind === 'sample') samples += ([] as number[]).concat(l.line.a0 as number | number[]).length;
    // All the samples taken so far, but for those still on their way out (a line being filled,
    // a line or two in the output buffer and the UART) and the boot.
    const taken = (rate * simulatedMs) / 1000;
    expect(samples).toBeLessThanOrEqual(taken + 1);
    expect(samples).toBeGreaterThanOrEqual(taken - 2 * spl - 2);
  }, 120_000);
});

/**
 * npm run eval:heart on the recordings in the repository: the detector (through the replay tool)
 * meets its targets and beats the PulseSensorPlayground baseline in the same run; and the scoring
 * itself counts what it should.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { matchBeats } from '../../firmware/tools/eval-heart.js';
import { pulseSensorBeats } from '../../firmware/tools/pulse-sensor-baseline.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

describe('eval:heart', () => {
  it('scores detections against reference beats within 150 ms, one to one', () => {
    expect(matchBeats([1000, 2000, 3000], [1100, 1120, 2151, 3000])).toEqual({ tp: 2, fn: 1, fp: 2 });
    expect(matchBeats([], [5])).toEqual({ tp: 0, fn: 0, fp: 1 });
  });

  it('the baseline finds a beat in every pulse 250 ms or more after its start', () => {
    const codes = Array.from({ length: 500 * 10 }, (_, i) => (i % 400 < 40 ? 700 : 500));
    const beats = pulseSensorBeats(codes, 500);
    expect(beats.map((b) => b.sample)).toEqual(Array.from({ length: 12 }, (_, k) => 400 * (k + 1)));
    expect(beats.at(-1)).toMatchObject({ ibiMs: 800, bpm: 75 });
  });

  it('meets the targets and beats the baseline (--json prints the gross figures)', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(root, 'firmware/tools/eval-heart.ts'), '--json'], { cwd: root });
    const r = JSON.parse(stdout) as {
      plotwire: { ecg: { se: number; ppv: number }; ppgMaeBpm: number };
      baseline: { ecg: { se: number; ppv: number }; ppgMaeBpm: number };
      allMet: boolean;
    };
    expect(r.plotwire.ecg.se).toBeGreaterThanOrEqual(99.5);
    expect(r.plotwire.ecg.ppv).toBeGreaterThanOrEqual(99.5);
    expect(r.plotwire.ppgMaeBpm).toBeLessThanOrEqual(2);
    expect(r.plotwire.ecg.se).toBeGreaterThan(r.baseline.ecg.se);
    expect(r.plotwire.ppgMaeBpm).toBeLessThan(r.baseline.ppgMaeBpm);
    expect(r.allMet).toBe(true);
  }, 120_000);
});

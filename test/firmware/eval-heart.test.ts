/**
 * npm run eval:heart on the recordings in the repository: the detector (through the replay tool)
 * meets its targets, with the firmware's parameters, left out of the tuning record by record, and
 * under noise, and beats the PulseSensorPlayground baseline in the same run; PPG inputs clipped at
 * the camera's full scale (as two unseen subjects are, 71 and 100 % of the time) or flat are
 * reported unusable with no wrong rate; and the scoring itself counts what it should.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CAMERA_FULL_SCALE, readPpgCsv } from '../../firmware/sim/recordings.js';
import { gridPoints, leaveOneOut, matchBeats, shownRate, type Evaluation, type summarize } from '../../firmware/tools/eval-heart.js';
import { pulseSensorBeats } from '../../firmware/tools/pulse-sensor-baseline.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const welltory = join(root, 'test/data/heart/welltory');
const work = mkdtempSync(join(tmpdir(), 'pw-eval-heart-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Output = Evaluation & { summary: ReturnType<typeof summarize> };
const evalHeart = async (args: string[]): Promise<Output> => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(root, 'firmware/tools/eval-heart.ts'), '--json', ...args], { cwd: root, maxBuffer: 64 << 20 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  return JSON.parse(stdout) as Output;
};

/** A subject's recording with each frame's red mapped by f, under a new name. */
function variant(dir: string, name: string, subject: string, f: (red: number) => number): void {
  const { timeMs, red } = readPpgCsv(join(welltory, subject, 'PPG.csv'));
  mkdirSync(join(dir, name), { recursive: true });
  const rows = Array.from(timeMs, (t, i) => `${t},${f(red[i]!).toFixed(3)},0,0`);
  writeFileSync(join(dir, name, 'PPG.csv'), ['time,R,G,B', ...rows, ''].join('\n'));
  copyFileSync(join(welltory, subject, 'RR.txt'), join(dir, name, 'RR.txt'));
}

/** Brighter until pct % of the frames reach the camera's full scale (too much light or gain). */
function clipped(subject: string, pct: number): (red: number) => number {
  const sorted = Array.from(readPpgCsv(join(welltory, subject, 'PPG.csv')).red).sort((a, b) => a - b);
  const at = sorted[Math.floor(((100 - pct) / 100) * (sorted.length - 1))]!;
  return (red) => Math.min(CAMERA_FULL_SCALE, red + (CAMERA_FULL_SCALE - at));
}

describe('eval:heart', () => {
  it('scores detections against reference beats within 150 ms, one to one, optionally within a window', () => {
    expect(matchBeats([1000, 2000, 3000], [1100, 1120, 2151, 3000])).toEqual({ tp: 2, fn: 1, fp: 2 });
    expect(matchBeats([], [5])).toEqual({ tp: 0, fn: 0, fp: 1 });
    expect(matchBeats([1000, 2000, 3000], [1100, 1120, 2151, 3000], 150, (ms) => ms >= 1500)).toEqual({ tp: 1, fn: 1, fp: 1 });
  });

  it('leave one out picks each record\'s parameters on the others alone', () => {
    const points = gridPoints({ threshold: [25, 31], searchback: [166] });
    expect(points).toEqual([
      { threshold: 25, searchback: 166 },
      { threshold: 31, searchback: 166 },
    ]);
    // 25 is best on a and b, 31 on c; the defaults (31) win a tie.
    const scores = [
      [{ tp: 10, fn: 0, fp: 0 }, { tp: 10, fn: 0, fp: 0 }, { tp: 5, fn: 5, fp: 5 }],
      [{ tp: 9, fn: 1, fp: 0 }, { tp: 9, fn: 1, fp: 0 }, { tp: 10, fn: 0, fp: 0 }],
    ];
    const rows = leaveOneOut(['a', 'b', 'c'], points, scores, { threshold: 31, searchback: 166 });
    expect(rows.map((r) => r.params.threshold)).toEqual([31, 31, 25]);
    expect(rows.map((r) => r.plotwire)).toEqual([scores[1]![0], scores[1]![1], scores[0]![2]]);
  });

  it('a stated rate is averaged over the time it is shown', () => {
    expect(shownRate([{ t: 0, bpm: 60 }, { t: 1000, bpm: 90 }, { t: 2000 }, { t: 3000, bpm: 120 }], 4000)).toBeCloseTo(90);
    expect(shownRate([{ t: 0 }], 1000)).toBeUndefined();
  });

  it('the baseline finds a beat in every pulse 250 ms or more after its start', () => {
    const codes = Array.from({ length: 500 * 10 }, (_, i) => (i % 400 < 40 ? 700 : 500));
    const beats = pulseSensorBeats(codes, 500);
    expect(beats.map((b) => b.sample)).toEqual(Array.from({ length: 12 }, (_, k) => 400 * (k + 1)));
    expect(beats.at(-1)).toMatchObject({ ibiMs: 800, bpm: 75 });
  });

  it('meets the targets and beats the baseline; --json has every record\'s rows', async () => {
    const r = await evalHeart([]);
    const { plotwire, baseline } = r.summary;
    expect(plotwire.ecg.se).toBeGreaterThanOrEqual(99.5);
    expect(plotwire.ecg.ppv).toBeGreaterThanOrEqual(99.5);
    expect(plotwire.loo.se).toBeGreaterThanOrEqual(99.5);
    expect(plotwire.loo.ppv).toBeGreaterThanOrEqual(99.0);
    expect(plotwire.noise12!.se).toBeGreaterThanOrEqual(99);
    expect(plotwire.noise12!.ppv).toBeGreaterThanOrEqual(99);
    expect(plotwire.ppgMaeBpm).toBeLessThanOrEqual(2);
    expect(plotwire.ecg.se).toBeGreaterThan(baseline.ecg.se);
    expect(plotwire.ppgMaeBpm).toBeLessThan(baseline.ppgMaeBpm);
    expect(r.summary.allMet).toBe(true);
    // Every record in each part: 6 records, left out one by one, under 5 noises at 4 SNRs; 8 subjects.
    expect(r.ecg.map((row) => row.record)).toEqual(['100', '102', '104', '114', '116', '121']);
    expect(r.loo.map((row) => Object.keys(row.params))).toEqual(r.ecg.map(() => ['threshold', 'searchback', 'twave-slope']));
    expect(r.noise).toHaveLength(6 * 5 * 4);
    expect(r.summary.noise.map((n) => n.snrDb)).toEqual([24, 18, 12, 6]);
    expect(r.ppg).toHaveLength(8);
    expect(r.ppg.filter((p) => p.unusable)).toEqual([]);
    expect(r.defaults).toMatchObject({ threshold: 31, searchback: 166, 'twave-slope': 50 });
  }, 300_000);

  it('clipped and flat PPG inputs are reported unusable, apart, with no wrong rate; a good subject stays usable', async () => {
    const dir = join(work, 'ppg');
    variant(dir, 'clipped71', 'subject_05', clipped('subject_05', 71));
    variant(dir, 'clipped85', 'subject_02', clipped('subject_02', 85));
    variant(dir, 'clipped100', 'subject_07', () => CAMERA_FULL_SCALE);
    variant(dir, 'flat', 'subject_03', () => 200);
    variant(dir, 'good', 'subject_06', (red) => red);
    const r = await evalHeart(['--only', 'ppg', '--ppg', dir]);
    const byName = new Map(r.ppg.map((p) => [p.record, p]));
    expect(byName.get('clipped71')!.inputClippedPct).toBeGreaterThanOrEqual(70);
    expect(byName.get('clipped100')!.inputClippedPct).toBe(100);
    for (const name of ['clipped71', 'clipped85', 'clipped100']) expect(byName.get(name)).toMatchObject({ unusable: true, reason: 'clipped' });
    expect(byName.get('flat')).toMatchObject({ unusable: true, reason: 'flat' });
    expect(byName.get('flat')!.plotwireBpm).toBeUndefined();
    expect(byName.get('clipped100')!.plotwireBpm).toBeUndefined();
    expect(byName.get('good')!.unusable).toBe(false);
    expect(r.summary.plotwire.ppgUnusable.sort()).toEqual(['clipped100', 'clipped71', 'clipped85', 'flat']);
    expect(r.summary.plotwire.ppgUsable).toBe(1);
    expect(r.summary.plotwire.ppgFailures).toEqual([]);
    expect(r.summary.plotwire.ppgMaeBpm).toBeLessThanOrEqual(2);
    // The ECG part did not run, so its targets are not counted.
    expect(r.ecg).toEqual([]);
    expect(r.summary.met).not.toHaveProperty('ecgSe');
    expect(r.summary.allMet).toBe(true);
  }, 120_000);
});

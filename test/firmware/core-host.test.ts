/**
 * The firmware's portable core on the host: its C++ unit tests (firmware/test, doctest) built with g++,
 * AddressSanitizer and UBSan, and the replay tool's lines checked against the protocol.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLES_PER_LINE, DEFAULT_SAMPLE_RATE_HZ, decodeDeviceLine } from '../../shared/index.js';
import { buildHostTests, buildReplay } from '../../firmware/tools/build.js';
import { beatsOf, replayDecoded, replayLines } from '../../firmware/tools/replay.js';
import { adcCodes, ecgVolts, readMitdbRecord } from '../../firmware/sim/recordings.js';
import { join } from 'node:path';

const run = promisify(execFile);
const heart = join(import.meta.dirname, '../data/heart');

describe('firmware core, host unit tests (g++ with sanitizers)', () => {
  it('every C++ test passes', async () => {
    const exe = await buildHostTests();
    const { stdout } = await run(exe, [], { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } }).catch((err: { stdout?: string; message: string }) => {
      throw new Error(`host tests failed:\n${err.stdout ?? err.message}`);
    });
    const cases = /test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed/.exec(stdout);
    expect(cases, stdout).not.toBeNull();
    expect(Number(cases![3])).toBe(0);
    expect(Number(cases![2])).toBeGreaterThanOrEqual(35);
  }, 120_000);
});

describe('replay: the lines the firmware would send', () => {
  beforeAll(async () => {
    await buildReplay();
  }, 60_000);

  it('every line of 60 s of a real ECG is a valid protocol line; samples are whole and in order', async () => {
    const rec = readMitdbRecord(join(heart, 'mitdb'), '100');
    const codes = adcCodes(ecgVolts(rec.counts.subarray(0, 360 * 60), DEFAULT_SAMPLE_RATE_HZ));
    const lines = await replayDecoded(codes);
    const hello = lines[0]!;
    expect(hello.kind).toBe('hello');
    expect(hello.line).toMatchObject({ rate: DEFAULT_SAMPLE_RATE_HZ, spl: DEFAULT_SAMPLES_PER_LINE, ch: ['ecg'], mode: 'ecg' });
    const samples = lines.filter((l) => l.kind === 'sample').map((l) => l.line as { n: number; t: number; ecg: number[] });
    expect(samples.flatMap((s) => s.ecg)).toEqual(Array.from(codes.subarray(0, samples.length * DEFAULT_SAMPLES_PER_LINE)));
    samples.forEach((s, i) => expect(s.t).toBe(i * 10));
    const ns = lines.slice(1).map((l) => (l.line as { n: number }).n);
    ns.forEach((n, i) => expect(n).toBe(i));
    // 100 has about 75 beats a minute.
    const beats = beatsOf(lines);
    expect(beats.length).toBeGreaterThan(65);
    expect(beats.at(-1)!.bpm).toBeGreaterThan(60);
    expect(beats.at(-1)!.bpm).toBeLessThan(90);
  });

  it('rejects input that is not an ADC value, naming the line', async () => {
    await expect(replayLines([512, 2000])).rejects.toThrow(/input line 2: expected an ADC value 0\.\.1023/);
  });

  it('a lead-off flag in the input gives a lead event and a lost status with no rate', async () => {
    const codes = new Array<number>(3000).fill(512);
    const leadOff = codes.map((_, i) => i >= 1000 && i < 2000);
    const lines = await replayDecoded(codes, { leadOff });
    const events = lines.filter((l) => l.kind === 'event').map((l) => l.line);
    expect(events).toContainEqual(expect.objectContaining({ ev: 'lead', off: true, t: 2000 }));
    expect(events).toContainEqual(expect.objectContaining({ ev: 'lead', off: false, t: 4000 }));
    for (const e of events) if (e.ev === 'quality') expect(e).not.toHaveProperty('bpm');
    for (const l of await replayLines(codes, { leadOff })) expect(() => decodeDeviceLine(l)).not.toThrow();
  });
});

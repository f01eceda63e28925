/**
 * The ESP32 firmware has no toolchain here, so it is built with g++ against a stand-in of the
 * arduino-esp32 API it uses (firmware/test/esp32), once per timer API it supports: 2.x
 * (timerBegin(num, divider, up), timerAlarmWrite, timerAlarmEnable, as espressif32@6 brings) and
 * 3.x (timerBegin(frequency), timerAlarm). Its types and calls are checked, and its tests run.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildEsp32StandIn } from '../../firmware/tools/build.js';

const run = promisify(execFile);

describe('the ESP32 firmware on a stand-in of arduino-esp32', () => {
  it.each([
    [2, []],
    // With lead-off pins (the env leaves them unwired: GPIO 10 and 11 are the flash's).
    [3, ['-DPW_LEAD_OFF_PLUS_PIN=25', '-DPW_LEAD_OFF_MINUS_PIN=26']],
  ] as const)('builds against arduino-esp32 %i.x and its tests pass', async (major, defines) => {
    const exe = await buildEsp32StandIn(major, defines);
    const { stdout } = await run(exe, []).catch((err: { stdout?: string; message: string }) => {
      throw new Error(`ESP32 stand-in tests failed:\n${err.stdout ?? err.message}`);
    });
    const cases = /test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed/.exec(stdout);
    expect(cases, stdout).not.toBeNull();
    expect(Number(cases![3])).toBe(0);
    expect(Number(cases![1])).toBeGreaterThanOrEqual(major === 3 ? 5 : 4);
  }, 120_000);
});

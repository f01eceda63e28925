/**
 * What ties the firmware to the rest: its version, the PlatformIO envs and baud users build with,
 * the Intel HEX loader the simulator needs, and a default configuration that fits its link.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BAUD, DEFAULT_SAMPLES_PER_LINE, DEFAULT_SAMPLE_RATE_HZ, MAX_LINE } from '../../shared/index.js';
import { IntelHexError, parseIntelHex } from '../../firmware/sim/intel-hex.js';
import { parseIni, readEnv } from '../../firmware/tools/platformio-ini.js';
import { sourcesOf } from '../../firmware/tools/build.js';

const root = join(import.meta.dirname, '../..');
const read = (p: string): string => readFileSync(join(root, p), 'utf8');

describe('firmware build configuration', () => {
  it('the firmware version in the hello line is the package version', () => {
    const { version } = JSON.parse(read('package.json')) as { version: string };
    expect(read('firmware/core/version.h')).toContain(`#define PW_FIRMWARE_VERSION "${version}"`);
  });

  it('platformio.ini has the uno, yun, esp32 and native envs, at the protocol baud', () => {
    const ini = parseIni(read('platformio.ini'));
    expect(readEnv(ini, 'uno').get('board_build.mcu')).toBe('atmega328p');
    expect(readEnv(ini, 'yun').get('board_build.mcu')).toBe('atmega32u4');
    expect(readEnv(ini, 'esp32').get('board')).toBe('esp32dev');
    // Pinned, so every build gets the same arduino-esp32 core (the stand-in tests cover its API).
    expect(readEnv(ini, 'esp32').get('platform')).toMatch(/^espressif32@\d+\.\d+\.\d+$/);
    expect(readEnv(ini, 'esp32').list('build_flags')).toContain('-Ifirmware/core');
    expect(readEnv(ini, 'native').get('platform')).toBe('native');
    expect(Number(readEnv(ini, 'uno').get('monitor_speed'))).toBe(DEFAULT_BAUD);
    const firmware = join(root, 'firmware');
    expect(sourcesOf(firmware, readEnv(ini, 'uno').list('build_src_filter')).map((f) => f.slice(firmware.length + 1))).toEqual(
      expect.arrayContaining(['main.cpp', 'core/beat_detector.cpp', 'core/monitor.cpp', 'boards/avr.cpp', 'boards/esp32.cpp']),
    );
    expect(() => readEnv(ini, 'mega')).toThrow('platformio.ini has no [env:mega]');
  });

  it('the default heart-rate output fits the default baud with room to spare', () => {
    // Longest sample line: {"n":65535,"t":4294967295,"ecg":[1023,1023,1023,1023,1023]}\n
    const sampleLine = `{"n":65535,"t":4294967295,"ecg":[${Array(DEFAULT_SAMPLES_PER_LINE).fill(1023).join(',')}]}\n`.length;
    const beatLine = '{"ev":"beat","n":65535,"t":4294967295,"bpm":250.0,"ibi":65535}\n'.length;
    const bytesPerSecond = (sampleLine * DEFAULT_SAMPLE_RATE_HZ) / DEFAULT_SAMPLES_PER_LINE + beatLine * 4;
    expect(sampleLine).toBeLessThan(MAX_LINE);
    expect(bytesPerSecond).toBeLessThan(0.75 * (DEFAULT_BAUD / 10));
  });
});

describe('Intel HEX loader', () => {
  it('loads data records at their addresses and leaves the rest erased', () => {
    const flash = parseIntelHex(':0400100001020304E2\n:00000001FF\n', 64);
    expect(Array.from(flash.subarray(0x10, 0x14))).toEqual([1, 2, 3, 4]);
    expect(flash[0]).toBe(0xff);
  });

  it('names the line of a bad checksum, a cut file and data beyond the flash', () => {
    expect(() => parseIntelHex(':0400100001020304E3\n:00000001FF\n', 64)).toThrow(new IntelHexError('line 1: bad checksum'));
    expect(() => parseIntelHex(':0400100001020304E2\n', 64)).toThrow(/no end-of-file record/);
    expect(() => parseIntelHex(':0400100001020304E2\n:00000001FF\n', 16)).toThrow(/line 1: data at 0x10 lies beyond the 16-byte flash/);
    expect(() => parseIntelHex('hello\n')).toThrow(/line 1: not an Intel HEX record/);
  });
});

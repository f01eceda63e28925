/**
 * The Yún's loop must never wait: on the 32u4, Serial's bool conversion (the usual way to see
 * whether a program has the USB port open) calls delay(10), most of a loop pass at 500 Hz. The
 * USB CDC cannot run in the simulator, so the image itself is read: every delay it can make is
 * one of the USB core's short timeouts, none of 10 ms.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_DIR } from '../../firmware/tools/build.js';

const ELF = join(BUILD_DIR, 'yun/firmware.elf');

/** The ms each call to delay() in the image waits, from its arguments or, where the compiler folded them in, its body. */
function delaysOf(disassembly: string): number[] {
  const lines = disassembly.split('\n');
  const bodies = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const l of lines) {
    const fn = /^[0-9a-f]+ <(.+)>:$/.exec(l);
    if (fn) bodies.set(fn[1]!, (current = []));
    else current?.push(l);
  }
  const ms: number[] = [];
  lines.forEach((l, i) => {
    const callee = /\bcall\b.*<(delay(?:\.constprop\.\d+)?)>/.exec(l)?.[1];
    if (!callee) return;
    if (callee === 'delay') {
      // The uint32 argument in r22..r25, loaded just before the call.
      const bytes = [22, 23, 24, 25].map((r) => {
        const load = lines.slice(Math.max(0, i - 8), i).reverse().find((x) => new RegExp(`\\bldi\\s+r${r},`).test(x));
        return Number(/0x([0-9a-f]+)/i.exec(load ?? '')?.[0] ?? NaN);
      });
      ms.push(bytes[0]! + 256 * bytes[1]! + 65536 * bytes[2]! + 16777216 * bytes[3]!);
    } else {
      // The argument folded in: the body compares micros() against ms * 1000 (cpi r24 / sbci r25).
      const body = bodies.get(callee)!.join('\n');
      const lo = /cpi\s+r24, (0x[0-9a-f]+)/i.exec(body)?.[1];
      const hi = /sbci\s+r25, (0x[0-9a-f]+)/i.exec(body)?.[1];
      ms.push((Number(lo) + 256 * Number(hi)) / 1000);
    }
  });
  return ms;
}

describe('the Yún image', () => {
  it('never delays 10 ms (it reads the port state with Serial.dtr(), not Serial\'s bool conversion)', () => {
    if (!existsSync(ELF)) throw new Error(`${ELF} is missing: npm test builds it (npm run firmware)`);
    const delays = delaysOf(execFileSync('avr-objdump', ['-d', '-C', ELF], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    expect(delays.length).toBeGreaterThan(0);
    for (const ms of delays) expect(ms).toBeLessThan(10);
  });
});

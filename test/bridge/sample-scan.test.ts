import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeDeviceLine } from '../../shared/index.js';
import { SampleScan } from '../../bridge/sample-scan.js';

/** What the ordinary path makes of a line: the sample line, or undefined for anything else. */
function reference(text: string): unknown {
  try {
    const d = decodeDeviceLine(text);
    return d.kind === 'sample' ? d.line : undefined;
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}

const scan = new SampleScan();

function fast(text: string): unknown {
  // Surrounded by other bytes, as in a serial read: the decoder must not look past its line.
  const buf = Buffer.from(`9]}\n${text}\n.5e1,`);
  // One scan reused for every line, as the bridge does: nothing may leak from line to line.
  return scan.read(buf, 4, 4 + Buffer.byteLength(text)) ? scan.toLine() : undefined;
}

describe('SampleScan.read', () => {
  it.each([
    '{"n":18,"t":4130,"ecg":[512,515,530,601,702]}',
    '{"temp":21.5}',
    '{ "n" : 0 , "v" : -0 }',
    '{"v":1e3,"w":-2.5E-3,"x":123456789012345678,"y":0.1}',
    '{"a":[1],"b":[1.5, -2, 3e2]}',
    '{"t":4294967295,"n":65535,"v":0}',
  ])('decodes the plain sample %s exactly as JSON.parse does', (text) => {
    const got = fast(text);
    expect(got).toBeDefined();
    expect(got).toStrictEqual(reference(text));
    for (const [k, v] of Object.entries(got as object)) expect(Object.is(v, (JSON.parse(text) as Record<string, unknown>)[k]) || Array.isArray(v)).toBe(true);
  });

  it.each([
    '{"hello":1,"fw":"1","board":"uno","rate":500,"ch":["v"]}',
    '{"ev":"beat","bpm":72,"ibi":833}',
    '{"n":70000,"v":1}',
    '{"n":1.5,"v":1}',
    '{"t":-1,"v":1}',
    '{"n":1}',
    '{}',
    '{"v":01}',
    '{"v":1.}',
    '{"v":.5}',
    '{"v":1e}',
    '{"v":[]}',
    '{"v":[1,]}',
    `{"v":[${Array(17).fill(1).join(',')}]}`,
    '{"v":[[1]]}',
    '{"v":true}',
    '{"v":"1"}',
    '{"v":1,"v":2}',
    '{"v":1}x',
    '{"v":1',
    '{"\\u0076":1}',
    '{"é":1}',
    '{"v":1e400}',
    '{"__proto__":1}',
    'Booting...',
    '',
  ])('leaves %s to the ordinary path', (text) => {
    expect(fast(text)).toBeUndefined();
  });

  it('never disagrees with JSON.parse + classifyDeviceLine on generated lines', () => {
    const keys = ['"n"', '"t"', '"ecg"', '"v"', '"a b"', '"hello"', '"ev"', '"toString"', '"é"', '"\\u0041"', 'n', '"n'];
    const numbers = ['0', '-0', '1', '65535', '65536', '4294967295', '4294967296', '-1', '1.5', '1e3', '1E+2', '2e-3', '01', '1.', '.5', '-', '1e', '123456789012345678', '1e400', 'NaN'];
    const values = [...numbers, '[]', '[1]', '[1,2]', '[ 1 , 2.5 ]', '[1,]', `[${Array(16).fill(3).join(',')}]`, `[${Array(17).fill(3).join(',')}]`, '[[1]]', 'true', 'null', '"x"', '{}'];
    const spaces = ['', '', '', ' ', '\t'];
    let seed = 12345;
    const pick = <T>(a: readonly T[]): T => a[((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 8) % a.length]!;
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      const members = Array.from({ length: pick([1, 2, 3, 4]) }, () => `${pick(spaces)}${pick(keys)}${pick(spaces)}:${pick(spaces)}${pick(values)}${pick(spaces)}`);
      const text = `${pick(spaces)}{${members.join(pick([',', ',', ',', ';']))}}${pick(['', '', ' ', 'x'])}`;
      const got = fast(text);
      if (got === undefined) continue;
      accepted++;
      expect(got, text).toStrictEqual(reference(text));
    }
    expect(accepted).toBeGreaterThan(1_000);
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_LINE, MAX_SAMPLES_PER_LINE, ProtocolError, decodeDeviceLine, isChannelKey } from '../../shared/index.js';

function rejection(text: string): ProtocolError {
  try {
    decodeDeviceLine(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error(`accepted ${text}`);
}

describe('device lines: valid', () => {
  it.each([
    ['hello', '{"hello":1,"fw":"0.1.0","board":"uno","rate":500,"ch":["ecg"],"spl":5,"mode":"ecg"}'],
    ['hello', '{"hello":1,"fw":"0.1.0","board":"esp32","rate":250,"ch":["a0","a1"],"future":"ignored"}'],
    ['sample', '{"temp":21.5}'],
    ['sample', '{"n":65535,"t":4294967295,"ecg":[512,515,530,601,702]}'],
    ['sample', '{"n":0,"t":0,"a0":-1.5e3,"a1":0}'],
    ['event', '{"ev":"beat","bpm":72,"ibi":833,"n":17,"t":4123}'],
    // The first beat after a gap: no interval and no rate known yet.
    ['event', '{"ev":"beat","n":18,"t":5000}'],
    ['event', '{"ev":"quality","sig":"clipped","q":0,"n":19,"t":5500}'],
    ['event', '{"ev":"lead","off":true}'],
    ['event', '{"ev":"quality","sig":"flat","q":0,"bpm":0}'],
    ['event', '{"ev":"log","lvl":"warn","msg":"ADC saturated"}'],
    ['event', '{"ev":"drop","lines":3,"n":9}'],
  ])('%s: %s', (kind, text) => {
    const decoded = decodeDeviceLine(text);
    expect(decoded.kind).toBe(kind);
    expect(decoded.line).toEqual(JSON.parse(text));
  });

  it('treats every key but n and t as a channel', () => {
    expect(['n', 't', 'temp', 'ecg', 'N'].filter(isChannelKey)).toEqual(['temp', 'ecg', 'N']);
  });
});

describe('device lines: each kind is rejected with the field and the rule', () => {
  it.each([
    // [line, message kind, field, words of the rule]
    ['garbage from boot', 'device line', '', 'is not valid JSON'],
    ['[1,2,3]', 'device line', '', 'must be a JSON object'],
    ['42', 'device line', '', 'must be a JSON object'],
    ['{"hello":1,"fw":"0.1","board":"uno","rate":500}', 'hello line', 'ch', 'is required'],
    ['{"hello":0,"fw":"0.1","board":"uno","rate":500,"ch":["a"]}', 'hello line', 'hello', 'protocol version'],
    ['{"hello":1,"fw":"0.1","board":"uno","rate":0,"ch":["a"]}', 'hello line', 'rate', 'above 0'],
    ['{"hello":1,"fw":"0.1","board":"uno","rate":500,"ch":["ecg",3]}', 'hello line', 'ch[1]', 'a channel name'],
    ['{"hello":1,"fw":"0.1","board":"uno","rate":500,"ch":["a"],"spl":99}', 'hello line', 'spl', `from 1 to ${MAX_SAMPLES_PER_LINE}`],
    ['{"n":70000,"ecg":1}', 'sample line', 'n', 'an integer from 0 to 65535'],
    ['{"n":1.5,"ecg":1}', 'sample line', 'n', 'an integer from 0 to 65535'],
    ['{"t":-1,"ecg":1}', 'sample line', 't', 'an integer from 0 to 4294967295'],
    ['{"n":1,"ecg":"high"}', 'sample line', 'ecg', 'a channel value'],
    ['{"n":1,"ecg":{"v":1}}', 'sample line', 'ecg', 'a channel value'],
    ['{"n":1,"ecg":[]}', 'sample line', 'ecg', 'an array of 1 to'],
    [`{"ecg":[${Array(MAX_SAMPLES_PER_LINE + 1).fill(1).join(',')}]}`, 'sample line', 'ecg', `an array of 1 to ${MAX_SAMPLES_PER_LINE}`],
    ['{"n":1,"t":2}', 'sample line', '', 'at least one channel'],
    ['{}', 'sample line', '', 'at least one channel'],
    ['{"ev":"boom"}', 'event line', 'ev', 'one of beat, lead, quality, log, drop'],
    ['{"ev":7}', 'event line', 'ev', 'the event type'],
    ['{"ev":"beat","ibi":-1}', 'event line', 'ibi', 'from 0 to 65535'],
    ['{"ev":"beat","bpm":900,"ibi":66}', 'event line', 'bpm', 'from 0 to 400'],
    ['{"ev":"beat","bpm":72,"ibi":833,"ecg":1}', 'event line', 'ecg', 'is not a key of this message'],
    ['{"ev":"lead","off":1}', 'event line', 'off', 'true or false'],
    ['{"ev":"quality","sig":"meh"}', 'event line', 'sig', 'one of ok, noisy, flat, lost, clipped, weak'],
    ['{"ev":"quality","sig":"ok","q":101}', 'event line', 'q', 'from 0 to 100'],
    ['{"ev":"log","lvl":"loud","msg":"x"}', 'event line', 'lvl', 'one of debug, info, warn, error'],
    ['{"ev":"log"}', 'event line', 'msg', 'is required'],
    ['{"ev":"drop","lines":0}', 'event line', 'lines', 'an integer >= 1'],
  ])('%s', (text, kind, field, rule) => {
    const err = rejection(text);
    expect(err.kind).toBe(kind);
    expect(err.field).toBe(field);
    expect(err.rule).toContain(rule);
    expect(err.message).toContain(rule);
    if (field) expect(err.message).toContain(`"${field}"`);
  });

  it('rejects a line of MAX_LINE characters or more before parsing it', () => {
    const long = `{"a":"${'x'.repeat(MAX_LINE)}"}`;
    const err = rejection(long);
    expect(err.rule).toContain(`shorter than ${MAX_LINE} bytes`);
  });

  it('gives machines a stable code', () => {
    expect(rejection('nope').code).toBe('PW_ERR_NOT_JSON');
    expect(rejection('{"n":-1,"a":1}').code).toBe('PW_ERR_INVALID');
  });
});

describe('isSampleLine (the fast path) agrees with the SampleLine schema', () => {
  it('on generated valid and invalid lines', async () => {
    const { isSampleLine, SampleLine, isChannelKey } = await import('../../shared/device-lines.js');
    const { TypeCompiler } = await import('@sinclair/typebox/compiler');
    const schema = TypeCompiler.Compile(SampleLine);
    const values: unknown[] = [0, 1, -1, 65535, 65536, 4294967295, 4294967296, 1.5, -0, '1', null, true, [], [1], [1, 2.5], ['1'], [null], Array(16).fill(1), Array(17).fill(1), {}, [[1]]];
    let seed = 7;
    const pick = <T>(a: readonly T[]): T => a[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % a.length]!;
    let agreed = 0;
    for (let i = 0; i < 20_000; i++) {
      const line: Record<string, unknown> = {};
      const keys = pick([0, 1, 2, 3, 4]);
      for (let k = 0; k < keys; k++) line[pick(['n', 't', 'ecg', 'v', 'temp'])] = pick(values);
      const want = schema.Check(line) && Object.keys(line).some(isChannelKey);
      expect(isSampleLine(line), JSON.stringify(line)).toBe(want);
      agreed++;
    }
    expect(agreed).toBe(20_000);
  });
});

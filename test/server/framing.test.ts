/** The streaming endpoint's framing rules, one at a time. */
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder, FramingError } from '../../server/ingest/chunked-decoder.js';
import { LineSplitter, LineTooLongError } from '../../server/ingest/line-splitter.js';
import { headEnd, parseHead } from '../../server/ingest/request-head.js';

function decode(parts: string[]): { data: string; ended: boolean; after: string } {
  let data = '';
  let ended = false;
  let after = '';
  const d = new ChunkedDecoder(
    (b) => (data += b.toString()),
    (rest) => {
      ended = true;
      after = rest.toString();
    },
  );
  for (const p of parts) d.push(Buffer.from(p));
  return { data, ended, after };
}

describe('ChunkedDecoder', () => {
  it('decodes chunks split at any byte', () => {
    const body = 'E\r\n{"x":1,"y":2}\n\r\n1\r\n\n\r\n0\r\n\r\n';
    for (let cut = 1; cut < body.length; cut++) {
      expect(decode([body.slice(0, cut), body.slice(cut)])).toEqual({ data: '{"x":1,"y":2}\n\n', ended: true, after: '' });
    }
  });
  it("skips plotly.py's blank line before the last chunk", () => {
    expect(decode(['1\r\n\n\r\n', '\r\n0\r\n\r\n'])).toMatchObject({ data: '\n', ended: true });
  });
  it('ignores chunk extensions and accepts lower-case hex and bare LF', () => {
    expect(decode(['a;name=v\r\n0123456789\r\n', '0\n\n'])).toMatchObject({ data: '0123456789', ended: true });
  });
  it('reads trailers up to the blank line and reports bytes after the end', () => {
    expect(decode(['0\r\nX-Trailer: 1\r\n\r\nextra'])).toEqual({ data: '', ended: true, after: 'extra' });
  });
  it.each([
    ['zz\r\n', 'invalid chunk size'],
    ['3\r\nabcd\r\n', 'longer than its declared size'],
    [`${'1'.repeat(1100)}`, 'too long'],
    ['FFFFFFF\r\n', 'over the'],
  ])('refuses %j', (input, message) => {
    expect(() => decode([input])).toThrow(FramingError);
    expect(() => decode([input])).toThrow(message);
  });
});

describe('LineSplitter', () => {
  it('splits on newlines across pushes and keeps the unfinished rest', () => {
    const lines: string[] = [];
    const s = new LineSplitter(100, (l) => lines.push(l));
    s.push(Buffer.from('ab\ncd'));
    s.push(Buffer.from('ef\n\ngh'));
    expect(lines).toEqual(['ab', 'cdef', '']);
    expect(s.rest).toBe('gh');
  });
  it('keeps multi-byte characters split across pushes whole', () => {
    const lines: string[] = [];
    const s = new LineSplitter(100, (l) => lines.push(l));
    const bytes = Buffer.from('{"text":"é♥"}\n');
    s.push(bytes.subarray(0, 11));
    s.push(bytes.subarray(11));
    expect(lines).toEqual(['{"text":"é♥"}']);
  });
  it('refuses a line over the limit without holding it', () => {
    const s = new LineSplitter(8, () => undefined);
    s.push(Buffer.from('12345'));
    expect(() => s.push(Buffer.from('6789'))).toThrow(LineTooLongError);
  });
});

describe('request head', () => {
  it('keeps repeated headers and lower-cases names', () => {
    const head = parseHead('POST / HTTP/1.1\r\nHost: a\r\nHost: a\r\nPlotly-StreamToken: t\r\n');
    expect(head.method).toBe('POST');
    expect(head.headers.get('host')).toEqual(['a', 'a']);
    expect(head.headers.get('plotly-streamtoken')).toEqual(['t']);
  });
  it('finds the end of the head with CRLF or LF', () => {
    expect(headEnd(Buffer.from('GET / HTTP/1.1\r\n\r\nbody'))).toBe(18);
    expect(headEnd(Buffer.from('GET / HTTP/1.1\n\nbody'))).toBe(16);
    expect(headEnd(Buffer.from('GET / HTTP/1.1\r\n'))).toBe(-1);
  });
  it.each(['GET /', 'post / HTTP/1.1', 'POST / HTTP/2.0', 'POST / HTTP/1.1\r\nno colon'])('refuses %j', (text) => {
    expect(() => parseHead(text)).toThrow(/malformed/);
  });
});

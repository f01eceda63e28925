/** The streaming endpoint's framing rules, one at a time. */
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder, FramingError } from '../../server/ingest/chunked-decoder.js';
import { LineTooLongError, StreamLineFramer } from '../../server/ingest/stream-line-framer.js';
import { headEnd, parseHead } from '../../server/ingest/request-head.js';
import { chunk, rawExchange } from './helpers.js';

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
  it('takes the data of a chunk that holds more than it declares, up to the next CRLF (the Arduino libraries)', () => {
    // Sized for a 10-character token but carrying a 20-character one, then one a byte short
    // (Arduino's float printed with a carry): both objects whole, the next chunk read as usual.
    const long = '{"x": 1, "y": 2, "streamtoken": "abcdefghijklmnopqrst"}\n';
    const carry = '{"x": 2, "y": 10.00, "streamtoken": "abcdefghij"}\n';
    const body = `${(long.length - 10).toString(16)}\r\n${long}\r\n${(carry.length - 1).toString(16)}\r\n${carry}\r\n2\r\n{}\r\n0\r\n\r\n`;
    for (let cut = 1; cut < body.length; cut++) {
      expect(decode([body.slice(0, cut), body.slice(cut)])).toEqual({ data: `${long}${carry}{}`, ended: true, after: '' });
    }
  });
  it.each([
    ['zz\r\n', 'invalid chunk size'],
    [`${'1'.repeat(1100)}`, 'too long'],
    ['FFFFFFF\r\n', 'over the'],
  ])('refuses %j', (input, message) => {
    expect(() => decode([input])).toThrow(FramingError);
    expect(() => decode([input])).toThrow(message);
  });
});

describe('StreamLineFramer', () => {
  it('splits on newlines across pushes and keeps the unfinished rest', () => {
    const lines: string[] = [];
    const s = new StreamLineFramer(100, (l) => lines.push(l));
    s.push(Buffer.from('ab\ncd'));
    s.push(Buffer.from('ef\n\ngh'));
    expect(lines).toEqual(['ab', 'cdef', '']);
    expect(s.rest).toBe('gh');
  });
  it('keeps multi-byte characters split across pushes whole', () => {
    const lines: string[] = [];
    const s = new StreamLineFramer(100, (l) => lines.push(l));
    const bytes = Buffer.from('{"text":"é♥"}\n');
    s.push(bytes.subarray(0, 11));
    s.push(bytes.subarray(11));
    expect(lines).toEqual(['{"text":"é♥"}']);
  });
  it('refuses a line over the limit without holding it', () => {
    const s = new StreamLineFramer(8, () => undefined);
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

describe("why the stream endpoint has its own parser", () => {
  // When node:http accepts these bytes, this test fails: the raw stream parser (raw-stream.ts,
  // chunked-decoder.ts) is then no longer needed, and streams can go through node:http alone.
  it("node's own HTTP parser still refuses plotly.py's close (an extra CRLF before the last chunk)", async () => {
    let ended = 0;
    const http = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        ended++;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const port = (http.address() as AddressInfo).port;
      const head = 'POST / HTTP/1.1\r\nHost: stream.plot.ly\r\nHost: stream.plot.ly\r\nAccept-Encoding: identity\r\nplotly-streamtoken: t\r\nTransfer-Encoding: chunked\r\n\r\n';
      const closed = await rawExchange(port, [head, chunk('{"x": 1, "y": 10}\n'), '1\r\n\n\r\n', '\r\n0\r\n\r\n']);
      expect(closed.status).toBe(400);
      expect(ended).toBe(0);
      // The same body with a plain close is fine: it is the extra CRLF that node refuses.
      const plain = await rawExchange(port, [head, chunk('{"x": 1, "y": 10}\n'), '1\r\n\n\r\n', '0\r\n\r\n']);
      expect(plain.status).toBe(200);
      expect(ended).toBe(1);
    } finally {
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});

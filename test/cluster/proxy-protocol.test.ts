/**
 * --proxy-protocol: behind HAProxy's send-proxy every connection comes from the balancer; the
 * per-address limits must count the clients its PROXY lines name.
 */
import { describe, expect, it } from 'vitest';
import { proxiedAddress } from '../../server/listener.js';
import { rawExchange, withTestServer } from '../server/helpers.js';

const health = 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
const line = (client: string): string => `PROXY TCP4 ${client} 127.0.0.1 40000 8080\r\n`;

describe('PROXY protocol v1', () => {
  it('reads the client from the line, strips it, and counts connections per client', async () => {
    await withTestServer({ proxyProtocol: true, maxConnectionsPerAddress: 1 }, async (t) => {
      // One connection from 10.1.2.3 held open: a second from it is refused, one from another client is not.
      const held = rawExchange(t.port, [line('10.1.2.3'), 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'], { keepOpen: true });
      await new Promise((r) => setTimeout(r, 200));
      const again = await rawExchange(t.port, [line('10.1.2.3'), health]);
      expect(again.status).toBe(503);
      expect(again.json.error).toContain('from 10.1.2.3');
      const other = await rawExchange(t.port, [line('10.9.9.9'), health]);
      expect(other.status).toBe(200);
      // Split across reads, and a stream after it: the raw stream parser never sees the line.
      const stream = await rawExchange(t.port, ['PROX', `Y TCP4 10.7.7.7 127.0.0.1 1 2\r\nPOST / HTTP/1.1\r\nHost: x\r\nplotly-streamtoken: ${t.newToken()}\r\nContent-Length: 0\r\n\r\n`]);
      expect(stream.status).toBe(200);
      void held;
    });
  });

  it('a connection without the line counts by its own address; a malformed line is a 400', async () => {
    await withTestServer({ proxyProtocol: true }, async (t) => {
      expect((await rawExchange(t.port, [health])).status).toBe(200);
      const bad = await rawExchange(t.port, ['PROXY TCP4 nonsense\r\n', health]);
      expect(bad.status).toBe(400);
      expect(bad.json.error).toContain('PROXY protocol line is malformed');
    });
  });

  it('parses the forms of the specification', () => {
    expect(proxiedAddress('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443')).toBe('192.168.0.1');
    expect(proxiedAddress('PROXY TCP6 ::1 ::1 56324 443')).toBe('::1');
    expect(proxiedAddress('PROXY UNKNOWN')).toBeUndefined();
    expect(proxiedAddress('PROXY UNKNOWN ffff::1 ffff::1 1 2')).toBeUndefined();
    expect(proxiedAddress('PROXY TCP4 1.2.3.4')).toBeNull();
    expect(proxiedAddress('GET / HTTP/1.1')).toBeNull();
  });
});

/**
 * The streaming endpoint through node:http, for a POST / that arrives on a connection node:http
 * already owns (a kept-alive socket). Strict framing; fresh connections get the forgiving parser.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STREAM_TOKEN_HEADER, STREAM_WRITER_HEADER } from '../../shared/index.js';
import { CONVERT_TIMESTAMP_HEADER } from './board-clock.js';
import type { Ingest } from './ingest.js';
import { StreamSession, streamEnd, type StreamEnd } from './stream-session.js';

export function serveHttpStream(req: IncomingMessage, res: ServerResponse, ingest: Ingest): void {
  const finish = (end: StreamEnd): void => {
    if (res.headersSent) return;
    res.writeHead(end.status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify(end.body));
  };
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const opened = ingest.open({ token: header(STREAM_TOKEN_HEADER), writer: header(STREAM_WRITER_HEADER), convertTimestamp: header(CONVERT_TIMESTAMP_HEADER) }, finish);
  if (!(opened instanceof StreamSession)) return finish(opened);
  const session = opened;
  req.on('data', (buf: Buffer) => session.data(buf));
  req.on('end', () => session.endOfBody());
  req.on('close', () => session.end(streamEnd(520, { error: 'the connection closed before the stream ended' })));
}

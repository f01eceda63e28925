/**
 * The streaming endpoint on a raw socket: head, body framing and answer written here, so the
 * odd bytes of legacy Plotly clients are accepted (see chunked-decoder.ts). One request per
 * connection; the answer ends the connection.
 */
import type { Duplex } from 'node:stream';
import { STREAM_TOKEN_HEADER, STREAM_WRITER_HEADER, statusOf } from '../../shared/index.js';
import { CONVERT_TIMESTAMP_HEADER } from './board-clock.js';
import { ChunkedDecoder, FramingError } from './chunked-decoder.js';
import type { Ingest } from './ingest.js';
import { HeadError, MAX_HEAD, header, headEnd, parseHead, type RequestHead } from './request-head.js';
import { StreamSession, streamEnd, type StreamEnd } from './stream-session.js';

export interface RawStreamOptions {
  /** Time allowed for the request head to arrive. */
  readonly headTimeoutMs: number;
  /** Whether any path is a stream (the separate stream port) or only "/". */
  readonly anyPath: boolean;
  /** A fault of the server's own (answered 500), for the log. */
  readonly onFault: (err: unknown) => void;
}

/** How long after the end of a body the answer waits for bytes that would make it a 308. */
export const END_GRACE_MS = 50;

export function answer(socket: Duplex, end: StreamEnd): void {
  if (socket.destroyed || !socket.writable) return;
  const body = JSON.stringify(end.body);
  socket.end(
    `HTTP/1.1 ${end.status} ${statusOf(end.status)?.name ?? 'Error'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // A writer that never reads must not hold the socket open.
  setTimeout(() => socket.destroy(), 2000).unref();
}

export function serveRawStream(socket: Duplex, first: Buffer, ingest: Ingest, options: RawStreamOptions): void {
  let buffered: Buffer = Buffer.alloc(0);
  let session: StreamSession | undefined;
  let decode: ((buf: Buffer) => void) | undefined;
  const headTimer = setTimeout(() => answer(socket, streamEnd(408, { error: 'the request head did not arrive in time' })), options.headTimeoutMs);

  const finish = (end: StreamEnd): void => answer(socket, end);

  const onHead = (head: RequestHead, body: Buffer): void => {
    clearTimeout(headTimer);
    const path = head.target.split('?')[0];
    if (!options.anyPath && path !== '/') return finish(streamEnd(404, { error: `streams go to POST /, not ${path}` }));
    if (head.method !== 'POST') return finish(streamEnd(405, { error: `${head.method} cannot stream: use POST` }));
    const opened = ingest.open(
      { token: header(head, STREAM_TOKEN_HEADER), writer: header(head, STREAM_WRITER_HEADER), convertTimestamp: header(head, CONVERT_TIMESTAMP_HEADER) },
      finish,
    );
    if (!(opened instanceof StreamSession)) return finish(opened);
    session = opened;
    const s = opened;
    if (header(head, 'expect')?.toLowerCase() === '100-continue') socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    const framing = header(head, 'transfer-encoding')?.toLowerCase() ?? '';
    const length = header(head, 'content-length');
    // Bytes after the end of the body, other than blank lines, mean the writer went on after its
    // end (308). They may come in the same read as the end or in a later one: the answer waits
    // END_GRACE_MS (or the writer's FIN) for them, so the rule does not depend on read boundaries.
    let grace: NodeJS.Timeout | undefined;
    const afterEnd = (after: Buffer): void => {
      if (s.ended) return;
      if (after.toString('latin1').trim() !== '') {
        clearTimeout(grace);
        return s.end(streamEnd(308, { error: 'data arrived after the end of the stream', ...s.summary() }));
      }
      if (grace) return;
      const done = (): void => {
        clearTimeout(grace);
        s.endOfBody();
      };
      grace = setTimeout(done, END_GRACE_MS);
      socket.once('end', done);
    };
    if (framing.includes('chunked')) {
      const decoder = new ChunkedDecoder((data) => s.data(data), afterEnd);
      decode = (buf) => decoder.push(buf);
    } else if (length !== undefined && /^\d+$/.test(length)) {
      let remaining = Number(length);
      decode = (buf) => {
        const take = buf.subarray(0, remaining);
        remaining -= take.length;
        if (take.length) s.data(take);
        if (remaining === 0) afterEnd(buf.subarray(take.length));
      };
      if (remaining === 0) afterEnd(Buffer.alloc(0));
    } else {
      // No framing: the body runs until the writer closes its side.
      decode = (buf) => s.data(buf);
      socket.once('end', () => s.endOfBody());
    }
    if (body.length) feed(body);
  };

  const feed = (buf: Buffer): void => {
    if (!session || session.ended || !decode) return;
    session.activity();
    try {
      decode(buf);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      // Plotly's 400 (malformed request); 520 is for a stream that broke off, not one framed wrong.
      session.end(streamEnd(400, { error: `bad chunk framing: ${err.message}`, ...session.summary() }));
    }
  };

  const onData = (buf: Buffer): void => {
    if (session) return feed(buf);
    buffered = buffered.length ? Buffer.concat([buffered, buf]) : buf;
    const end = headEnd(buffered);
    if (end < 0) {
      if (buffered.length > MAX_HEAD) finish(streamEnd(400, { error: `request head larger than ${MAX_HEAD} bytes` }));
      return;
    }
    let head: RequestHead;
    try {
      head = parseHead(buffered.subarray(0, end).toString('latin1'));
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      return finish(streamEnd(400, { error: err.message }));
    }
    const rest = buffered.subarray(end);
    buffered = Buffer.alloc(0);
    onHead(head, rest);
  };

  socket.on('data', (buf: Buffer) => {
    try {
      onData(buf);
    } catch (err) {
      options.onFault(err);
      if (session && !session.ended) session.end(streamEnd(500, { error: 'internal server error' }));
      else finish(streamEnd(500, { error: 'internal server error' }));
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    clearTimeout(headTimer);
    // The writer vanished mid-stream: what it sent is kept; there is no one to answer.
    session?.end(streamEnd(520, { error: 'the connection closed before the stream ended' }));
  });
  if (first.length) socket.emit('data', first);
}

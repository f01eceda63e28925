/**
 * A forgiving decoder of HTTP/1.1 chunked bodies, for the streaming endpoint only. Legacy Plotly
 * clients send bytes strict parsers (Node's llhttp) reject: plotly.py closes with
 * "\r\n0\r\n\r\n", an extra CRLF where a chunk size belongs. Blank lines before a size are
 * skipped; anything else malformed is a FramingError (520, error in request stream).
 */
import { PlotwireError } from '../../shared/errors.js';

export class FramingError extends PlotwireError {
  readonly code = 'PW_ERR_FRAMING';
}

const MAX_SIZE_LINE = 1024;
const MAX_CHUNK = 16 * 1024 * 1024;

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

export class ChunkedDecoder {
  private state: State = 'size';
  private line = '';
  private remaining = 0;

  constructor(
    private readonly onData: (data: Buffer) => void,
    /** Called once, at the terminating chunk, with any bytes that followed it in the same read. */
    private readonly onEnd: (after: Buffer) => void,
  ) {}

  get done(): boolean {
    return this.state === 'done';
  }

  /** Feeds body bytes; bytes after the end are not read. */
  push(buf: Buffer): void {
    if (this.state === 'done') return;
    let i = 0;
    while (i < buf.length) {
      if (this.done) break;
      if (this.state === 'data') {
        const n = Math.min(this.remaining, buf.length - i);
        this.onData(buf.subarray(i, i + n));
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      // size, data-end and trailer read CRLF-terminated lines.
      const nl = buf.indexOf(10, i);
      const end = nl < 0 ? buf.length : nl;
      this.line += buf.toString('latin1', i, end);
      if (this.line.length > MAX_SIZE_LINE) throw new FramingError('a chunk-size line is too long');
      i = end;
      if (nl < 0) break;
      i++;
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      this.endOfLine(line);
    }
    // Bytes after the terminating chunk tell the caller the writer went on after its end.
    if (this.done) this.onEnd(buf.subarray(i));
  }

  private endOfLine(line: string): void {
    switch (this.state) {
      case 'data-end':
        if (line !== '') throw new FramingError('chunk data is longer than its declared size');
        this.state = 'size';
        return;
      case 'size': {
        if (line.trim() === '') return; // plotly.py's stray CRLF
        const hex = (line.split(';')[0] as string).trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new FramingError(`invalid chunk size ${JSON.stringify(line.slice(0, 20))}`);
        const size = parseInt(hex, 16);
        if (size > MAX_CHUNK) throw new FramingError(`chunk of ${size} bytes is over the ${MAX_CHUNK}-byte limit`);
        this.remaining = size;
        this.state = size === 0 ? 'trailer' : 'data';
        return;
      }
      case 'trailer':
        if (line === '') this.state = 'done';
        return;
    }
  }
}

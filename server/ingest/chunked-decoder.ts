/**
 * A forgiving decoder of HTTP/1.1 chunked bodies, for the streaming endpoint only, where the
 * newline, not the chunk, delimits objects. Legacy Plotly clients send bytes strict parsers
 * (Node's llhttp) reject:
 * - plotly.py closes with "\r\n0\r\n\r\n", an extra CRLF where a chunk size belongs: blank lines
 *   before a size are skipped.
 * - Plotly's Arduino libraries compute each chunk's size assuming 10-character tokens and print a
 *   float with fewer digits than they counted (or more, when rounding carries), so a chunk may hold
 *   more bytes than it declares: when its data is not followed by CRLF, the data runs on to the
 *   next CRLF. (One that holds fewer is not told apart from data; its next line fails as JSON.)
 * Anything else malformed is a FramingError (the stream answers 400).
 */
import { PlotwireError } from '../../shared/errors.js';

export class FramingError extends PlotwireError {
  readonly code = 'PW_ERR_FRAMING';
}

const MAX_SIZE_LINE = 1024;
const MAX_CHUNK = 16 * 1024 * 1024;
const CR = 0x0d;
const LF = 0x0a;

/**
 * size: reading a chunk-size line; data: `remaining` declared bytes to go; data-end: the CRLF
 * after them is due; cr: a CR came (after the data, or in undeclared data), an LF ends the
 * chunk; after-lf: a bare LF ended the data, and a CR next would mean that LF was data (Arduino:
 * "...}\n\r\n" one byte over); overrun: undeclared data, up to the next CRLF; trailer: after
 * the last chunk.
 */
type State = 'size' | 'data' | 'data-end' | 'cr' | 'after-lf' | 'overrun' | 'trailer' | 'done';

const LF_BYTE = Buffer.from([LF]);
const CR_BYTE = Buffer.from([CR]);

export class ChunkedDecoder {
  private state: State = 'size';
  private line = '';
  private remaining = 0;
  /** Data bytes that came beyond what their chunks declared (the Arduino libraries' arithmetic). */
  overrunBytes = 0;

  constructor(
    private readonly onData: (data: Buffer) => void,
    /** Called at the terminating chunk with the bytes that followed it in the same read, and with every later read. */
    private readonly onEnd: (after: Buffer) => void,
  ) {}

  get done(): boolean {
    return this.state === 'done';
  }

  /** Feeds body bytes; bytes after the end go to onEnd, never to onData. */
  push(buf: Buffer): void {
    let i = 0;
    while (i < buf.length && this.state !== 'done') {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          this.onData(buf.subarray(i, i + n));
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end': {
          const b = buf[i] as number;
          if (b === CR) [this.state, i] = ['cr', i + 1];
          else if (b === LF) [this.state, i] = ['after-lf', i + 1];
          else this.state = 'overrun';
          break;
        }
        case 'after-lf':
          if (buf[i] === CR) {
            // "\n\r\n": the LF was the object's own newline, one byte past the declared size.
            this.overrun(LF_BYTE);
            [this.state, i] = ['cr', i + 1];
          } else this.state = 'size';
          break;
        case 'overrun': {
          const cr = buf.indexOf(CR, i);
          const end = cr < 0 ? buf.length : cr;
          if (end > i) this.overrun(buf.subarray(i, end));
          i = end;
          if (cr >= 0) [this.state, i] = ['cr', i + 1];
          break;
        }
        case 'cr':
          if (buf[i] === LF) [this.state, i] = ['size', i + 1];
          else {
            // A CR not followed by LF was data of an under-declared chunk.
            this.overrun(CR_BYTE);
            this.state = 'overrun';
          }
          break;
        default:
          i = this.readLine(buf, i);
      }
    }
    // Bytes after the terminating chunk tell the caller the writer went on after its end.
    if (this.state === 'done') this.onEnd(buf.subarray(i));
  }

  /** Undeclared data goes on like any other: the stream's line framer bounds it. */
  private overrun(data: Buffer): void {
    this.overrunBytes += data.length;
    this.onData(data);
  }

  /** size and trailer read CRLF- (or LF-) terminated lines. */
  private readLine(buf: Buffer, i: number): number {
    const nl = buf.indexOf(LF, i);
    const end = nl < 0 ? buf.length : nl;
    this.line += buf.toString('latin1', i, end);
    if (this.line.length > MAX_SIZE_LINE) throw new FramingError('a chunk-size line is too long');
    if (nl < 0) return buf.length;
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
    this.line = '';
    this.endOfLine(line);
    return nl + 1;
  }

  private endOfLine(line: string): void {
    if (this.state === 'trailer') {
      if (line === '') this.state = 'done';
      return;
    }
    if (line.trim() === '') return; // plotly.py's stray CRLF
    const hex = (line.split(';')[0] as string).trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new FramingError(`invalid chunk size ${JSON.stringify(line.slice(0, 20))}`);
    const size = parseInt(hex, 16);
    if (size > MAX_CHUNK) throw new FramingError(`chunk of ${size} bytes is over the ${MAX_CHUNK}-byte limit`);
    this.remaining = size;
    this.state = size === 0 ? 'trailer' : 'data';
  }
}

/**
 * Framing of a stream body (Plotly's streaming protocol) into its newline-separated objects,
 * holding at most `maxLine` bytes of an unfinished line: a longer line is an error that ends the
 * stream (413), never a growing buffer. (The bridge's serial framing discards and counts instead:
 * a board cannot be told.)
 */
import { PlotwireError } from '../../shared/errors.js';

export class LineTooLongError extends PlotwireError {
  readonly code = 'PW_ERR_LINE_TOO_LONG';
  constructor(readonly limit: number) {
    super(`a line is longer than ${limit} bytes`);
  }
}

export class StreamLineFramer {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Feeds bytes; calls onLine for each complete line (without its "\n"). Throws LineTooLongError. */
  push(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl >= 0; nl = chunk.indexOf(10, from)) {
      this.take(chunk.subarray(from, nl));
      const line = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
      this.parts = [];
      this.size = 0;
      this.onLine(line.toString('utf8'));
      from = nl + 1;
    }
    if (from < chunk.length) this.take(chunk.subarray(from));
  }

  /** Bytes of an unfinished line (a body that ends without a final newline). */
  get rest(): string {
    return Buffer.concat(this.parts, this.size).toString('utf8');
  }

  private take(part: Buffer): void {
    if (this.size + part.length > this.maxLine) throw new LineTooLongError(this.maxLine);
    this.parts.push(part);
    this.size += part.length;
  }
}

/**
 * Decodes and validates device lines with shared/'s schemas and keeps the counts a person needs:
 * what was valid, what was not (each handed on with the reason), and how many lines the serial
 * link lost, from gaps in the wrapping sequence number "n". "n" and "t" are stamps only after a
 * hello on this connection declared them (the decoder is then `stamped`); before, they are
 * channels like any key.
 */
import { ProtocolError, decodeDeviceText, deviceKeys, eventTypes, type DeviceLine, type DropEvent } from '../shared/index.js';
import { SampleScan } from './sample-scan.js';

/** "n" is a uint16. */
const SEQ_MOD = 65_536;
/** A jump back (or forward by more than half the range) is a restart, not a loss. */
const SEQ_HALF = SEQ_MOD / 2;

/** Lines missing between sequence numbers last and n (wrapping), or 'restart' when n went back. */
function seqGap(last: number, n: number): number | 'restart' {
  const gap = (n - last - 1 + SEQ_MOD) % SEQ_MOD;
  return gap < SEQ_HALF ? gap : 'restart';
}

/**
 * What decodeBytes gives: a device line, or a plain sample line left in the decoder's scan
 * (valid until the next call: copy it with scan.toLine() to keep it).
 */
export type DecodedLine = DeviceLine | { readonly kind: 'scan'; readonly scan: SampleScan };

export interface BadLine {
  readonly line: string;
  readonly reason: string;
}

export interface DecoderCounts {
  lines: number;
  hello: number;
  sample: number;
  event: number;
  invalid: number;
  /** Lines lost on the serial link, from gaps in "n". */
  lost: number;
  /** Lines the device says it dropped itself (drop events). */
  deviceDropped: number;
  /** Times "n" jumped backwards without a hello (a reset the bridge did not see announced). */
  seqRestarts: number;
}

export class LineDecoder {
  readonly counts: DecoderCounts = { lines: 0, hello: 0, sample: 0, event: 0, invalid: 0, lost: 0, deviceDropped: 0, seqRestarts: 0 };
  /** The first `keepBad` invalid lines, with the reason. */
  readonly firstBad: BadLine[] = [];
  private lastSeq: number | undefined;
  private stamped_ = false;
  private readonly scanned = { kind: 'scan', scan: new SampleScan() } as const;

  constructor(
    /** Called for every invalid line (after counting) with why and its whole text. */
    private readonly onBad?: (err: ProtocolError, text: string) => void,
    private readonly keepBad = 5,
  ) {}

  /**
   * decode() for a line still in bytes: plain sample lines (nearly all the traffic) are scanned
   * into reused storage, with no string, no JSON.parse and no object per line.
   */
  decodeBytes(buf: Buffer, start: number, end: number): DecodedLine | undefined {
    const { scan } = this.scanned;
    if (!scan.read(buf, start, end, this.stamped_)) return this.decode(buf.toString('utf8', start, end));
    this.counts.lines++;
    this.counts.sample++;
    if (scan.seq !== undefined) this.trackSeq(scan.seq);
    return this.scanned;
  }

  /** The decoded line, or undefined when it is invalid (counted and kept as an example). */
  decode(text: string): DeviceLine | undefined {
    this.counts.lines++;
    let line: DeviceLine;
    try {
      line = decodeDeviceText(text, this.stamped_);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // A board that resets mid-line starts its next line (often its hello) right after the
      // cut: the cut part is lost, the new line is not.
      const at = text.lastIndexOf('{"');
      const tail = at > 0 ? this.tryDecode(text.slice(at)) : undefined;
      this.bad(tail ? new ProtocolError('device line', '', 'was cut off: a new line began in the middle of it (the board reset?)') : err, tail ? text.slice(0, at) : text);
      if (!tail) return undefined;
      this.counts.lines++;
      line = tail;
    }
    this.counts[line.kind]++;
    if (line.kind === 'hello') {
      // A hello declares the stamps and starts a new numbering: no gap across a reset.
      this.stamped_ = true;
      this.lastSeq = line.line[deviceKeys.SEQ];
      return line;
    }
    if (line.kind === 'event' && line.line[deviceKeys.EVENT] === eventTypes.DROP) {
      this.counts.deviceDropped += (line.line as DropEvent)[deviceKeys.LINES];
    }
    const n = this.stamped_ ? line.line[deviceKeys.SEQ] : undefined;
    if (n !== undefined) this.trackSeq(n);
    return line;
  }

  private tryDecode(text: string): DeviceLine | undefined {
    try {
      return decodeDeviceText(text, this.stamped_ || text.startsWith(`{"${deviceKeys.HELLO}"`));
    } catch {
      return undefined;
    }
  }

  private bad(err: ProtocolError, text: string): void {
    this.counts.invalid++;
    if (this.firstBad.length < this.keepBad) this.firstBad.push({ line: text.length > 120 ? `${text.slice(0, 117)}...` : text, reason: err.message });
    this.onBad?.(err, text);
  }

  /** Whether a hello on this connection declared "n" and "t". */
  get stamped(): boolean {
    return this.stamped_;
  }

  /**
   * The port was reopened: what came between is unknown, not lost, and the board (perhaps
   * flashed with another sketch) declares its stamps again with its next hello.
   */
  reopened(): void {
    this.lastSeq = undefined;
    this.stamped_ = false;
  }

  private trackSeq(n: number): void {
    const last = this.lastSeq;
    this.lastSeq = n;
    if (last === undefined) return;
    const gap = seqGap(last, n);
    if (gap === 'restart') this.counts.seqRestarts++;
    else this.counts.lost += gap;
  }
}

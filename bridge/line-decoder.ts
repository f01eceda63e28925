/**
 * Decodes and validates device lines with shared/'s schemas and keeps the counts a person needs:
 * what was valid, what was not (the first few shown with the reason), and how many lines the
 * serial link lost, from gaps in the wrapping sequence number "n".
 */
import { ProtocolError, decodeDeviceLine, deviceKeys, eventTypes, type DeviceLine, type DropEvent } from '../shared/index.js';
import { SampleScan, scanSampleBytes } from '../shared/sample-bytes.js';

/** "n" is a uint16. */
const SEQ_MOD = 65_536;
/** A jump back (or forward by more than half the range) is a restart, not a loss. */
const SEQ_HALF = SEQ_MOD / 2;

/** Lines missing between sequence numbers last and n (wrapping), or 'restart' when n went back. */
export function seqGap(last: number, n: number): number | 'restart' {
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
  private readonly scanned = { kind: 'scan', scan: new SampleScan() } as const;

  constructor(
    private readonly keepBad = 5,
    /** Called for every invalid line (after counting), e.g. to log the first few. */
    private readonly onBad?: (bad: BadLine, count: number) => void,
  ) {}

  /**
   * decode() for a line still in bytes: plain sample lines (nearly all the traffic) are scanned
   * into reused storage, with no string, no JSON.parse and no object per line.
   */
  decodeBytes(buf: Buffer, start: number, end: number): DecodedLine | undefined {
    const { scan } = this.scanned;
    if (!scanSampleBytes(buf, start, end, scan)) return this.decode(buf.toString('utf8', start, end));
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
      line = decodeDeviceLine(text);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.counts.invalid++;
      const bad = { line: text.length > 120 ? `${text.slice(0, 117)}...` : text, reason: err.message };
      if (this.firstBad.length < this.keepBad) this.firstBad.push(bad);
      this.onBad?.(bad, this.counts.invalid);
      return undefined;
    }
    this.counts[line.kind]++;
    const n = line.line[deviceKeys.SEQ];
    if (line.kind === 'hello') {
      // A hello starts a new numbering: no gap across a reset.
      this.lastSeq = n;
      return line;
    }
    if (line.kind === 'event' && line.line[deviceKeys.EVENT] === eventTypes.DROP) {
      this.counts.deviceDropped += (line.line as DropEvent)[deviceKeys.LINES];
    }
    if (n !== undefined) this.trackSeq(n);
    return line;
  }

  /** Forget the sequence (the port was reopened: what came between is unknown, not lost). */
  resetSequence(): void {
    this.lastSeq = undefined;
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

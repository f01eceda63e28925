/**
 * Plotly's Arduino streaming library (plotly_streaming_wifi / _ethernet / _gsm / _cc3000, version
 * 0.6.0), as its C++ builds its bytes: the same prints in the same order, its own Content-Length
 * and chunk-size arithmetic (which assumes 10-character API keys and stream tokens), Arduino's
 * Print::print(float) with 2 decimals on a 32-bit float, and the scanner init() runs over the
 * answer. Nothing here is typed from an example: change an input and the bytes follow the
 * library's code, right or wrong.
 */

export interface ArduinoPlotlyOptions {
  readonly username: string;
  readonly apiKey: string;
  readonly tokens: readonly string[];
  readonly filename: string;
  /** The library's defaults: 30, true, true, "America/Montreal", "overwrite". */
  readonly maxpoints?: number;
  readonly worldReadable?: boolean;
  readonly convertTimestamp?: boolean;
  readonly timezone?: string;
  readonly fileopt?: string;
}

const f32 = Math.fround;

/** plotly::len_(int): the library's digit count for an int (-32768..32767), sign included. */
export function lenInt(i: number): number {
  if (i > 9999) return 5;
  if (i > 999) return 4;
  if (i > 99) return 3;
  if (i > 9) return 2;
  if (i > -1) return 1;
  if (i > -10) return 2;
  if (i > -100) return 3;
  if (i > -1000) return 4;
  if (i > -10000) return 5;
  return 6;
}

/** plotly::len_(unsigned long). */
export function lenUlong(i: number): number {
  let n = 1;
  for (let v = 9; i > v && n < 10; v = v * 10 + 9) n++;
  return n;
}

/** Arduino's Print::print(double, 2) on AVR, where double is a 32-bit float. */
export function arduinoFloat(value: number, digits = 2): string {
  let number = f32(value);
  if (Number.isNaN(number)) return 'nan';
  if (!Number.isFinite(number)) return 'inf';
  if (number > 4294967040.0 || number < -4294967040.0) return 'ovf';
  let out = '';
  if (number < 0) {
    out += '-';
    number = f32(-number);
  }
  let rounding = f32(0.5);
  for (let i = 0; i < digits; i++) rounding = f32(rounding / 10);
  number = f32(number + rounding);
  const intPart = Math.trunc(number);
  let remainder = f32(number - intPart);
  out += String(intPart);
  if (digits > 0) out += '.';
  for (let d = 0; d < digits; d++) {
    remainder = f32(remainder * 10);
    const toPrint = Math.trunc(remainder);
    out += String(toPrint);
    remainder = f32(remainder - toPrint);
  }
  return out;
}

/** avr-libc's dtostrf(value, 2, 3, s): at least 2 wide, 3 decimals. */
export function dtostrf(value: number, width = 2, precision = 3): string {
  return f32(value).toFixed(precision).padStart(width, ' ');
}

/** The bytes of one plotly instance, call by call. */
export class ArduinoPlotly {
  readonly maxpoints: number;
  readonly worldReadable: boolean;
  readonly convertTimestamp: boolean;
  readonly timezone: string;
  readonly fileopt: string;

  constructor(private readonly o: ArduinoPlotlyOptions) {
    this.maxpoints = o.maxpoints ?? 30;
    this.worldReadable = o.worldReadable ?? true;
    this.convertTimestamp = o.convertTimestamp ?? true;
    this.timezone = o.timezone ?? 'America/Montreal';
    this.fileopt = o.fileopt ?? 'overwrite';
  }

  /** init()'s request to plot.ly:80, "\r\n" after the body included, as the library sends it. */
  init(): string {
    const n = this.o.tokens.length;
    let contentLength = 126 + this.o.username.length + this.fileopt.length + n * (87 + lenInt(this.maxpoints)) + (n - 1) * 2 + this.o.filename.length;
    contentLength += this.worldReadable ? 4 : 5;
    let out = 'POST /clientresp HTTP/1.1\r\n';
    out += 'Host: plot.ly:80\r\n';
    out += 'User-Agent: Arduino/0.6.0\r\n';
    out += `Content-Length: ${contentLength}`;
    out += '\r\n\r\n';
    out += `version=2.3&origin=plot&platform=arduino&un=${this.o.username}&key=${this.o.apiKey}&args=[`;
    this.o.tokens.forEach((token, i) => {
      out += `{"y": [], "x": [], "type": "scatter", "stream": {"token": "${token}", "maxpoints": ${this.maxpoints}}}`;
      if (n > 1 && i !== n - 1) out += ', ';
    });
    out += `]&kwargs={"fileopt": "${this.fileopt}", "filename": "${this.o.filename}", "world_readable": ${this.worldReadable ? 'true' : 'false'}}`;
    out += '\r\n';
    return out;
  }

  /** The Content-Length init() declares, and how long its body really is. */
  initLengths(): { declared: number; actual: number } {
    const text = this.init();
    const head = text.indexOf('\r\n\r\n');
    return { declared: Number(/Content-Length: (\d+)/.exec(text)?.[1]), actual: Buffer.byteLength(text.slice(head + 4)) - 2 };
  }

  /** openStream()'s request to arduino.plot.ly:80: no token header. */
  openStream(): string {
    let out = 'POST / HTTP/1.1\r\n';
    out += 'Host: arduino.plot.ly\r\n';
    out += 'User-Agent: Python\r\n';
    out += 'Transfer-Encoding: chunked\r\n';
    out += 'Connection: close\r\n';
    if (this.convertTimestamp) out += `plotly-convertTimestamp: "${this.timezone}"\r\n`;
    out += '\r\n';
    return out;
  }

  /** plot(unsigned long x, int y, token): one chunk, sized as jsonStart(len_(x)+len_(y)) says. */
  plotInt(x: number, y: number, token: string): string {
    return this.chunk(lenUlong(x) + lenInt(y), x, String(Math.trunc(y)), token);
  }

  /** plot(unsigned long x, float y, token): sized by dtostrf's 3 decimals less one, printed with 2. */
  plotFloat(x: number, y: number, token: string): string {
    return this.chunk(lenUlong(x) + dtostrf(y).length - 1, x, arduinoFloat(y), token);
  }

  closeStream(): string {
    return '0\r\n\r\n';
  }

  private chunk(i: number, x: number, y: string, token: string): string {
    return `${(i + 44).toString(16).toUpperCase()}\r\n{"x": ${x}, "y": ${y}, "streamtoken": "${token}"}\n\r\n`;
  }

  /**
   * init()'s reading of the answer, character by character as the library does: whether it saw
   * "All Streams Go!" (and so streams), and the file id it prints in its link, if it found one
   * behind `"url": "http://plot.ly/~` and the user name.
   */
  scan(answer: string): { proceed: boolean; fid: string | undefined; printed: string | undefined } {
    const allStreamsGo = 'All Streams Go!';
    const url = '"url": "http://plot.ly/~';
    let asgCnt = 0;
    let urlCnt = 0;
    let usernameCnt = 0;
    let fid = '';
    let proceed = false;
    let fidMatched = false;
    for (const c of answer) {
      if (asgCnt === allStreamsGo.length && !proceed) proceed = true;
      else if (allStreamsGo[asgCnt] === c) asgCnt += 1;
      else if (asgCnt > 0) asgCnt = 0;
      if (url[urlCnt] === c && urlCnt < url.length) urlCnt += 1;
      else if (urlCnt > 0 && urlCnt < url.length) urlCnt = 0;
      if (urlCnt === url.length && fid.length < 4 && !fidMatched) {
        if (usernameCnt < this.o.username.length + 2) usernameCnt += 1;
        else if (c !== '"') fid += c;
        else if (fid.length > 0) fidMatched = true;
      }
    }
    const printed = proceed && fidMatched ? `https://plot.ly/~${this.o.username}/${fid}` : undefined;
    return { proceed, fid: fidMatched ? fid : undefined, printed };
  }
}

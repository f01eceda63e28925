/**
 * The bytes a sketch using Plotly's Yún library (plotly_yun, PlotlyYun.cpp) prints to the Console,
 * made by following its code path rather than typed from an example:
 * - YunMessenger's Messenger::open prints ASCII 29, the subscriber "plotly", ASCII 30; its close()
 *   prints ASCII 31 (then flushes); there is no newline;
 * - plotly::plot(x, y) prints preprint_ `{"x": `, x, midprint_ `, "y": `, y, postprint_
 *   `, "token": "` TOKEN `"}`; plot(y) prints preprinttimezone_ `{"timezone": "` ZONE `"` then
 *   midprint_ and y in quotes, then postprint_;
 * - a float goes through Arduino's Print::print(double, 2) = printFloat with 2 digits, on an AVR,
 *   where double is a 32-bit float (emulated here with Math.fround at every step); a char* is
 *   printed in quotes, a String x without them (as the library does: a non-numeric String x
 *   makes invalid JSON).
 */

const f = Math.fround;

/** Arduino's Print::printFloat(number, digits) on an AVR (double is float). */
export function arduinoPrintFloat(value: number, digits = 2): string {
  let number = f(value);
  if (Number.isNaN(number)) return 'nan';
  if (!Number.isFinite(number)) return 'inf';
  if (number > 4294967040.0) return 'ovf';
  if (number < -4294967040.0) return 'ovf';
  let out = '';
  if (number < 0) {
    out += '-';
    number = -number;
  }
  let rounding = f(0.5);
  for (let i = 0; i < digits; i++) rounding = f(rounding / 10);
  number = f(number + rounding);
  // (unsigned long)number truncates; (double)int_part converts back to a float.
  const intPart = Math.trunc(number) >>> 0;
  let remainder = f(number - f(intPart));
  out += String(intPart);
  if (digits > 0) out += '.';
  for (let d = digits; d > 0; d--) {
    remainder = f(remainder * 10);
    const toPrint = Math.trunc(remainder) >>> 0;
    out += String(toPrint);
    remainder = f(remainder - f(toPrint));
  }
  return out;
}

/** A value as the sketch passes it: a number is a float, a string a char*, {string} an Arduino String. */
export type YunValue = number | string | { readonly string: string };

const GS = '\x1d';
const RS = '\x1e';
const US = '\x1f';

/** One `plotly plotter("TOKEN")` of a sketch: what each plot() call prints. */
export class PlotlyYunPlotter {
  /** plotter.timezone = "America/Montreal" (NULL by default, which Console.print prints as nothing). */
  timezone = '';

  constructor(readonly token: string) {}

  /** plotter.plot(y): x is the arrival time in the plotter's time zone; y goes in quotes. */
  plotY(y: number | string): string {
    return `${this.open()}{"timezone": "${this.timezone}"${this.mid()}"${typeof y === 'number' ? arduinoPrintFloat(y) : y}"${this.post()}`;
  }

  /** plotter.plot(x, y), by the overload the argument types pick. */
  plot(x: YunValue, y: YunValue): string {
    return `${this.open()}{"x": ${this.value(x, 'x')}${this.mid()}${this.value(y, 'y')}${this.post()}`;
  }

  private value(v: YunValue, which: 'x' | 'y'): string {
    if (typeof v === 'number') return arduinoPrintFloat(v);
    if (typeof v === 'string') return `"${v}"`;
    // The String overloads: x is printed bare, y in quotes.
    return which === 'x' ? v.string : `"${v.string}"`;
  }

  /** Messenger::open("plotly"). */
  private open(): string {
    return `${GS}plotly${RS}`;
  }

  private mid(): string {
    return ', "y": ';
  }

  /** postprint_ and Messenger::close(). */
  private post(): string {
    return `, "token": "${this.token}"}${US}`;
  }
}

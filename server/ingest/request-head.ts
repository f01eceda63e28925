/** Parses the head of an HTTP/1.x request (request line and headers) for the streaming endpoint. */
import { PlotwireError } from '../../shared/errors.js';

export const MAX_HEAD = 16 * 1024;

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  /** Lower-cased names; repeated headers (plotly.py sends Host twice) keep every value. */
  readonly headers: ReadonlyMap<string, string[]>;
}

export class HeadError extends PlotwireError {
  readonly code = 'PW_ERR_BAD_HEAD';
}

export function header(head: RequestHead, name: string): string | undefined {
  return head.headers.get(name)?.[0];
}

/** Parses the bytes before the blank line (CRLF or bare LF line ends). */
export function parseHead(text: string): RequestHead {
  const lines = text.split(/\r?\n/);
  const match = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0] ?? '');
  if (!match) throw new HeadError(`malformed request line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HeadError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
  }
  return { method: match[1] as string, target: match[2] as string, version: match[3] as string, headers };
}

/** Index just past the blank line that ends the head, or -1 while it has not arrived. */
export function headEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

/**
 * plotwire validate: checks NDJSON device lines (or stream objects) from a file or stdin against
 * the protocol, so a sketch's output can be checked before the bridge ever sees it.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ProtocolError, decodeDeviceText, decodeStreamLine } from '../../shared/index.js';
import { UsageError, defineCommand } from '../command.js';
import { optionSpec } from '../options.js';

const usage = `usage: plotwire validate [--stream] [--json] [--quiet] [FILE]

Checks every line of FILE (or standard input) against the plotwire protocol and prints, for each
bad line, its number and what is wrong; then a summary. Exits 1 when any line is invalid.

  --stream   the lines are stream objects (bridge -> server) instead of device lines (serial)
  --json     print one JSON object per bad line and a final summary object
  --quiet    print only the summary
  FILE       a file of lines; "-" or nothing reads standard input`;

export const validateCommand = defineCommand(
  { name: 'validate', summary: 'check device lines or stream objects (NDJSON) against the protocol', usage, options: optionSpec([], ['stream', 'json', 'quiet']), positionals: 1 },
  async (values, positionals) => {
    const file = positionals[0];
    const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
    const opened = new Promise<void>((resolve, reject) => {
      input.once('error', reject);
      if (input === process.stdin) resolve();
      else input.once('open', () => resolve());
    });
    await opened.catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });

    // Device lines are read as the bridge reads them: "n" and "t" are stamps only after a hello.
    let stamped = false;
    const decode = values.stream
      ? decodeStreamLine
      : (text: string) => {
          const line = decodeDeviceText(text, stamped);
          if (line.kind === 'hello') stamped = true;
          return line;
        };
    const counts: Record<string, number> = {};
    let lineNo = 0;
    let invalid = 0;
    for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      try {
        const decoded = decode(text);
        counts[decoded.kind] = (counts[decoded.kind] ?? 0) + 1;
        // Accepted, as Plotly accepted them, but worth knowing: what the server drops or makes a gap.
        const notes = 'notes' in decoded && decoded.kind === 'object' ? decoded.notes : undefined;
        if (notes && (notes.ignoredKeys.length > 0 || notes.gaps > 0) && !values.quiet) {
          const said = [notes.ignoredKeys.length ? `keys plotwire does not use are dropped: ${notes.ignoredKeys.join(', ')}` : '', notes.gaps ? `${notes.gaps} NaN/Infinity become gaps` : ''].filter(Boolean).join('; ');
          if (values.json) console.log(JSON.stringify({ line: lineNo, note: said, ignoredKeys: notes.ignoredKeys, gaps: notes.gaps }));
          else console.log(`line ${lineNo}: note: ${said}`);
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        invalid++;
        if (values.quiet) continue;
        if (values.json) {
          console.log(JSON.stringify({ line: lineNo, kind: err.kind, field: err.field, rule: err.rule, code: err.code, message: err.message }));
        } else {
          console.log(`line ${lineNo}: ${err.message}`);
        }
      }
    }
    const valid = lineNo - invalid;
    if (values.json) {
      console.log(JSON.stringify({ summary: true, lines: lineNo, valid, invalid, kinds: counts }));
    } else {
      const kinds = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ');
      console.log(`${lineNo} lines: ${valid} valid${kinds ? ` (${kinds})` : ''}, ${invalid} invalid`);
    }
    return invalid === 0 ? 0 : 1;
  },
);

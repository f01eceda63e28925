/**
 * Intel HEX -> the AVR's program memory. Record types 00 (data), 01 (end of file), 02 and 04
 * (segment and linear base addresses); every record's checksum is verified.
 */
import { PlotwireError } from '../../shared/errors.js';
export class IntelHexError extends PlotwireError {
  readonly code = 'PW_ERR_INTEL_HEX';
}

/** Parses HEX text into a flash image of flashBytes (32 KB on an ATmega328P), erased bytes 0xFF. */
export function parseIntelHex(text: string, flashBytes = 0x8000): Uint8Array {
  const flash = new Uint8Array(flashBytes).fill(0xff);
  let base = 0;
  let ended = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && !ended; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `line ${i + 1}`;
    if (!/^:([0-9A-Fa-f]{2})+$/.test(line)) throw new IntelHexError(`${where}: not an Intel HEX record (must be ":" then pairs of hex digits)`);
    const bytes = Buffer.from(line.slice(1), 'hex');
    const count = bytes[0]!;
    if (bytes.length !== count + 5) throw new IntelHexError(`${where}: says ${count} data bytes but has ${bytes.length - 5}`);
    const sum = bytes.reduce((a, b) => (a + b) & 0xff, 0);
    if (sum !== 0) throw new IntelHexError(`${where}: bad checksum`);
    const offset = (bytes[1]! << 8) | bytes[2]!;
    const type = bytes[3]!;
    const data = bytes.subarray(4, 4 + count);
    switch (type) {
      case 0x00: {
        const at = base + offset;
        if (at + count > flashBytes) throw new IntelHexError(`${where}: data at 0x${at.toString(16)} lies beyond the ${flashBytes}-byte flash`);
        flash.set(data, at);
        break;
      }
      case 0x01:
        ended = true;
        break;
      case 0x02:
        base = ((data[0]! << 8) | data[1]!) << 4;
        break;
      case 0x04:
        base = ((data[0]! << 8) | data[1]!) << 16;
        break;
      case 0x03:
      case 0x05:
        break; // start addresses: the AVR starts at 0 anyway
      default:
        throw new IntelHexError(`${where}: unknown record type ${type}`);
    }
  }
  if (!ended) throw new IntelHexError('no end-of-file record: the file is cut short');
  return flash;
}

/** The flash image as the 16-bit words avr8js's CPU executes. */
export function programWords(flash: Uint8Array): Uint16Array {
  return new Uint16Array(flash.buffer, flash.byteOffset, flash.byteLength >> 1);
}

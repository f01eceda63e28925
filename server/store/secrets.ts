/** API keys, stream tokens and session ids: random, stored only as hashes, compared in constant time. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789'; // no look-alikes (l, 1, 0, o)

/** A random secret of `length` characters (about 5 bits each). */
export function newSecret(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 33 symbols: the modulo bias is under 1 %, and the length leaves far more entropy than needed.
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Constant-time check of a presented secret against a stored hash. */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const presented = hashSecret(secret);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}

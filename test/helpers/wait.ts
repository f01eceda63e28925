/**
 * Waiting in tests is on conditions, never on a fixed sleep. `sleep` is here only to pace a
 * writer (points at a rate, as a board or a script would send them).
 */
export { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves with get()'s value once it is neither undefined nor false (polled every 20 ms);
 * rejects naming what it waited for after timeoutMs.
 */
export async function until<T>(what: string, get: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * What text-stream.ts counts: the text of a record (a Mastodon status, a Bluesky post, a
 * Wikipedia edit, any JSON object), whether it names each keyword, and how often a minute.
 */

/** Where a record's text is when --field is not given: Mastodon's, Bluesky's Jetstream's, then common names. */
export const DEFAULT_FIELDS = ['content', 'spoiler_text', 'commit.record.text', 'text', 'title', 'comment', 'message', 'body'];

/** The value at a dotted path ("commit.record.text"), or undefined. */
function at(record: unknown, path: string): unknown {
  let value = record;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** What a reader sees of an HTML fragment (Mastodon's content): tags gone (a block's end a line break), entities decoded. */
export function visibleText(html: string): string {
  if (!/[<&]/.test(html)) return html;
  return html
    .replace(/<\/?(?:p|br|div|li|ul|ol|h[1-6]|blockquote|pre)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    });
}

/**
 * A record's text: the string values at the given fields (default DEFAULT_FIELDS). Not every
 * string in it: a Jetstream identity event's handle "python-fan.bsky.social" is not a mention.
 */
export function textOf(record: unknown, fields: readonly string[] = DEFAULT_FIELDS): string {
  return fields
    .map((f) => at(record, f))
    .filter((v): v is string => typeof v === 'string')
    .map(visibleText)
    .join('\n');
}

/**
 * A test for one keyword as a whole word, case-insensitive in any script: "rust" is found in
 * "Rust's" and "#rust" but not in "trust" or "rusty".
 */
export function keywordPattern(keyword: string): RegExp {
  const escaped = keyword.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'iu');
}

/**
 * Mentions of each keyword, and records in all, over a sliding window of whole seconds: one bin a
 * second in a ring, so memory is the window's length whatever the stream's rate.
 */
export class KeywordRates {
  private readonly patterns: RegExp[];
  /** bins[k][s]: records naming keyword k in second s of the ring; the last row counts every record. */
  private readonly bins: Uint32Array[];
  private readonly totals: Uint32Array;
  private second = -1;

  constructor(readonly keywords: readonly string[], readonly windowSeconds: number) {
    this.patterns = keywords.map(keywordPattern);
    this.bins = [...keywords, 'all'].map(() => new Uint32Array(windowSeconds));
    this.totals = new Uint32Array(keywords.length + 1);
  }

  /** Counts one record's text, arriving at nowMs. */
  count(text: string, nowMs: number): void {
    this.advance(nowMs);
    const slot = this.second % this.windowSeconds;
    this.bins.forEach((ring, k) => {
      // The last ring counts every record.
      if (k < this.patterns.length && !(this.patterns[k] as RegExp).test(text)) return;
      ring[slot] = (ring[slot] as number) + 1;
      this.totals[k] = (this.totals[k] as number) + 1;
    });
  }

  /** Per keyword, then for all records: how many a minute over the window ending at nowMs. */
  perMinute(nowMs: number): number[] {
    this.advance(nowMs);
    return this.bins.map((ring) => (ring.reduce((a, b) => a + b, 0) * 60) / this.windowSeconds);
  }

  /** Per keyword, then for all records: how many since the start. */
  counted(): readonly number[] {
    return [...this.totals];
  }

  /** Empties the bins of the seconds passed since the last call. */
  private advance(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (this.second < 0) this.second = second;
    for (let s = this.second + 1; s <= second && s <= this.second + this.windowSeconds; s++) for (const ring of this.bins) ring[s % this.windowSeconds] = 0;
    this.second = Math.max(this.second, second);
  }
}

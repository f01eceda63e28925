/**
 * Which tokens have their recent points in memory: all of them together within a budget of
 * estimated bytes, the least recently used dropped first (their points are on disk, and are
 * loaded again when a viewer or a writer needs them).
 */
import type { RecentPoints } from './recent-points.js';

export interface Cached {
  readonly id: number;
  recent: RecentPoints | undefined;
}

export class RecentCache<H extends Cached> {
  /** Least recently used first. */
  private readonly loaded = new Map<number, H>();
  private total = 0;

  constructor(private readonly budget: number) {}

  get bytes(): number {
    return this.total;
  }

  get tokens(): number {
    return this.loaded.size;
  }

  /** The token's points were used: they move to the end of the line. */
  touch(head: H): void {
    this.loaded.delete(head.id);
    this.loaded.set(head.id, head);
  }

  /** Points just loaded; others are dropped if they no longer fit beside them. */
  add(head: H, recent: RecentPoints): void {
    head.recent = recent;
    this.total += recent.bytes;
    this.touch(head);
    this.enforce(head);
  }

  /** Runs a change to a token's points, keeping the total current (call enforce when done). */
  change(head: H, run: (recent: RecentPoints) => void): void {
    if (!head.recent) return;
    const before = head.recent.bytes;
    run(head.recent);
    this.total += head.recent.bytes - before;
    this.touch(head);
  }

  drop(head: H): void {
    if (!head.recent) return;
    this.total -= head.recent.bytes;
    head.recent = undefined;
    this.loaded.delete(head.id);
  }

  /** Drops the least recently used until all fit the budget (never `keep`, never the last one). */
  enforce(keep?: H): void {
    for (const head of this.loaded.values()) {
      if (this.total <= this.budget || this.loaded.size <= 1) break;
      if (head !== keep) this.drop(head);
    }
  }
}

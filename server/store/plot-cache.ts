/**
 * Plots in memory, with an index from each token to the plots (and traces) it feeds: the reads
 * every request makes, whichever database the plots are kept in (SQLite's Plots, the cluster's
 * PgPlots keep theirs here).
 */
import type { Plot } from './plots.js';

export class PlotCache {
  protected readonly cache = new Map<number, Plot>();
  private readonly byToken = new Map<number, Set<number>>();

  get(id: number): Plot | undefined {
    return this.cache.get(id);
  }

  byFile(owner: string, fileId: number): Plot | undefined {
    for (const p of this.cache.values()) if (p.owner === owner && p.fileId === fileId) return p;
    return undefined;
  }

  byFilename(userId: number, filename: string): Plot | undefined {
    for (const p of this.cache.values()) if (p.userId === userId && p.filename === filename) return p;
    return undefined;
  }

  /** `base`, or `base (1)`, `base (2)`... whichever the user does not have yet. */
  uniqueFilename(userId: number, base: string): string {
    let name = base;
    for (let i = 1; this.byFilename(userId, name); i++) name = `${base} (${i})`;
    return name;
  }

  list(userId: number): Plot[] {
    return [...this.cache.values()].filter((p) => p.userId === userId);
  }

  /** Plots fed by a token, with the indices of the traces it feeds in each. */
  forToken(tokenId: number): { plot: Plot; traces: number[] }[] {
    const out: { plot: Plot; traces: number[] }[] = [];
    for (const id of this.byToken.get(tokenId) ?? []) {
      const plot = this.cache.get(id);
      if (!plot) continue;
      const traces = plot.traces.flatMap((t, i) => (t.tokenId === tokenId ? [i] : []));
      if (traces.length) out.push({ plot, traces });
    }
    return out;
  }

  /** Points the traces a token feeds can show: their largest maxpoints (0 when it feeds none). */
  capacityOf(tokenId: number): number {
    let capacity = 0;
    for (const { plot, traces } of this.forToken(tokenId)) for (const i of traces) capacity = Math.max(capacity, plot.traces[i]?.maxpoints ?? 0);
    return capacity;
  }

  /** Tokens that feed a plot's traces. */
  tokensOf(id: number): number[] {
    return [...new Set((this.cache.get(id)?.traces ?? []).flatMap((t) => (t.tokenId === undefined ? [] : [t.tokenId])))];
  }

  protected remember(plot: Plot): void {
    this.cache.set(plot.id, plot);
    for (const t of plot.traces) {
      if (t.tokenId === undefined) continue;
      let set = this.byToken.get(t.tokenId);
      if (!set) this.byToken.set(t.tokenId, (set = new Set()));
      set.add(plot.id);
    }
  }

  protected forget(id: number): void {
    this.cache.delete(id);
    for (const set of this.byToken.values()) set.delete(id);
  }
}

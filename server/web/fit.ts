/**
 * A layout made to fit a small plot (an embed at 320x240, a phone): slimmer margins, fonts and
 * fewer time ticks below a size, an embed's title no wider than the plot, and each y axis title
 * no longer than its panel is tall (shortened to its name
 * without the unit in brackets, then cut with an ellipsis), so no title runs over the next
 * panel's. plotly.js centres a y title on its panel and never shortens it itself.
 */
type Layout = Record<string, unknown>;

/** Below this plot height or width, margins and fonts are slimmer. */
const SMALL_HEIGHT = 320;
const SMALL_WIDTH = 480;
/** Width of a character of an axis title, as a share of its font size (a generous average). */
const CHAR_WIDTH = 0.62;

const text = (t: unknown): string => (typeof t === 'string' ? t : t && typeof t === 'object' && typeof (t as { text?: unknown }).text === 'string' ? (t as { text: string }).text : '');

/** `title` cut to at most `chars` characters: first without its bracketed unit, then with an ellipsis. */
export function shorten(title: string, chars: number): string {
  if (title.length <= chars) return title;
  const bare = title.replace(/\s*\([^)]*\)\s*$/, '');
  if (bare.length <= chars) return bare;
  return chars <= 1 ? '' : `${bare.slice(0, chars - 1).trimEnd()}…`;
}

export function fitLayout(layout: Layout, width: number, height: number, embedded: boolean): Layout {
  const small = height < SMALL_HEIGHT || width < SMALL_WIDTH;
  const out: Layout = { ...layout };
  const margin = { l: 70, r: 40, t: embedded ? 50 : 24, b: 40, ...(layout.margin as object | undefined) } as { l: number; r: number; t: number; b: number };
  if (small) {
    Object.assign(margin, { l: Math.min(margin.l, 50), r: Math.min(margin.r, 14), t: Math.min(margin.t, embedded ? 30 : 8), b: 44 });
    out.font = { size: 10, ...(layout.font as object | undefined) };
    // Fewer time ticks, so their labels keep apart.
    out.xaxis = { nticks: Math.max(2, Math.floor(width / 90)), ...(layout.xaxis as object | undefined) };
  }
  if (embedded && text(layout.title)) {
    // plotly.js does not wrap a title: one longer than the width is cut, centred, off both edges.
    const titleSize = small ? 12 : 17;
    out.title = { ...(typeof layout.title === 'object' ? (layout.title as object) : {}), text: shorten(text(layout.title), Math.floor((width - 16) / (titleSize * 0.56))), font: { size: titleSize } };
  }
  out.margin = margin;
  const area = Math.max(0, height - margin.t - margin.b);
  const size = small ? 10 : 12;
  for (const name of ['yaxis', ...Object.keys(layout).filter((k) => /^yaxis\d+$/.test(k))]) {
    const axis = (layout[name] ?? {}) as Layout;
    const title = text(axis.title);
    if (!title) continue;
    const domain = Array.isArray(axis.domain) ? (axis.domain as number[]) : [0, 1];
    const room = ((domain[1] ?? 1) - (domain[0] ?? 0)) * area;
    const fitted = shorten(title, Math.floor(room / (size * CHAR_WIDTH)));
    out[name] = { ...(out[name] as object | undefined), title: { ...(typeof axis.title === 'object' ? (axis.title as object) : {}), text: fitted, font: { size, ...((axis.title as { font?: object } | undefined)?.font ?? {}) } } };
  }
  return out;
}

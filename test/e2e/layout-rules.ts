/// <reference lib="dom" />
// (for the function that page.evaluate runs in the browser)
/**
 * Layout rules of a plot page, checked from the boxes of what plotly.js and the page drew: no
 * axis title over a panel, no two axis titles over each other, the plot title over no panel, and
 * the header, the readouts and the plot side by side, not on top of one another. Returns each
 * rule broken, in words.
 */
import type { Frame, Page } from 'playwright-core';

export function layoutProblems(page: Page | Frame): Promise<string[]> {
  return page.evaluate(() => {
    type Box = { name: string; left: number; top: number; right: number; bottom: number };
    const box = (name: string, el: Element | null): Box | undefined => {
      if (!el) return undefined;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 ? { name, left: r.left, top: r.top, right: r.right, bottom: r.bottom } : undefined;
    };
    const overlap = (a: Box, b: Box): boolean => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    const problems: string[] = [];
    // Each subplot's plot area is its drag rectangle.
    const panels = Array.from(document.querySelectorAll('.draglayer > g[class*="xy"] > rect.nsewdrag'))
      .map((el, i) => box(`panel ${i + 1}`, el))
      .filter((b): b is Box => b !== undefined);
    if (panels.length === 0) problems.push('no panel drawn');
    const titles = Array.from(document.querySelectorAll('.g-xtitle, [class^="g-x"][class$="title"], .g-ytitle, [class^="g-y"][class$="title"]'))
      .map((el) => box(`axis title "${el.textContent}"`, el))
      .filter((b): b is Box => b !== undefined);
    const plotTitle = box('plot title', document.querySelector('.g-gtitle'));
    for (const t of [...titles, ...(plotTitle ? [plotTitle] : [])]) for (const p of panels) if (overlap(t, p)) problems.push(`${t.name} is over ${p.name}`);
    for (let i = 0; i < titles.length; i++) for (let j = i + 1; j < titles.length; j++) if (overlap(titles[i] as Box, titles[j] as Box)) problems.push(`${(titles[i] as Box).name} is over ${(titles[j] as Box).name}`);
    const header = box('the header', document.querySelector('header'));
    const plot = box('the plot', document.getElementById('plot'));
    const readouts = box('the readouts', document.getElementById('readouts'));
    for (const [a, b] of [[header, plot], [header, readouts], [plot, readouts]] as const) if (a && b && overlap(a, b)) problems.push(`${a.name} is over ${b.name}`);
    // Everything inside the window.
    for (const b of [header, plot, readouts, plotTitle, ...panels, ...titles]) if (b && (b.right > innerWidth + 1 || b.bottom > innerHeight + 1 || b.left < -1 || b.top < -1)) problems.push(`${b.name} reaches out of the ${innerWidth}x${innerHeight} window`);
    return problems;
  });
}

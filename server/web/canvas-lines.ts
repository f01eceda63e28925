/**
 * Long live lines drawn on a canvas over the plot, at full resolution (min and max per pixel
 * column), while plotly.js draws everything else: axes, ticks, grid, legend, titles, the other
 * traces. plotly.js gets each such trace as a coarse invisible stand-in (its extremes, so its
 * autorange is the same), which costs it a few hundred points instead of thousands; laying out
 * and stroking the paths in SVG was the cost of a live redraw. Only while live: a paused or zoomed
 * view is drawn by plotly.js alone, with every point in range, for hover.
 */

/** What the canvas needs of a plotly.js axis (its full-layout object, as laid out for this draw). */
interface Axis {
  readonly type: string;
  readonly _offset: number;
  readonly _length: number;
  l2p(v: number): number;
}

export interface CanvasLine {
  /** "x", "x2" ... and "y", "y2" ...: the trace's axes. */
  readonly xaxis: string;
  readonly yaxis: string;
  /** x as numbers: plotly.js's linear values (ms for dates, as it reads date strings). */
  readonly xs: ArrayLike<number>;
  readonly ys: ArrayLike<unknown>;
  readonly indices: readonly number[];
  readonly color: string;
  readonly width: number;
}

type Full = Record<string, unknown>;

const axisName = (id: string): string => (id.length === 1 ? `${id}axis` : `${id[0]}axis${id.slice(1)}`);

/** Whether the canvas can place points on this axis (linear and date axes; log and category need plotly.js). */
export const drawableAxis = (axis: unknown): boolean => {
  const type = (axis as Axis | undefined)?.type;
  return type === 'linear' || type === 'date' || type === '-' || type === undefined;
};

export class CanvasLines {
  private readonly canvas: HTMLCanvasElement;
  private lines: CanvasLine[] = [];

  constructor(private readonly plot: HTMLElement & { _fullLayout?: Full }) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'live-lines';
    this.canvas.setAttribute('aria-hidden', 'true');
    (plot.parentElement as HTMLElement).append(this.canvas);
  }

  /** The lines to draw at plotly.js's next draw (set before it, drawn after it, with its axes). */
  set(lines: CanvasLine[]): void {
    this.lines = lines;
  }

  get count(): number {
    return this.lines.length;
  }

  /** Draws the lines with the axes plotly.js has just laid out. */
  draw(): void {
    const full = this.plot._fullLayout;
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = this.plot.clientWidth;
    const height = this.plot.clientHeight;
    canvas.style.left = `${this.plot.offsetLeft}px`;
    canvas.style.top = `${this.plot.offsetTop}px`;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!full) return;
    for (const line of this.lines) {
      const xa = full[axisName(line.xaxis)] as Axis | undefined;
      const ya = full[axisName(line.yaxis)] as Axis | undefined;
      if (!xa || !ya) continue;
      ctx.save();
      ctx.beginPath();
      ctx.rect(xa._offset, ya._offset, xa._length, ya._length);
      ctx.clip();
      ctx.beginPath();
      ctx.strokeStyle = line.color;
      ctx.lineWidth = line.width;
      ctx.lineJoin = 'round';
      let pen = false;
      for (const i of line.indices) {
        const y = line.ys[i];
        if (typeof y !== 'number' || !Number.isFinite(y)) {
          pen = false;
          continue;
        }
        const px = xa._offset + xa.l2p(line.xs[i] as number);
        const py = ya._offset + ya.l2p(y);
        if (pen) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        pen = true;
      }
      ctx.stroke();
      ctx.restore();
    }
  }
}

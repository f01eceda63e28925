/**
 * Long live lines drawn on a canvas over the plot, at full resolution (min and max per pixel
 * column, written as one span of pixels per column: these lines have several points to a
 * column, where a span is what a stroke would light; writing the spans into one pixel buffer
 * costs a software canvas a fraction of stroking a line two pixels wide through the same
 * points, or of filling a rectangle per column), while plotly.js draws everything else: axes, ticks, grid, legend, titles, the other
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
  /** The trace's index in the figure. */
  readonly trace: number;
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

/** "x" -> "xaxis", "y2" -> "yaxis2": the layout key of a trace's axis. */
export const axisName = (id: string): string => (id.length === 1 ? `${id}axis` : `${id[0]}axis${id.slice(1)}`);

/** Whether the canvas can place points on this axis (linear and date axes; log and category need plotly.js). */
export const drawableAxis = (axis: unknown): boolean => {
  const type = (axis as Axis | undefined)?.type;
  return type === 'linear' || type === 'date' || type === '-' || type === undefined;
};

export class CanvasLines {
  private readonly canvas: HTMLCanvasElement;
  private lines: CanvasLine[] = [];
  private image: ImageData | undefined;
  private readonly colors = new Map<string, number>();

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

  /**
   * Draws the lines with the axes plotly.js has just laid out. The canvas covers only the plot
   * areas the lines are drawn in (not the margins): fewer pixels to write, put and composite.
   */
  draw(): void {
    const full = this.plot._fullLayout;
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const areas: { line: CanvasLine; xa: Axis; ya: Axis }[] = [];
    for (const line of full ? this.lines : []) {
      const xa = (full as Full)[axisName(line.xaxis)] as Axis | undefined;
      const ya = (full as Full)[axisName(line.yaxis)] as Axis | undefined;
      if (xa && ya) areas.push({ line, xa, ya });
    }
    const left = Math.floor(Math.min(...areas.map((a) => a.xa._offset)));
    const top = Math.floor(Math.min(...areas.map((a) => a.ya._offset)));
    const width = areas.length ? Math.ceil(Math.max(...areas.map((a) => a.xa._offset + a.xa._length))) - left : 0;
    const height = areas.length ? Math.ceil(Math.max(...areas.map((a) => a.ya._offset + a.ya._length))) - top : 0;
    const place = (key: 'left' | 'top' | 'width' | 'height', px: number): void => {
      if (canvas.style[key] !== `${px}px`) canvas.style[key] = `${px}px`;
    };
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (canvas.width === 0 || canvas.height === 0) return;
    place('left', this.plot.offsetLeft + left);
    place('top', this.plot.offsetTop + top);
    place('width', width);
    place('height', height);
    if (this.image?.width !== canvas.width || this.image.height !== canvas.height) this.image = ctx.createImageData(canvas.width, canvas.height);
    const pixels = new Uint32Array(this.image.data.buffer);
    pixels.fill(0);
    // The axes as seen from the canvas's corner.
    const shift = (axis: Axis, by: number): Axis => ({ type: axis.type, _offset: axis._offset - by, _length: axis._length, l2p: (v) => axis.l2p(v) });
    const joins = areas.map(({ line, xa, ya }) => {
      const clip = new Path2D();
      clip.rect(xa._offset - left, ya._offset - top, xa._length, ya._length);
      return { line, clip, path: spans(pixels, canvas.width, ratio, this.rgba(ctx, line.color), line, shift(xa, left), shift(ya, top)) };
    });
    ctx.putImageData(this.image, 0, 0);
    // Where the points are columns apart (a pause in the data), strokes join them, as a line would.
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    for (const { line, path, clip } of joins) {
      ctx.save();
      ctx.clip(clip);
      ctx.strokeStyle = line.color;
      ctx.lineWidth = line.width;
      ctx.stroke(path);
      ctx.restore();
    }
  }

  /** A CSS colour as the pixel buffer holds it (RGBA bytes in memory order), read back from the canvas once per colour. */
  private rgba(ctx: CanvasRenderingContext2D, color: string): number {
    let value = this.colors.get(color);
    if (value === undefined) {
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = color;
      ctx.fillRect(0, 0, 1, 1);
      value = new Uint32Array(ctx.getImageData(0, 0, 1, 1).data.buffer)[0] as number;
      ctx.clearRect(0, 0, 1, 1);
      ctx.restore();
      this.colors.set(color, value);
    }
    return value;
  }
}

/**
 * A line of several points per pixel column as one span of pixels per column: from its lowest to
 * its highest point, joined to the column before (its last point), the line's width wide, inside
 * its axes' plot area. Columns apart are returned as a path to stroke. A gap (a y that is not a
 * number) ends the line; the next point starts it again.
 */
function spans(pixels: Uint32Array, stride: number, ratio: number, color: number, line: CanvasLine, xa: Axis, ya: Axis): Path2D {
  const rows = pixels.length / stride;
  const left = Math.max(0, Math.floor(xa._offset * ratio));
  const right = Math.min(stride, Math.ceil((xa._offset + xa._length) * ratio));
  const top = Math.max(0, Math.floor(ya._offset * ratio));
  const bottom = Math.min(rows, Math.ceil((ya._offset + ya._length) * ratio));
  const half = line.width / 2;
  const wide = Math.max(1, Math.round(line.width * ratio));
  const joins = new Path2D();
  let column = NaN;
  let lo = 0;
  let hi = 0;
  let last = NaN;
  const flush = (): void => {
    if (!Number.isFinite(column)) return;
    const x0 = Math.max(left, Math.round((column - half) * ratio));
    const x1 = Math.min(right, x0 + wide);
    const y0 = Math.max(top, Math.floor((lo - half) * ratio));
    const y1 = Math.min(bottom, Math.ceil((hi + half) * ratio));
    // Plain stores: a TypedArray fill per row costs more than the few pixels it writes.
    for (let y = y0; y < y1; y++) for (let x = y * stride + x0, end = y * stride + x1; x < end; x++) pixels[x] = color;
  };
  for (const i of line.indices) {
    const y = line.ys[i];
    if (typeof y !== 'number' || !Number.isFinite(y)) {
      flush();
      column = last = NaN;
      continue;
    }
    const px = Math.round(xa._offset + xa.l2p(line.xs[i] as number));
    const py = ya._offset + ya.l2p(y);
    if (px !== column) {
      flush();
      if (Math.abs(px - column) > 1) {
        joins.moveTo(column, last);
        joins.lineTo(px, py);
      }
      column = px;
      // Joined to the column before: the stroke between them passes through both.
      lo = hi = Number.isNaN(last) ? py : last;
    }
    if (py < lo) lo = py;
    if (py > hi) hi = py;
    last = py;
  }
  flush();
  return joins;
}

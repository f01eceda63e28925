/**
 * Runs a Uno in slices of simulated time, yielding to the event loop between them: at `speed`
 * times real time (kept to the wall clock, catching up when late), or as fast as the host can
 * (speed Infinity). It can hold at a given cycle until released, so that whoever waits for that
 * moment acts on the board before it runs on.
 */
import { UNO_CLOCK_HZ, type Uno } from './uno.js';

const SLICE_MS = 10;
const SLICE_CYCLES = (SLICE_MS * UNO_CLOCK_HZ) / 1000;
const MAX_SLICE_CYCLES = (50 * UNO_CLOCK_HZ) / 1000;

export interface PacerOptions {
  /** Simulated seconds per wall-clock second; Infinity runs as fast as the host can. */
  readonly speed: number;
  /** After every slice (to pass the board's output on). */
  afterSlice(): void;
  /** The board has reached a hold point and waits for release(). */
  onHold(): void;
  /** The simulation (or afterSlice) threw; the pacer has stopped. */
  onFailure(err: unknown): void;
}

export class Pacer {
  /** Hold points, in cycles, ascending. */
  private readonly holds: number[] = [];
  private held = false;
  private stopped = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly started = performance.now();

  constructor(
    private readonly uno: Uno,
    private readonly options: PacerOptions,
  ) {
    this.timer = setImmediate(this.step);
  }

  /** Holds when the CPU reaches this cycle count (at the instruction boundary reaching it). */
  holdAt(cycles: number): void {
    const i = this.holds.findIndex((h) => h > cycles);
    this.holds.splice(i < 0 ? this.holds.length : i, 0, cycles);
  }

  release(): void {
    if (!this.held || this.stopped) return;
    this.held = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
  }

  private readonly step = (): void => {
    this.timer = undefined;
    if (this.stopped || this.held) return;
    const cpu = this.uno.cpu;
    const limit = cpu.cycles + MAX_SLICE_CYCLES;
    const end = Math.min(this.dueCycles(), limit, this.holds[0] ?? Infinity);
    try {
      if (end > cpu.cycles) this.uno.run(end - cpu.cycles);
      this.options.afterSlice();
    } catch (err) {
      this.stop();
      this.options.onFailure(err);
      return;
    }
    if (this.holds.length > 0 && cpu.cycles >= this.holds[0]!) {
      while (this.holds.length > 0 && cpu.cycles >= this.holds[0]!) this.holds.shift();
      this.held = true;
      this.options.onHold();
      return;
    }
    this.schedule();
  };

  /** Where the wall clock says the CPU should be (Infinity when not paced). */
  private dueCycles(): number {
    const { speed } = this.options;
    return Number.isFinite(speed) ? ((performance.now() - this.started) * speed * UNO_CLOCK_HZ) / 1000 : Infinity;
  }

  private schedule(): void {
    if (this.stopped) return;
    // More than a slice behind the wall clock (or unpaced): straight on. Otherwise wait for the
    // next slice: the clock always moves on while a slice runs, and running each sliver of it at
    // once kept a core busy to emulate a board that is idle most of the time.
    this.timer = this.dueCycles() - this.uno.cpu.cycles > SLICE_CYCLES ? setImmediate(this.step) : setTimeout(this.step, SLICE_MS);
  }
}

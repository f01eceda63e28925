/**
 * Runs an avr8js CPU: steps busy code instruction by instruction and jumps over idle loops, with
 * the same result as stepping, cycle for cycle.
 *
 * avr8js runs SLEEP as a one-cycle no-op, so firmware that sleeps until an interrupt
 * (`while (nothing to do) sleep_mode();`) spins in that loop instead, most of the time. When one
 * turn of a loop through a SLEEP leaves the machine as it found it, the turns that follow are
 * known without running them: the runner moves from clock event to clock event, putting the CPU
 * at each event where stepping would have it (the same instruction boundary, cycle and registers),
 * fires the event as the CPU's tick() does, and goes back to stepping as soon as an event changes
 * an I/O register or an interrupt is due.
 *
 * This rests on what avr8js's peripherals do: clock events change I/O registers only (never CPU
 * registers or SRAM) and read no CPU register; a turn in which no peripheral hook ran touched
 * nothing but plain memory. The private field nextClockEvent is read (avr8js 0.21).
 */
import { avrInstruction, type CPU, type CPUMemoryHook } from 'avr8js';

const SLEEP = 0x9588;
const IO_START = 0x20;
const IO_END = 0x100;
/** Longer turns are not idle loops worth jumping over. */
const MAX_TURN = 32;

interface ClockEvent {
  readonly cycles: number;
}

/** Cycles whose instruction lies in [from, to) (byte addresses). */
interface Counter {
  readonly from: number;
  readonly to: number;
  inside: number;
}

export class AvrRunner {
  /** Cycles jumped over rather than stepped. */
  jumpedCycles = 0;
  private hookCalls = 0;
  private counter: Counter | undefined;
  // The recorded turn: after its instruction j (1..m), the CPU is at offsets[j] cycles from the
  // turn's start, about to run pcs[j], with data snaps[j]; index 0 is the start (the SLEEP).
  private readonly offsets: number[] = [0];
  private readonly pcs: number[] = [0];
  private readonly snaps: Uint8Array[] = [];
  /** The SRAM part of each snap. */
  private readonly srams: Uint8Array[] = [];
  private recording = false;
  private readonly reads: number[] = [];
  /** The snaps as 32-bit words, for a quick comparison. */
  private readonly words: Uint32Array[] = [];
  /** Addresses whose value changes during the turn. */
  private readonly varying: number[] = [];
  /** I/O registers the turn reads or writes: an event that changes one ends the jump. */
  private readonly watched: number[] = [];
  private readonly marks: Uint8Array;
  private readonly firstAtOrAfter: number[] = [];

  /** jumpIdle false: step every instruction, as avr8js alone does (for comparisons). */
  constructor(
    private readonly cpu: CPU,
    private readonly jumpIdle = true,
  ) {
    this.marks = new Uint8Array(cpu.data.length);
    if (!jumpIdle) return;
    // Count peripheral hook calls (a turn that ran one is not plain memory work) and, while a turn
    // is recorded, note the addresses it reads.
    const count = (): void => void this.hookCalls++;
    const readHooks = cpu.readHooks as unknown as (((addr: number) => number) | undefined)[];
    const writeHooks = cpu.writeHooks as unknown as (CPUMemoryHook | undefined)[];
    readHooks.forEach((hook, addr) => {
      if (hook) readHooks[addr] = (a) => (count(), hook(a));
    });
    writeHooks.forEach((hook, addr) => {
      if (hook) writeHooks[addr] = (value, old, a, mask) => (count(), hook(value, old, a, mask));
    });
    const readData = cpu.readData;
    cpu.readData = (addr) => {
      if (this.recording) this.reads.push(addr);
      return readData.call(cpu, addr);
    };
    for (let j = 0; j <= MAX_TURN; j++) {
      this.snaps.push(new Uint8Array(cpu.data.length));
      this.srams.push(this.snaps[j]!.subarray(IO_END));
      this.words.push(new Uint32Array(this.snaps[j]!.buffer));
    }
  }

  /** Runs until the CPU's cycle count reaches end (at an instruction boundary, as stepping does). */
  runUntil(end: number): void {
    const cpu = this.cpu;
    const prog = cpu.progMem;
    while (cpu.cycles < end) {
      if (this.jumpIdle && prog[cpu.pc] === SLEEP && cpu.nextInterrupt < 0) this.idleTurns(end);
      else this.step();
    }
  }

  /** Like runUntil, returning how many of the cycles ran instructions in [from, to) (byte addresses). */
  runCounting(end: number, from: number, to: number): number {
    const counter = (this.counter = { from, to, inside: 0 });
    try {
      this.runUntil(end);
    } finally {
      this.counter = undefined;
    }
    return counter.inside;
  }

  private step(): void {
    const cpu = this.cpu;
    const pc = cpu.pc * 2;
    const before = cpu.cycles;
    avrInstruction(cpu);
    cpu.tick();
    const c = this.counter;
    if (c && pc >= c.from && pc < c.to) c.inside += cpu.cycles - before;
  }

  /**
   * At a SLEEP: steps one turn of the loop through it, recording it; if the turn is a fixed point
   * of the machine, jumps over the following turns to the next change.
   */
  private idleTurns(end: number): void {
    const { cpu, pcs, snaps } = this;
    const data = cpu.data;
    const start = snaps[0]!;
    start.set(data);
    pcs[0] = cpu.pc;
    this.reads.length = 0;
    this.recording = true;
    let m: number;
    try {
      m = this.recordTurn(end);
    } finally {
      this.recording = false;
    }
    if (m === 0 || cpu.nextInterrupt >= 0 || Buffer.compare(data, start) !== 0) return;
    const inside = this.sideOfCounter(m);
    if (inside === undefined) return;
    this.findVarying(m);
    this.jump(end, m, inside);
  }

  /** Steps one turn from the SLEEP back to it: its length, or 0 if it was not a plain turn or the run ended. */
  private recordTurn(end: number): number {
    const { cpu, offsets, pcs, snaps } = this;
    const data = cpu.data;
    const startCycles = cpu.cycles;
    const hookCalls = this.hookCalls;
    let m = 0;
    do {
      if (m === MAX_TURN) return 0;
      const pc = cpu.pc * 2;
      const before = cpu.cycles;
      avrInstruction(cpu);
      m++;
      offsets[m] = cpu.cycles - startCycles;
      pcs[m] = cpu.pc;
      snaps[m]!.set(data);
      cpu.tick();
      const c = this.counter;
      if (c && pc >= c.from && pc < c.to) c.inside += cpu.cycles - before;
      // An interrupt taken, a hook run, or the run's end: stepping carries on.
      if (cpu.pc !== pcs[m] || this.hookCalls !== hookCalls || cpu.cycles >= end) return 0;
    } while (cpu.pc !== pcs[0]);
    return m;
  }

  /** Whether the turn's instructions all lie inside the counted range (undefined: some do). */
  private sideOfCounter(m: number): boolean | undefined {
    const c = this.counter;
    if (!c) return false;
    let inside = 0;
    for (let j = 0; j < m; j++) {
      const pc = this.pcs[j]! * 2;
      if (pc >= c.from && pc < c.to) inside++;
    }
    return inside === m ? true : inside === 0 ? false : undefined;
  }

  private findVarying(m: number): void {
    const { snaps, srams, words, marks, varying, watched } = this;
    const start = snaps[0]!;
    const startWords = words[0]!;
    varying.length = 0;
    const note = (list: number[], a: number, mark: number): void => {
      if (marks[a]! & mark) return;
      marks[a]! |= mark;
      list.push(a);
    };
    for (let j = 1; j < m; j++) {
      const snap = snaps[j]!;
      const w = words[j]!;
      // Registers and I/O change in any turn; SRAM seldom.
      const to = Buffer.compare(srams[j]!, srams[0]!) === 0 ? IO_END / 4 : w.length;
      for (let i = 0; i < to; i++) {
        if (w[i] === startWords[i]) continue;
        for (let a = 4 * i; a < 4 * i + 4; a++) if (snap[a] !== start[a]) note(varying, a, 1);
      }
    }
    watched.length = 0;
    for (const a of varying) if (a >= IO_START && a < IO_END) note(watched, a, 2);
    for (const a of this.reads) if (a >= IO_START && a < IO_END) note(watched, a, 2);
    for (const a of varying) marks[a] = 0;
    for (const a of watched) marks[a] = 0;
  }

  /**
   * From the end of the recorded turn, visits each clock event at the instruction boundary where
   * stepping would fire it, until one changes an I/O register, an interrupt is due, or end.
   */
  private jump(end: number, m: number, inside: boolean): void {
    const { cpu, offsets, pcs, snaps, varying, watched } = this;
    const data = cpu.data;
    const queue = cpu as unknown as { nextClockEvent: ClockEvent | null };
    const period = offsets[m]!;
    // For each cycle offset into a turn, the first boundary at or after it.
    const firstAtOrAfter = this.firstAtOrAfter;
    for (let r = 0, j = 0; r <= period; r++) {
      while (offsets[j]! < r) j++;
      firstAtOrAfter[r] = j;
    }
    const from = cpu.cycles;
    // The CPU is at boundary j of the turn that started at turnStart (boundary 0 is the SLEEP).
    let turnStart = from;
    let j = 0;
    for (;;) {
      const event = queue.nextClockEvent;
      const target = event === null || event.cycles > end ? end : event.cycles;
      // On to the first later boundary whose cycle count reaches the target.
      if (target <= turnStart + offsets[j + 1]!) {
        if (++j === m) {
          j = 0;
          turnStart += period;
        }
      } else {
        const turns = Math.floor((target - turnStart) / period);
        turnStart += turns * period;
        // Boundaries lie on whole cycles; a paced run's end need not.
        j = firstAtOrAfter[Math.ceil(target - turnStart)]!;
        if (j === m) {
          j = 0;
          turnStart += period;
        }
      }
      const snap = snaps[j]!;
      cpu.cycles = turnStart + offsets[j]!;
      cpu.pc = pcs[j]!;
      for (let i = 0; i < varying.length; i++) data[varying[i]!] = snap[varying[i]!]!;
      cpu.tick();
      if (cpu.cycles >= end || cpu.nextInterrupt >= 0 || cpu.pc !== pcs[j] || changed(watched, data, snap)) break;
    }
    this.jumpedCycles += cpu.cycles - from;
    if (inside) this.counter!.inside += cpu.cycles - from;
  }
}

function changed(addresses: readonly number[], data: Uint8Array, snap: Uint8Array): boolean {
  for (let i = 0; i < addresses.length; i++) if (data[addresses[i]!] !== snap[addresses[i]!]) return true;
  return false;
}

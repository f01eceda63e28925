/**
 * The simulated board's counters in shared memory: the simulation's thread writes them after every
 * slice, the caller's thread reads them whenever it likes, without a message.
 */
export interface BoardCounters {
  readonly cycles: number;
  /** Serial bytes the board sent, and those the pty could not take (nobody reading). */
  readonly bytesOut: number;
  readonly bytesDropped: number;
}

export class SharedBoardCounters {
  private readonly values: BigInt64Array;

  constructor(readonly buffer = new SharedArrayBuffer(3 * BigInt64Array.BYTES_PER_ELEMENT)) {
    this.values = new BigInt64Array(buffer);
  }

  write(counters: BoardCounters): void {
    Atomics.store(this.values, 0, BigInt(counters.cycles));
    Atomics.store(this.values, 1, BigInt(counters.bytesOut));
    Atomics.store(this.values, 2, BigInt(counters.bytesDropped));
  }

  read(): BoardCounters {
    return {
      cycles: Number(Atomics.load(this.values, 0)),
      bytesOut: Number(Atomics.load(this.values, 1)),
      bytesDropped: Number(Atomics.load(this.values, 2)),
    };
  }
}

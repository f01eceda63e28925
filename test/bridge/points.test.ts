import { describe, expect, it } from 'vitest';
import { decodeDeviceLine, decodeStreamLine, formatPlotlyDate } from '../../shared/index.js';
import { takeBatch } from '../../bridge/batch.js';
import { DeviceClock } from '../../bridge/device-clock.js';
import { decimate } from '../../bridge/decimate.js';
import { PointBuffer, pointBytes } from '../../bridge/point-buffer.js';
import { PointRouter, type PointSink } from '../../bridge/point-router.js';

describe('DeviceClock', () => {
  it('anchors device time to the arrival time and keeps the device spacing', () => {
    const c = new DeviceClock();
    expect(c.wallTime(1000, 50_000)).toBe(50_000);
    expect(c.wallTime(1002, 50_009)).toBe(50_002);
    expect(c.wallTime(1500, 50_400)).toBe(50_500);
  });

  it('unwraps t across 2^32', () => {
    const c = new DeviceClock();
    const base = 1_000_000;
    c.wallTime(2 ** 32 - 2, base);
    expect(c.wallTime(2 ** 32 - 1, base + 1)).toBe(base + 1);
    expect(c.wallTime(0, base + 2)).toBe(base + 2);
    expect(c.wallTime(3, base + 5)).toBe(base + 5);
  });

  it('re-anchors, forwards, only when the device lags for longer than persistMs, and after reset()', () => {
    const c = new DeviceClock(100, 1000);
    c.wallTime(0, 10_000);
    // A late read: the lag passes, the device spacing stays.
    expect(c.wallTime(500, 10_700)).toBe(10_500);
    expect(c.wallTime(502, 10_702)).toBe(10_502);
    expect(c.wallTime(600, 10_601)).toBe(10_600);
    expect(c.reanchors).toBe(0);
    // A lasting lag (a slow device clock) moves the anchor forwards.
    expect(c.wallTime(1000, 11_300)).toBe(11_000);
    expect(c.wallTime(2100, 12_400)).toBe(12_400);
    expect(c.reanchors).toBe(1);
    c.reset();
    expect(c.wallTime(5, 20_000)).toBe(20_000);
  });

  it('anchors again when t goes back (the board reset, its hello lost), after the points already given out', () => {
    const c = new DeviceClock();
    c.wallTime(0, 10_000);
    // A backlog read at once: a minute of device time arrives in 100 ms, running ahead.
    expect(c.wallTime(60_000, 10_100)).toBe(70_000);
    c.gave(70_000);
    // The board starts over at t = 5: not a minute in the past, and not before what was given out.
    expect(c.wallTime(5, 10_200)).toBe(70_001);
    expect(c.wallTime(15, 10_210)).toBe(70_011);
    expect(c.restarts).toBe(1);
    // A beat's t a few seconds before the last sample's is no restart.
    c.wallTime(4_000, 14_200);
    expect(c.wallTime(1_500, 14_210)).toBe(71_496);
    expect(c.restarts).toBe(1);
  });

  it('never goes back when the device runs ahead of arrival', () => {
    const c = new DeviceClock(100, 1000);
    c.wallTime(0, 10_000);
    const xs = [c.wallTime(1000, 9_000), c.wallTime(3000, 9_500), c.wallTime(3001, 12_001)];
    expect(xs).toEqual([11_000, 13_000, 13_001]);
    expect(c.reanchors).toBe(0);
  });
});

function collect(xMode: 'date' | 'seconds' = 'date'): { router: PointRouter; got: Record<string, Array<[number | string, number]>> } {
  const got: Record<string, Array<[number | string, number]>> = {};
  const sinks = new Map<string, PointSink>();
  for (const ch of ['ecg', 'beat.bpm', 'temp']) {
    sinks.set(ch, (xs, ys, from, to) => {
      for (let i = from; i < to; i++) (got[ch] ??= []).push([xs[i] as number, ys[i] as number]);
    });
  }
  return { router: new PointRouter(sinks, xMode), got };
}

describe('PointRouter', () => {
  const at = Date.UTC(2026, 10, 22, 10, 0, 0, 0);

  it('spreads an array of samples at 1/rate from t, as wall-clock ms', () => {
    const { router, got } = collect();
    router.route(decodeDeviceLine('{"hello":1,"fw":"1","board":"uno","rate":500,"ch":["ecg"],"spl":3}'), at);
    router.route(decodeDeviceLine('{"n":0,"t":100,"ecg":[1,2,3]}'), at);
    router.route(decodeDeviceLine('{"n":1,"t":106,"ecg":[4,5,6]}'), at + 7);
    expect(got.ecg).toEqual([0, 2, 4, 6, 8, 10].map((ms, i) => [at + ms, i + 1]));
  });

  it('gives seconds since start, routes EVENT.KEY, and notes unmapped channels once', () => {
    const { router, got } = collect('seconds');
    router.route(decodeDeviceLine('{"t":1000,"ecg":1,"resp":9}'), at);
    router.route(decodeDeviceLine('{"t":1250,"ecg":2,"resp":9}'), at + 250);
    router.route(decodeDeviceLine('{"ev":"beat","bpm":72,"ibi":833,"t":1500}'), at + 500);
    expect(got.ecg).toEqual([
      [0, 1],
      [0.25, 2],
    ]);
    expect(got['beat.bpm']).toEqual([[0.5, 72]]);
    expect(router.counts.unmapped).toEqual(['resp']);
  });

  it('uses the arrival time for lines without t', () => {
    const { router, got } = collect();
    router.route(decodeDeviceLine('{"temp":21.5}'), at + 1234.5);
    expect(got.temp).toEqual([[at + 1234.5, 21.5]]);
  });

  it('after a reset (a hello, or n starting over) anchors again, after the last point of the last line', () => {
    const { router, got } = collect();
    const hello = decodeDeviceLine('{"hello":1,"fw":"1","board":"uno","rate":500,"ch":["ecg"],"spl":3}');
    router.route(hello, at);
    // Read late and at once: device time ran ahead of arrival, to at + 20 ms for the last sample.
    router.route(decodeDeviceLine('{"n":0,"t":0,"ecg":[1,2,3]}'), at);
    router.route(decodeDeviceLine('{"n":1,"t":14,"ecg":[4,5,6]}'), at + 1);
    router.route(hello, at + 2);
    router.route(decodeDeviceLine('{"n":0,"t":0,"ecg":[7,8,9]}'), at + 2);
    // n starts over (its hello lost), t only a little back: a reset all the same (the board's
    // decoder sees n start over and tells the router).
    router.restarted();
    router.route(decodeDeviceLine('{"n":0,"t":2,"ecg":[10,11,12]}'), at + 40);
    const xs = got.ecg!.map(([x]) => x as number);
    expect(xs).toEqual([0, 2, 4, 14, 16, 18, 19, 21, 23, 40, 42, 44].map((ms) => at + ms));
  });
});

describe('a board that resets', () => {
  const at = Date.UTC(2026, 10, 22, 10, 0, 0, 0);
  const hello = '{"hello":1,"fw":"1","board":"uno","rate":500,"ch":["ecg"],"spl":5}';

  it.each([
    ['a new hello', (router: PointRouter) => router.route(decodeDeviceLine(hello), at + 600)],
    ['"n" starting over (the router is told)', (router: PointRouter) => router.restarted()],
    ['"t" going back by more than RESTART_MS, unannounced', () => undefined],
  ])('after %s, no point is stored before an earlier one of the same board', (_what, reset) => {
    const { router, got } = collect();
    router.route(decodeDeviceLine(hello), at);
    // The board's clock runs ahead of arrival: its x are later than the lines' arrival times.
    for (let i = 0; i < 100; i++) router.route(decodeDeviceLine(`{"n":${i},"t":${10_000 + i * 10},"ecg":[1,2,3,4,5]}`), at + i * 5);
    const before = got.ecg!.at(-1)![0] as number;
    reset(router);
    // It restarts: t from 0, arriving (by the host clock) before the last x given.
    router.route(decodeDeviceLine('{"n":0,"t":5,"ecg":[9,9,9,9,9]}'), at + 600);
    router.route(decodeDeviceLine('{"n":1,"t":15,"ecg":[8,8,8,8,8]}'), at + 610);
    const after = got.ecg!.slice(500).map(([x]) => x as number);
    expect(after[0]).toBeGreaterThan(before);
    for (let i = 1; i < after.length; i++) expect(after[i]!).toBeGreaterThan(after[i - 1]!);
    // The device spacing is kept after the new anchor.
    expect(after[5]! - after[0]!).toBe(10);
  });
});

describe('decimate (legacy, lossy)', () => {
  const xs = [1, 2, 3, 4];
  const ys = [5, -1, 9, 3];
  it('last, mean and minmax', () => {
    expect(decimate('last', xs, ys)).toEqual([{ x: 4, y: 3 }]);
    expect(decimate('mean', xs, ys)).toEqual([{ x: 4, y: 4 }]);
    expect(decimate('minmax', xs, ys)).toEqual([
      { x: 2, y: -1 },
      { x: 3, y: 9 },
    ]);
    expect(decimate('minmax', [1], [7])).toEqual([{ x: 1, y: 7 }]);
    expect(decimate('last', [], [])).toEqual([]);
  });
});

/** The next `max` unsent points of a buffer, read through its accessors. */
function unsent(b: PointBuffer, max: number): { seq: number; x: Array<number | string>; y: number[] } {
  const n = Math.min(max, b.unsent);
  return { seq: b.startSeq + b.cursor, x: Array.from({ length: n }, (_, i) => b.x(i)), y: Array.from({ length: n }, (_, i) => b.y(i)) };
}

describe('PointBuffer', () => {
  it('numbers points, acknowledges what the server stored and resends the rest after a break', () => {
    const b = new PointBuffer(1e6);
    for (let i = 0; i < 10; i++) b.push(i, i);
    b.renumber(100);
    expect(unsent(b, 4)).toEqual({ seq: 100, x: [0, 1, 2, 3], y: [0, 1, 2, 3] });
    b.advance(4);
    expect(unsent(b, 100).seq).toBe(104);
    b.advance(6);
    expect(b.acknowledge(103)).toBe(3);
    expect(b.resync(106)).toEqual({ stored: 3, gap: 0, ahead: 0 });
    expect(unsent(b, 100)).toEqual({ seq: 106, x: [6, 7, 8, 9], y: [6, 7, 8, 9] });
  });

  it('drops the oldest when over budget: unsent ones keep the numbering without holes', () => {
    const per = pointBytes(0);
    const b = new PointBuffer(per * 5);
    for (let i = 0; i < 8; i++) b.push(i, i);
    expect(b.length).toBe(5);
    expect(b.dropped).toBe(3);
    expect(unsent(b, 10)).toEqual({ seq: 0, x: [3, 4, 5, 6, 7], y: [3, 4, 5, 6, 7] });
    b.advance(2);
    b.push(8, 8);
    // A written point was dropped: the server may hold it, so the others keep their numbers.
    expect(b.startSeq).toBe(1);
    expect(unsent(b, 10).seq).toBe(2);
  });

  it('reports a gap when the server lacks points the buffer dropped, and a writer ahead of it', () => {
    const b = new PointBuffer(1e6);
    for (let i = 0; i < 5; i++) b.push(i, i);
    b.renumber(10);
    b.advance(5);
    expect(b.resync(8)).toEqual({ stored: 0, gap: 2, ahead: 0 });
    expect(unsent(b, 10).seq).toBe(8);
    expect(b.resync(20)).toEqual({ stored: 5, gap: 0, ahead: 7 });
    expect(b.length).toBe(0);
  });
});

describe('PointBuffer ring', () => {
  it('keeps order and numbering across wraparound, growth and shrinking, with string x kept apart', () => {
    const b = new PointBuffer(1e9);
    let pushed = 0;
    let taken = 0;
    // Rounds of uneven pushes and acknowledgements walk the ring's head around its end, grow
    // it past 1024 slots (an outage) and shrink it again (the backlog sent).
    const rounds: Array<[push: number, take: number]> = [[700, 500], [700, 500], [5000, 0], [0, 5300], [900, 800], [50, 250]];
    for (const [push, take] of rounds) {
      for (let i = 0; i < push; i++, pushed++) b.push(pushed % 7 === 0 ? `label ${pushed}` : pushed, -pushed);
      const got = unsent(b, take);
      expect(got.seq).toBe(taken);
      expect(got.y).toEqual(Array.from({ length: take }, (_, i) => -(taken + i)));
      expect(got.x).toEqual(Array.from({ length: take }, (_, i) => ((taken + i) % 7 === 0 ? `label ${taken + i}` : taken + i)));
      b.advance(take);
      taken += take;
      b.acknowledge(taken);
      expect(b.length).toBe(pushed - taken);
    }
    expect(b.length).toBe(0);
    expect(b.bytes).toBe(0);
  });
});

describe('takeBatch', () => {
  it('splits points whose text would make the line longer than MAX_STREAM_LINE', async () => {
    const { MAX_STREAM_LINE } = await import('../../shared/index.js');
    const b = new PointBuffer(1e9);
    const big = 'x'.repeat(MAX_STREAM_LINE / 4);
    for (let i = 0; i < 10; i++) b.push(i, i, { text: big });
    const lines: string[] = [];
    for (let batch = takeBatch(b); batch; batch = takeBatch(b)) lines.push(batch.line.toString());
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThan(MAX_STREAM_LINE);
    expect(lines.flatMap((l) => (JSON.parse(l) as { append: { y: number[] } }).append.y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });


  it('makes one batch-append object of the unsent points, valid by the shared schema', async () => {
    const { takeBatch } = await import('../../bridge/batch.js');
    const { decodeStreamLine, pointCount, MAX_BATCH_POINTS } = await import('../../shared/index.js');
    const b = new PointBuffer(1e9);
    for (let i = 0; i < MAX_BATCH_POINTS + 5; i++) b.push(Date.UTC(2026, 0, 1) + i * 2, i);
    b.renumber(7);
    const first = takeBatch(b, undefined, 'utc')!;
    expect(first.points).toBe(MAX_BATCH_POINTS);
    const decoded = decodeStreamLine(first.line.toString());
    expect(decoded.kind === 'object' && decoded.object.seq).toBe(7);
    expect(decoded.kind === 'object' && pointCount(decoded.object)).toBe(MAX_BATCH_POINTS);
    expect(JSON.parse(takeBatch(b, undefined, 'utc')!.line.toString())).toEqual({ append: { x: [1, 2, 3, 4, 5].map((i) => formatPlotlyDate(Date.UTC(2026, 0, 1) + (MAX_BATCH_POINTS + i - 1) * 2, true)), y: [0, 1, 2, 3, 4].map((i) => MAX_BATCH_POINTS + i) }, seq: 7 + MAX_BATCH_POINTS });
    expect(takeBatch(b)).toBeUndefined();
  });
});

describe('per-point styles (text, marker, line)', () => {
  it('go out as columns beside x and y, null where a point has none, and survive compaction', () => {
    const buffer = new PointBuffer(1 << 20);
    for (let i = 0; i < 5000; i++) buffer.push(i, i);
    buffer.acknowledge(0);
    buffer.advance(5000);
    buffer.acknowledge(5000);
    buffer.push(1, 10, { text: 'Norway', marker: { size: 30 } });
    buffer.push(2, 20);
    buffer.push(3, 30, { marker: { size: 12, color: 'red' }, line: { width: 2 } });
    const batch = takeBatch(buffer);
    expect(JSON.parse(batch!.line.toString())).toEqual({
      append: {
        x: [1, 2, 3],
        y: [10, 20, 30],
        text: ['Norway', null, null],
        marker: { size: [30, null, 12], color: [null, null, 'red'] },
        line: { width: [null, null, 2] },
      },
      seq: 5000,
    });
    expect(decodeStreamLine(batch!.line.toString()).kind).toBe('object');
  });

  it('a batch of plain points stays plain', () => {
    const buffer = new PointBuffer(1 << 20);
    buffer.push(1, 2);
    expect(JSON.parse(takeBatch(buffer)!.line.toString())).toEqual({ append: { x: [1], y: [2] }, seq: 0 });
  });
});

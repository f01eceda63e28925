/** --create-plot's layout, from what the board said (plot-layout.ts). */
import { describe, expect, it } from 'vitest';
import { decodeDeviceLine, type HelloLine } from '../../shared/index.js';
import { plotLayout } from '../../bridge/plot-layout.js';

const hello = (text: string): HelloLine => decodeDeviceLine(text).line as HelloLine;
type Axis = { title: { text: string }; domain: [number, number]; range?: number[] };

describe('plotLayout', () => {
  it("the README's heart command: ECG above, heart rate below on 30-220 with a marker at each beat, units from the hello", () => {
    const h = hello('{"hello":1,"fw":"0.1.0","board":"uno","rate":500,"ch":["ecg"],"spl":5,"mode":"ecg"}');
    const { layout, traces } = plotLayout([{ hello: h, map: { ecg: 'T1', 'beat.bpm': 'T2' } }], { title: 'My heart', seconds: 10 });
    const [y, y2] = [layout.yaxis as Axis, layout.yaxis2 as Axis];
    expect(y.title.text).toBe('ecg (ADC counts)');
    expect(y2.title.text).toBe('heart rate (beats per minute)');
    expect(y2.range).toEqual([30, 220]);
    // One panel each, not overlapping, the ECG's the larger.
    expect(y2.domain[1]).toBeLessThan(y.domain[0]);
    expect(y.domain[1] - y.domain[0]).toBeGreaterThan(y2.domain[1] - y2.domain[0]);
    expect(traces.map((t) => [t.token, t.props.yaxis, t.props.mode])).toEqual([
      ['T1', 'y', 'lines'],
      ['T2', 'y2', 'lines+markers'],
    ]);
    // The same 10 s window: 5,000 samples at 500 Hz; beats at up to 90 a minute.
    expect(traces.map((t) => t.maxpoints)).toEqual([5000, 15]);
    expect((layout.title as { text: string }).text).toBe('My heart');
  });

  it('a sketch with no hello: each channel its own panel (their scales are unknown)', () => {
    const { layout, traces } = plotLayout([{ map: { temp: 'A', hum: 'B' } }], { title: 'Room' });
    expect([(layout.yaxis as Axis).title.text, (layout.yaxis2 as Axis).title.text]).toEqual(['temp', 'hum']);
    expect(traces.map((t) => t.props.yaxis)).toEqual(['y', 'y2']);
    expect(layout.showlegend).toBe(false);
  });

  it('channels of one unit share a panel with a legend; --maxpoints sets every trace', () => {
    const h = hello('{"hello":1,"fw":"1","board":"esp32","rate":1,"ch":["in","out","rh"],"unit":["°C","°C","%"]}');
    const { layout, traces } = plotLayout([{ hello: h, map: { in: 'A', out: 'B', rh: 'C', 'quality.q': 'D' } }], { title: 'Weather', maxpoints: 100 });
    expect((layout.yaxis as Axis).title.text).toBe('°C');
    expect((layout.yaxis2 as Axis).title.text).toBe('rh (%)');
    expect((layout.yaxis3 as Axis).title.text).toBe('signal quality (%)');
    expect((layout.yaxis3 as Axis).range).toEqual([0, 100]);
    expect(traces.map((t) => [t.props.name, t.props.yaxis])).toEqual([
      ['in', 'y'],
      ['out', 'y'],
      ['rh', 'y2'],
      ['signal quality', 'y3'],
    ]);
    expect(layout.showlegend).toBe(true);
    expect(traces.every((t) => t.maxpoints === 100)).toBe(true);
  });
});

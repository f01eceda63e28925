/** Point columns, the in-memory window, layout merging and Plotly's form parsing. */
import { describe, expect, it } from 'vitest';
import { dataChange, traceUpdate } from '../../server/data/columns.js';
import { LayoutError, mergeLayout } from '../../server/data/layout.js';
import { RecentPoints } from '../../server/data/recent-points.js';
import { parseClientForm } from '../../server/http/client-form.js';

describe('dataChange (Plotly per-key rule)', () => {
  it('scalars append one point, arrays replace', () => {
    expect(dataChange({ x: 1, y: 2, marker: { size: 3 } })).toEqual({ append: { x: [1], y: [2], 'marker.size': [3] }, appendCount: 1 });
    expect(dataChange({ x: [1, 2], y: [3, 4] })).toEqual({ replace: { x: [1, 2], y: [3, 4] }, appendCount: 0 });
    expect(dataChange({ append: { x: [1, 2], line: { width: [1, 2] } } })).toEqual({ append: { x: [1, 2], 'line.width': [1, 2] }, appendCount: 2 });
    expect(dataChange({ layout: {} })).toEqual({ appendCount: 0 });
  });
  it('turns columns back into a trace update', () => {
    expect(traceUpdate({ x: [1], 'marker.size': [2], 'marker.color': ['red'] })).toEqual({ x: [1], marker: { size: [2], color: ['red'] } });
  });
});

describe('RecentPoints', () => {
  it('keeps the newest capacity points, numbered cumulatively', () => {
    const r = new RecentPoints(3);
    r.append({ y: [1, 2] });
    r.append({ y: [3, 4, 5] });
    expect(r.tail(10)).toEqual({ y: [3, 4, 5] });
    expect(r.endIndex).toBe(5);
    expect(r.since(3)).toEqual({ y: [4, 5] });
    expect(r.since(1)).toBeUndefined();
    expect(r.since(5)).toEqual({ y: [] });
  });
  it('aligns columns that appear late or go missing with nulls', () => {
    const r = new RecentPoints(10);
    r.append({ y: [1] });
    r.append({ y: [2], text: ['b'] });
    r.append({ y: [3] });
    expect(r.tail(10)).toEqual({ y: [1, 2, 3], text: [null, 'b', null] });
  });
  it('a replace starts over and hides what came before from resuming viewers', () => {
    const r = new RecentPoints(10);
    r.append({ y: [1, 2] });
    r.replace({ y: [7] });
    expect(r.tail(10)).toEqual({ y: [7] });
    expect(r.since(1)).toBeUndefined();
    expect(r.since(2)).toEqual({ y: [7] });
  });
  it('stays bounded over many appends', () => {
    const r = new RecentPoints(100);
    for (let i = 0; i < 10_000; i++) r.append({ y: [i] });
    expect(r.length).toBe(100);
    expect(r.tail(2)).toEqual({ y: [9998, 9999] });
  });
});

describe('mergeLayout', () => {
  it('merges objects, replaces arrays and scalars, removes on null', () => {
    expect(mergeLayout({ title: { text: 'a', x: 0 }, shapes: [1], height: 3 }, { title: { text: 'b' }, shapes: [2], height: null })).toEqual({
      title: { text: 'b', x: 0 },
      shapes: [2],
    });
  });
  it('refuses prototype keys and deep nesting', () => {
    expect(() => mergeLayout({}, JSON.parse('{"__proto__":{"polluted":1}}') as Record<string, unknown>)).toThrow(LayoutError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => mergeLayout({}, JSON.parse(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`) as Record<string, unknown>)).toThrow('nested deeper');
  });
});

describe('parseClientForm', () => {
  it('splits raw JSON values at known field names only', () => {
    const form = parseClientForm('un=bob&key=k&args=[{"x":[1],"text":["a&b=c"]}]&kwargs={"filename":"x & y","fileopt":"new"}&origin=plot');
    expect(JSON.parse(form.args as string)).toEqual([{ x: [1], text: ['a&b=c'] }]);
    expect(JSON.parse(form.kwargs as string)).toEqual({ filename: 'x & y', fileopt: 'new' });
    expect(form.un).toBe('bob');
  });
  it('decodes URL-encoded values', () => {
    const form = parseClientForm(`un=bob&args=${encodeURIComponent('[{"y":[1]}]')}&kwargs=${encodeURIComponent('{"filename":"a+b"}')}`);
    expect(JSON.parse(form.args as string)).toEqual([{ y: [1] }]);
    expect(JSON.parse(form.kwargs as string)).toEqual({ filename: 'a+b' });
  });
});

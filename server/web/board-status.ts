/**
 * The board's status line, from the hidden traces the bridge's plot layout gives it (trace
 * meta.status): an electrode off ("lead", 1 = off), the signal state ("signal", a code into
 * meta.states: ok, noisy, flat, lost, clipped, weak) and lines the board dropped ("drops").
 * Each is the trace's newest point, or for drops their sum, so it appears with the point.
 */
export interface Flag {
  readonly kind: string;
  readonly text: string;
  /** ok, warn (no beats or rate from this signal), alert (a lead is off). */
  readonly level: 'ok' | 'warn' | 'alert';
}

/** What the board says of its signal state: why there is no beat. */
const SIGNAL_TEXT: Record<string, string> = {
  ok: 'signal ok',
  noisy: 'signal too noisy: no beats',
  flat: 'flat signal: is the sensor connected?',
  lost: 'no beat found for a while',
  clipped: 'signal clipped at the ADC rail',
  weak: 'signal too weak: check the contact',
};

type Meta = { status?: unknown; states?: unknown };

const lastNumber = (ys: readonly unknown[]): number | undefined => ys.findLast((v) => typeof v === 'number') as number | undefined;

export function boardFlags(traces: readonly { meta?: unknown }[], ys: (i: number) => readonly unknown[]): Flag[] {
  const flags: Flag[] = [];
  traces.forEach((t, i) => {
    const meta = (t.meta ?? {}) as Meta;
    const last = lastNumber(ys(i));
    if (meta.status === 'lead' && last !== undefined) flags.push(last ? { kind: 'lead', text: 'lead off', level: 'alert' } : { kind: 'lead', text: 'leads on', level: 'ok' });
    if (meta.status === 'signal' && last !== undefined) {
      const state = Array.isArray(meta.states) ? String(meta.states[last] ?? `state ${last}`) : `state ${last}`;
      flags.push({ kind: 'signal', text: SIGNAL_TEXT[state] ?? `signal ${state}`, level: state === 'ok' ? 'ok' : 'warn' });
    }
    if (meta.status === 'drops') {
      const total = ys(i).reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);
      if (total > 0) flags.push({ kind: 'drops', text: `board dropped ${total.toLocaleString('en-US')} lines`, level: 'warn' });
    }
  });
  return flags;
}

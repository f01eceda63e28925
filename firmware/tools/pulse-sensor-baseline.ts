/**
 * The baseline the firmware's detector is scored against: the PulseSensorPlayground beat finder,
 * written from its description. At 500 Hz: the threshold sits halfway between the last peak and
 * trough; a beat is when the signal rises through it more than 250 ms and 3/5 of the last IBI
 * after the previous beat; BPM is the mean of the last 10 IBIs; after 2.5 s without a beat
 * everything resets.
 */
export interface BaselineBeat {
  /** Sample index of the beat. */
  readonly sample: number;
  /** Interval from the previous beat, ms; 0 for the first after a reset. */
  readonly ibiMs: number;
  readonly bpm: number;
}

const THRESH_SETTING = 550;
const MID = 512;

/** Runs the baseline over 10-bit ADC samples taken at rateHz. */
export function pulseSensorBeats(codes: ArrayLike<number>, rateHz: number): BaselineBeat[] {
  const msPerSample = 1000 / rateHz;
  const beats: BaselineBeat[] = [];
  const rate: number[] = new Array<number>(10).fill(0);
  let thresh = THRESH_SETTING;
  let peak = MID;
  let trough = MID;
  let ibi = 750;
  let pulse = false;
  let firstBeat = true;
  let secondBeat = false;
  let lastBeatMs = 0;
  for (let i = 0; i < codes.length; i++) {
    const signal = codes[i]!;
    const nowMs = i * msPerSample;
    const sinceBeat = nowMs - lastBeatMs;
    if (signal < thresh && sinceBeat > (ibi / 5) * 3 && signal < trough) trough = signal;
    if (signal > thresh && signal > peak) peak = signal;
    if (sinceBeat > 250 && signal > thresh && !pulse && sinceBeat > (ibi / 5) * 3) {
      pulse = true;
      ibi = sinceBeat;
      lastBeatMs = nowMs;
      if (secondBeat) {
        secondBeat = false;
        rate.fill(ibi);
      }
      if (firstBeat) {
        // The first interval after a reset is not trusted: no BPM yet.
        firstBeat = false;
        secondBeat = true;
        beats.push({ sample: i, ibiMs: 0, bpm: 0 });
      } else {
        rate.shift();
        rate.push(ibi);
        beats.push({ sample: i, ibiMs: ibi, bpm: 60000 / (rate.reduce((a, b) => a + b, 0) / rate.length) });
      }
    }
    if (signal < thresh && pulse) {
      pulse = false;
      const amp = peak - trough;
      thresh = amp / 2 + trough;
      peak = thresh;
      trough = thresh;
    }
    if (sinceBeat > 2500) {
      thresh = THRESH_SETTING;
      peak = MID;
      trough = MID;
      lastBeatMs = nowMs;
      firstBeat = true;
      secondBeat = false;
    }
  }
  return beats;
}

#include "beat_detector.h"

namespace pw {

#if defined(__AVR__)
static_assert(sizeof(BeatDetector) <= 200, "the beat detector keeps at most 200 bytes of state on the board");
#endif

namespace {

const uint8_t kFirstBeat = 0x01;  // the next beat is the first since (re)arming or a gap: no interval
const uint8_t kUnset = 0x02;      // the filters have not seen a sample yet
const uint8_t kLeadOff = 0x04;    // the lead-off input was set at the last sample

// Raw ADC levels over level windows of half a second: a quarter of one at a rail is clipping (a
// sensor's gain or light too high; an ECG front end drives its output to a rail when an
// electrode is off). Windows in a row for 3 s (a beat even at 20 bpm, and longer than a quiet
// diastole) whose range stays under kFlatRange are a flat line; under the tuning's weak range,
// too small a signal. A signal of a heart's size ends either at once.
const uint16_t kRailLow = 2;
const uint16_t kRailHigh = 1021;
const uint16_t kFlatRange = 4;
const uint16_t kLevelWindowMs = 500;
const uint8_t kQuietWindows = 6;

const uint16_t kLearnSeconds = 2;  // after (re)arming only the levels are learnt (Pan & Tompkins: 2 s)
const uint8_t kSettlingBeats = 4;  // then the first beats' peaks move the signal level halfway, not an eighth
const uint8_t kKnownIntervals = 3; // a rate is known after this many intervals in a row
const uint8_t kSettleTimes = 5;    // off a rail, the filters settle for this many high-pass time constants
const uint16_t kLostMs = 3000;     // no beat for this long (at least; and two searchback intervals): the
                                   // signal is lost, the levels are learnt again
const uint16_t kPeakHoldMs = 95;   // Hamilton & Tompkins: a peak not beaten for 95 ms is taken
const uint16_t kPairMs = 150;      // a complex's rise and fall of the raw signal lie this close
const uint16_t kMinBeatMs = 240;   // intervals outside 240 ms .. 3 s (250 .. 20 bpm) are not averaged
const uint16_t kMaxBeatMs = 3000;

// The filter design of each mode: the band, the slope span and the integration window. ECG: a
// 5 Hz high-pass, two 10 Hz low-pass stages and the slope make a band around 10 Hz that keeps the
// QRS and drops P and T waves, baseline wander and most muscle noise and mains. PPG: 0.5..4 Hz
// keeps the pulse wave. The values are written out where they are used, not kept in a table:
// that way they live in the code (flash), not in RAM.
struct Design {
  uint16_t maxRate;   // the highest internal rate: input samples are summed down to at most this
  uint16_t lowMs;     // time constant of each of the two low-pass stages
  uint16_t highMs;    // time constant of the high-pass stage
  uint16_t spanMs;    // the slope is the change over this span
  uint16_t windowMs;  // moving-window integration
  uint16_t delayMs;   // how much later the slope's maximum shows than it happened (filter delay)
};

// Helpers that run at setup or once a beat are kept out of line: the compiler would copy each
// into every caller, which costs the AVR's flash and saves no time that matters.
#define PW_OUT_OF_LINE __attribute__((noinline))

// The shift whose power of two is nearest to a time constant of n samples (at least 1).
PW_OUT_OF_LINE uint8_t shiftFor(uint16_t n) {
  uint8_t s = 1;
  while (s < 15 && (1u << (s + 1)) <= n + (n >> 1)) ++s;
  return s;
}

PW_OUT_OF_LINE uint8_t q8(uint16_t pct) { return (uint8_t)(pct >= 100 ? 255 : ((uint32_t)pct * 256u + 50u) / 100u); }

uint16_t inc(uint16_t v) { return v == 0xFFFFu ? v : (uint16_t)(v + 1u); }

// Pan & Tompkins' regular interval: within 92..116 % of the regular average.
PW_OUT_OF_LINE bool regular(uint16_t rr, uint16_t average) { return (uint32_t)rr * 100u >= (uint32_t)average * 92u && (uint32_t)rr * 100u <= (uint32_t)average * 116u; }

// avg moved 1/2^shift of the way to v, in 16 bits.
uint16_t toward(uint16_t avg, uint16_t v, uint8_t shift) {
  return v >= avg ? (uint16_t)(avg + ((uint16_t)(v - avg) >> shift)) : (uint16_t)(avg - ((uint16_t)(avg - v) >> shift));
}

PW_OUT_OF_LINE uint8_t clampCount(uint16_t n, uint8_t max) { return (uint8_t)(n < 1 ? 1 : n > max ? max : n); }

}  // namespace

DetectorTuning BeatDetector::defaults(Mode mode) {
  // Written out rather than kept in a table: the values live in the code (flash), not in RAM.
  DetectorTuning t;
  t.searchbackPct = 166;  // Pan & Tompkins' "RR missed limit"
  t.tWavePct = 50;        // Pan & Tompkins: a T wave's slope is under half the QRS's
  t.noisyCrest = 12;
  if (mode == PPG) {
    t.thresholdPct = 31;
    t.tWaveMs = 450;      // the dicrotic wave comes 250..400 ms after the pulse
    t.refractoryMs = 300;  // 200 bpm
    t.weakRange = 8;
  } else {
    t.thresholdPct = 31;   // Hamilton & Tompkins' 0.3125 on a linear feature
    t.tWaveMs = 360;       // Pan & Tompkins, Hamilton & Tompkins
    t.refractoryMs = 200;  // both
    t.weakRange = 15;      // 0.15 mV through an AD8232 into a 5 V 10-bit ADC
  }
  return t;
}

uint16_t BeatDetector::internal(uint16_t ms) const { return (uint16_t)(((uint32_t)ms * rateK_) >> 10); }

void BeatDetector::begin(Mode mode, uint16_t rateHz, const DetectorTuning& tuning) {
  mode_ = mode;
  const Design d = mode == PPG ? Design{75, 32, 320, 64, 150, 96} : Design{300, 16, 32, 16, 80, 40};
  decimShift_ = 0;
  while ((uint16_t)(rateHz >> decimShift_) > d.maxRate && decimShift_ < kMaxDecimShift) ++decimShift_;
  rateK_ = (uint16_t)((((uint32_t)rateHz * 1024u >> decimShift_) + 500u) / 1000u);
  if (rateK_ == 0) rateK_ = 1;
  lowShift_ = shiftFor(internal(d.lowMs));
  highShift_ = shiftFor(internal(d.highMs));
  span_ = clampCount(internal(d.spanMs), kMaxSpan);
  window_ = clampCount(internal(d.windowMs), kMaxWindow);
  refractory_ = internal(tuning.refractoryMs);
  tWave_ = internal(tuning.tWaveMs);
  peakHold_ = internal(kPeakHoldMs);
  pairLimit_ = internal(kPairMs);
  second_ = internal(1000);
  lost_ = internal(kLostMs);
  delayIn_ = (uint16_t)((uint32_t)d.delayMs * rateHz / 1000u);
  levelWindow_ = (uint16_t)((uint32_t)rateHz * kLevelWindowMs / 1000u);
  if (levelWindow_ == 0) levelWindow_ = 1;
  weakRange_ = tuning.weakRange;
  thresholdQ8_ = q8(tuning.thresholdPct);
  tWaveQ8_ = q8(tuning.tWavePct);
  noisyCrest_ = (uint8_t)(tuning.noisyCrest > 255 ? 255 : tuning.noisyCrest);
  searchbackQ6_ = (uint8_t)(tuning.searchbackPct >= 398 ? 255 : ((uint32_t)tuning.searchbackPct * 64u + 50u) / 100u);
  // A feature peak smaller than one ADC count across the whole window is quantization, not signal.
  minPeak_ = (uint16_t)(4u * window_);
  featCap_ = (uint16_t)(0xFFFFu / window_);
  settleTime_ = internal((uint16_t)(kSettleTimes * d.highMs));

  flags_ = kUnset;
  decimSum_ = 0;
  decimLeft_ = (uint8_t)(1u << decimShift_);
  spanPos_ = windowPos_ = 0;
  for (uint8_t i = 0; i < kMaxSpan; ++i) band_[i] = raw_[i] = 0;
  for (uint8_t i = 0; i < kMaxWindow; ++i) feat_[i] = 0;
  featSum_ = 0;
  winMin_ = 0xFFFFu;
  winMax_ = 0;
  winRail_ = 0;
  winLeft_ = levelWindow_;
  flatRun_ = weakRun_ = 0;
  status_ = LOST;
  rearm();
}

void BeatDetector::gap() {
  flags_ |= kFirstBeat;
  candMax_ = 0;
  heldLeft_ = 0;
  sb_.value = 0;
  rrAvg_ = 0;
  intervals_ = 0;
  outliers_ = 0;
}

void BeatDetector::rearm() {
  gap();
  holdOff_ = 0;
  lastFeat_ = 0;
  spk_ = npk_ = 0;
  secMax_ = prevSecMax_ = 0;
  secSum_ = 0;
  secLeft_ = second_;
  sinceBeat_ = 0;
  rrRegular_ = lastRrQ3_ = 0;
  sbLimit_ = internal(1660);  // as if the interval were a second (Hamilton & Tompkins start so)
  premature_ = 0;
  lastSlope_ = 0;
  learnLeft_ = kLearnSeconds;
  irregular_ = 0;
  settling_ = kSettlingBeats;
  noisyScore_ = 0;
}

uint16_t BeatDetector::bpmX10() const {
  if (status_ != OK || intervals_ < kKnownIntervals) return 0;
  uint32_t ibiMsQ3 = ((uint32_t)rrAvg_ << 10) / rateK_;
  return ibiMsQ3 == 0 ? 0 : (uint16_t)(4800000UL / ibiMsQ3);
}

uint8_t BeatDetector::quality() const {
  if (status_ != OK && status_ != NOISY) return 0;
  if (spk_ == 0 || npk_ >= spk_) return 0;
  return (uint8_t)(100u - (uint8_t)((npk_ * 100u) / spk_));
}

uint16_t BeatDetector::threshold() const {
  if (npk_ >= spk_) return npk_;
  return (uint16_t)(npk_ + (((uint32_t)(spk_ - npk_) * thresholdQ8_) >> 8));
}

bool BeatDetector::unusable() const { return status_ == FLAT || status_ == CLIPPED || status_ == WEAK; }

void BeatDetector::enter(uint8_t status) {
  // The levels are kept over a gap (a rail touched for a moment changes nothing about the beats
  // around it); if they are wrong after it, the lost-signal reset learns them again. After a rail,
  // the filters' response to the jump off it is no beat.
  if (status_ == CLIPPED && status != CLIPPED) holdOff_ = settleTime_;
  status_ = status;
  if (unusable()) gap();
}

void BeatDetector::watchLevel(uint16_t x) {
  if (x < winMin_) winMin_ = x;
  if (x > winMax_) winMax_ = x;
  if (x <= kRailLow || x >= kRailHigh) ++winRail_;
  // A signal of a heart's size ends a flat or weak state at once, not at the window's end: the
  // beat that shows it (the first after a long pause) counts.
  if ((status_ == FLAT || status_ == WEAK) && winMax_ - winMin_ >= weakRange_) {
    flatRun_ = weakRun_ = 0;
    enter(LOST);
  }
  if (--winLeft_ != 0) return;
  uint16_t range = (uint16_t)(winMax_ - winMin_);
  flatRun_ = range < kFlatRange ? (uint8_t)(flatRun_ < kQuietWindows ? flatRun_ + 1 : flatRun_) : 0;
  weakRun_ = range < weakRange_ ? (uint8_t)(weakRun_ < kQuietWindows ? weakRun_ + 1 : weakRun_) : 0;
  uint8_t next = status_;
  if (winRail_ >= (levelWindow_ >> 2)) {
    next = CLIPPED;
  } else if (flatRun_ == kQuietWindows) {
    next = FLAT;
  } else if (weakRun_ == kQuietWindows) {
    next = WEAK;
  } else if (unusable()) {
    next = LOST;  // usable again, but no beat yet
  }
  if (next != status_) enter(next);
  winMin_ = 0xFFFFu;
  winMax_ = 0;
  winRail_ = 0;
  winLeft_ = levelWindow_;
}

bool BeatDetector::step(uint16_t x, bool leadOff, Beat& beat) {
  if (leadOff && !(flags_ & kLeadOff)) {
    // A new contact when the electrode is back: everything is learnt again.
    status_ = LOST;
    rearm();
  }
  flags_ = (uint8_t)(leadOff ? flags_ | kLeadOff : flags_ & ~kLeadOff);
  if (!leadOff) watchLevel(x);
  decimSum_ = (uint16_t)(decimSum_ + x);
  if (--decimLeft_ != 0) return false;
  decimLeft_ = (uint8_t)(1u << decimShift_);
  uint16_t sum = decimSum_;
  decimSum_ = 0;
  return filter(sum, beat);
}

bool BeatDetector::filter(uint16_t sum, Beat& beat) {
  // Q8 counts of the average of the summed samples.
  int32_t x8 = (int32_t)((uint32_t)sum << (8 - decimShift_));
  if (flags_ & kUnset) {
    low1_ = low2_ = base_ = x8;
    flags_ &= (uint8_t)~kUnset;
  }
  low1_ += (x8 - low1_) >> lowShift_;
  low2_ += (low1_ - low2_) >> lowShift_;
  base_ += (low2_ - base_) >> highShift_;
  int16_t band = (int16_t)((low2_ - base_) >> 4);  // Q4, within +-1023 counts
  int16_t raw = (int16_t)(x8 >> 4);
  int16_t slope = (int16_t)(band - band_[spanPos_]);
  int16_t rawSlope = (int16_t)(raw - raw_[spanPos_]);
  band_[spanPos_] = band;
  raw_[spanPos_] = raw;
  if (++spanPos_ == span_) spanPos_ = 0;
  // Q2, and capped so the sum over the window fits 16 bits (far above any real signal).
  uint16_t f = (uint16_t)((mode_ == PPG ? (band > 0 ? band : 0) : (slope < 0 ? -slope : slope)) >> 2);
  if (f > featCap_) f = featCap_;
  featSum_ = (uint16_t)(featSum_ + f - feat_[windowPos_]);
  feat_[windowPos_] = f;
  if (++windowPos_ == window_) windowPos_ = 0;

  candAge_ = inc(candAge_);
  candSlopeAge_ = inc(candSlopeAge_);
  riseAge_ = inc(riseAge_);
  fallAge_ = inc(fallAge_);
  held_.age = inc(held_.age);
  sb_.age = inc(sb_.age);
  sinceBeat_ = inc(sinceBeat_);
  // The filters follow the input throughout, so they need not settle when it is usable again.
  if (unusable() || (flags_ & kLeadOff)) return false;
  if (holdOff_ != 0) {
    --holdOff_;
    lastFeat_ = featSum_;
    return false;
  }
  secSum_ += featSum_;
  everySecond();

  trackPeak(featSum_, slope, rawSlope);
  bool found = heldLeft_ != 0 && --heldLeft_ == 0 && classify(held_, beat);
  if (found || learnLeft_ != 0) return found;

  // Searchback: no beat for 1.66 regular intervals, take the largest noise peak since the last
  // one if it reached half the threshold.
  if (sinceBeat_ > sbLimit_ && sb_.value > (threshold() >> 1)) return accept(sb_, true, beat);
  if (sinceBeat_ > lost_ && sinceBeat_ > 2u * sbLimit_) {
    // Not even the searchback found a beat, twice: the levels are wrong, and are learnt again
    // from the last two seconds' largest peak (Hamilton & Tompkins do so after 8 s without a
    // beat); unless that is under a sixteenth of them: then there was no signal (a pause), not
    // a smaller one, and the beats after it will be like those before.
    if (status_ == OK) status_ = LOST;
    gap();
    uint16_t recent = secMax_ > prevSecMax_ ? secMax_ : prevSecMax_;
    if (recent >= (spk_ >> 4)) spk_ = recent;
    npk_ = 0;
    settling_ = kSettlingBeats;
    sinceBeat_ = 0;
  }
  return false;
}

void BeatDetector::everySecond() {
  if (--secLeft_ != 0) return;
  secLeft_ = second_;
  if (learnLeft_ != 0 && --learnLeft_ == 0) {
    spk_ = (secMax_ >> 1) + (prevSecMax_ >> 1);
    npk_ = 0;
    sinceBeat_ = 0;
  }
  // Beats stand far out of the feature (it is high for a tenth of the time); noise alone keeps it
  // near its peaks. Two such seconds more than clean ones: beats cannot be told from noise.
  bool noisy = (uint32_t)spk_ * second_ * 10u < secSum_ * noisyCrest_;
  prevSecMax_ = secMax_;
  secMax_ = 0;
  secSum_ = 0;
  if (learnLeft_ != 0 || spk_ == 0 || settling_ != 0) return;
  if (noisy && noisyScore_ < 3) ++noisyScore_;
  if (!noisy && noisyScore_ > 0) --noisyScore_;
  if (noisyScore_ >= 2 && status_ != NOISY) status_ = NOISY;
  if (noisyScore_ == 0 && status_ == NOISY) status_ = LOST;
}

void BeatDetector::trackPeak(uint16_t f, int16_t slope, int16_t rawSlope) {
  if (f > lastFeat_ && f > candMax_) {
    if (candMax_ == 0) {
      // A new candidate: what is under it starts here, and it is measured from this trough.
      candBase_ = lastFeat_;
      candSlope_ = 0;
      risePeak_ = fallPeak_ = 0;
    }
    candMax_ = f;
    candAge_ = 0;
  } else if (candMax_ != 0 && (f < (candMax_ >> 1) || candAge_ > peakHold_)) {
    Peak p;
    p.value = (uint16_t)(candMax_ - candBase_);
    p.slope = candSlope_;
    p.age = candSlopeAge_;
    p.shift = mode_ == ECG &&
              !(risePeak_ > (fallPeak_ >> 3) && fallPeak_ > (risePeak_ >> 3) &&
                (riseAge_ > fallAge_ ? riseAge_ - fallAge_ : fallAge_ - riseAge_) < pairLimit_);
    candMax_ = 0;
    hold(p);
  }
  lastFeat_ = f;
  uint16_t a = (uint16_t)(slope < 0 ? -slope : slope);
  if (a > candSlope_) {
    candSlope_ = a;
    candSlopeAge_ = 0;
  }
  if (rawSlope > risePeak_) {
    risePeak_ = rawSlope;
    riseAge_ = 0;
  } else if (-rawSlope > fallPeak_) {
    fallPeak_ = (int16_t)-rawSlope;
    fallAge_ = 0;
  }
}

void BeatDetector::hold(const Peak& p) {
  if (p.value < minPeak_) return;
  if (p.value > secMax_) secMax_ = p.value;
  // Of two peaks within the refractory period only the larger can be a beat (Hamilton &
  // Tompkins' pre-blanking): the first is held that long before it is judged.
  if (heldLeft_ == 0 || p.value > held_.value) {
    held_ = p;
    heldLeft_ = refractory_;
  }
}

bool BeatDetector::classify(const Peak& p, Beat& beat) {
  if (p.shift || learnLeft_ != 0) return false;  // a baseline shift is neither a beat nor noise
  bool first = (flags_ & kFirstBeat) != 0;
  uint16_t rr = sinceBeat_ > p.age ? (uint16_t)(sinceBeat_ - p.age) : 0;
  // A peak soon after a beat with under half its steepest slope is its T wave (PPG: the
  // dicrotic wave).
  bool tWave = !first && rr < tWave_ && (uint32_t)p.slope * 256u < (uint32_t)lastSlope_ * tWaveQ8_;
  // EXPERIMENT: a premature peak needs more.
  bool premature = !first && rr < premature_;
  bool strongEnough = !premature || p.value >= (uint16_t)(((uint32_t)spk_ * 154u) >> 8);
  if (p.value > threshold() && !tWave && strongEnough && (first || rr >= refractory_)) return accept(p, false, beat);
  npk_ = toward(npk_, p.value, 3);
  // T waves can hide a small beat after them: only later peaks are searched back.
  if (rr >= tWave_ && p.value > sb_.value) sb_ = p;
  return false;
}

bool BeatDetector::accept(const Peak& p, bool searchback, Beat& beat) {
  uint16_t rr = sinceBeat_ > p.age ? (uint16_t)(sinceBeat_ - p.age) : 0;
  spk_ = toward(spk_, p.value, settling_ != 0 ? 1 : searchback ? 2 : 3);
  if (settling_ != 0) --settling_;
  lastSlope_ = p.slope;
  bool first = (flags_ & kFirstBeat) != 0;
  if (!first && rr >= internal(kMinBeatMs) && rr <= internal(kMaxBeatMs)) {
    // Pan & Tompkins' two averages: of the intervals (the rate), and of the regular ones, within
    // 92..116 % of it, which times the searchback; eight irregular intervals in a row make the
    // average the regular one (the rhythm changed). The rate leaves out an interval under 60 % or
    // over 160 % of it (an ectopic beat's coupling, a false or a missed beat) unless four come in
    // a row (a new rhythm).
    uint16_t rrQ3 = (uint16_t)(rr << 3);
    uint32_t avg = rrAvg_;
    if (avg == 0 || ((uint32_t)rrQ3 * 5u >= avg * 3u && (uint32_t)rrQ3 * 5u <= avg * 8u)) {
      rrAvg_ = avg == 0 ? rrQ3 : toward(rrAvg_, rrQ3, 3);
      outliers_ = 0;
      if (intervals_ < kKnownIntervals) ++intervals_;
    } else if (++outliers_ >= 4) {
      rrAvg_ = rrQ3;
      outliers_ = 0;
      intervals_ = 1;
    }
    uint32_t reg = rrRegular_;
    if (reg == 0) {
      // Not known yet: two intervals in a row that agree are the first regular one (the first
      // interval alone may be an ectopic beat's).
      if (regular(rrQ3, lastRrQ3_)) rrRegular_ = (uint16_t)((rrQ3 >> 1) + (lastRrQ3_ >> 1));
      lastRrQ3_ = rrQ3;
    } else if (regular(rrQ3, (uint16_t)reg)) {
      rrRegular_ = toward(rrRegular_, rrQ3, 3);
      irregular_ = 0;
    } else if (++irregular_ >= 8) {
      rrRegular_ = rrAvg_;
      irregular_ = 0;
    }
    if (rrRegular_ != 0) {
      sbLimit_ = (uint16_t)(((uint32_t)rrRegular_ * searchbackQ6_) >> 9);
      premature_ = (uint16_t)(((uint32_t)rrRegular_ * 179u) >> 11);  // 70 % of the regular interval
    }
  }
  flags_ &= (uint8_t)~kFirstBeat;
  sinceBeat_ = p.age;
  sb_.value = 0;
  if (status_ == LOST) status_ = OK;
  if (status_ != OK) return false;  // noisy: the detector keeps up, but says nothing
  beat.age = (uint16_t)((p.age << decimShift_) + delayIn_);
  beat.ibiMs = first ? 0 : (uint16_t)(((uint32_t)rr << 10) / rateK_);
  beat.bpmX10 = bpmX10();
  return true;
}

}  // namespace pw

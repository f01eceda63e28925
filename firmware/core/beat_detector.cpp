#include "beat_detector.h"

namespace pw {

static_assert(sizeof(BeatDetector) <= 64, "the beat detector keeps at most 64 bytes of state");

namespace {

const uint8_t kAscending = 0x01;
const uint8_t kFirstBeat = 0x02;  // the next beat is the first since (re)arming: no interval yet

// Raw ADC levels: a window whose range stays below kFlatRange is a flat line; one that stays at
// a rail is a front end whose electrode is off (the AD8232 drives its output to a rail then).
const uint16_t kFlatRange = 4;
const uint16_t kRailLow = 2;
const uint16_t kRailHigh = 1021;
const uint16_t kLevelWindowMs = 500;

struct ModeParams {
  uint16_t fastMs;        // time constant of the fast average (upper band edge)
  uint16_t slowMs;        // time constant of the slow average (lower band edge)
  uint16_t featMs;        // time constant of the energy integrator
  uint16_t refractoryMs;  // no second beat this soon
  uint16_t holdMs;        // a candidate peak not beaten for this long is taken
  uint16_t learnMs;       // after (re)arming: only learn the levels
  uint16_t lostMs;        // no beat for this long: the signal is lost, re-arm
  uint16_t minAmp;        // smallest |band-pass| peak (Q2 counts) a beat may have
  uint8_t twave;          // apply the T-wave check
};

const ModeParams kParams[2] = {
    // ECG: band ~5..20 Hz keeps the QRS and drops P and T waves and baseline wander.
    {8, 32, 32, 200, 120, 1500, 3000, 12, 1},
    // PPG: band ~0.6..4 Hz keeps the pulse wave.
    {40, 250, 64, 300, 250, 2000, 3000, 8, 0},
};

uint8_t shiftFor(uint16_t samples) {
  uint8_t s = 0;
  while (s < 15 && (1u << (s + 1)) <= samples + (samples >> 1)) ++s;
  return s;
}

uint16_t inc(uint16_t v) { return v == 0xFFFFu ? v : (uint16_t)(v + 1u); }

}  // namespace

void BeatDetector::begin(Mode mode, uint16_t rateHz) {
  mode_ = mode;
  rateK_ = (uint16_t)(((uint32_t)rateHz * 1024u + 500u) / 1000u);
  const ModeParams& p = kParams[mode_];
  fastShift_ = shiftFor(samples(p.fastMs));
  slowShift_ = shiftFor(samples(p.slowMs));
  featShift_ = shiftFor(samples(p.featMs));
  fast_ = slow_ = -1;  // marks the averages as unset: the first sample seeds them
  feat_ = 0;
  winMin_ = 0xFFFFu;
  winMax_ = 0;
  winLeft_ = samples(kLevelWindowMs);
  status_ = LOST;
  rearm();
}

void BeatDetector::rearm() {
  flags_ = kFirstBeat;
  cand_ = feat_;
  candAge_ = 0;
  rVal_ = rAge_ = 0;
  spk_ = npk_ = 0;
  sbVal_ = 0;
  sbAge_ = sbRVal_ = 0;
  sinceBeat_ = 0;
  rrAvgQ4_ = 0;
  lastRVal_ = 0;
  learnLeft_ = samples(kParams[mode_].learnMs);
}

uint16_t BeatDetector::msOf(uint32_t n) const { return (uint16_t)((n << 10) / rateK_); }

uint16_t BeatDetector::bpmX10() const {
  if (status_ == FLAT || status_ == LOST || rrAvgQ4_ == 0) return 0;
  uint32_t ibiMsQ4 = ((uint32_t)rrAvgQ4_ << 10) / rateK_;
  return ibiMsQ4 == 0 ? 0 : (uint16_t)(9600000UL / ibiMsQ4);
}

uint8_t BeatDetector::quality() const {
  if (status_ == FLAT || status_ == LOST || spk_ == 0 || npk_ >= spk_) return 0;
  return (uint8_t)(100u - (uint8_t)((npk_ * 100u) / spk_));
}

void BeatDetector::watchLevel(uint16_t x) {
  if (x < winMin_) winMin_ = x;
  if (x > winMax_) winMax_ = x;
  if (--winLeft_ != 0) return;
  if (winMax_ <= kRailLow || winMin_ >= kRailHigh) {
    status_ = LOST;
    rearm();
  } else if (winMax_ - winMin_ < kFlatRange) {
    status_ = FLAT;
    rearm();
  } else if (status_ == FLAT) {
    status_ = LOST;  // a signal again, but no beat yet
  }
  winMin_ = 0xFFFFu;
  winMax_ = 0;
  winLeft_ = samples(kLevelWindowMs);
}

bool BeatDetector::step(uint16_t x, bool leadOff, Beat& beat) {
  if (leadOff) {
    status_ = LOST;
    rearm();
    return false;
  }
  watchLevel(x);

  int32_t x8 = (int32_t)x << 8;
  if (fast_ < 0) fast_ = slow_ = x8;
  fast_ += (x8 - fast_) >> fastShift_;
  slow_ += (x8 - slow_) >> slowShift_;
  int32_t bp = (fast_ - slow_) >> 6;  // band-passed, Q2 counts
  // ECG: energy, which lifts the steep QRS above everything else. PPG: the positive half-wave,
  // linear, because pulse amplitude wanders a lot and squaring would widen that spread.
  uint32_t energy = mode_ == ECG ? (uint32_t)(bp * bp) : (bp > 0 ? (uint32_t)bp << 4 : 0u);
  feat_ = (uint32_t)((int32_t)feat_ + (((int32_t)energy - (int32_t)feat_) >> featShift_));
  uint16_t absBp = (uint16_t)(bp < 0 ? (bp < -65535 ? 65535 : -bp) : (bp > 65535 ? 65535 : bp));

  candAge_ = inc(candAge_);
  rAge_ = inc(rAge_);
  sbAge_ = inc(sbAge_);
  sinceBeat_ = inc(sinceBeat_);
  if (status_ == FLAT) return false;

  const ModeParams& p = kParams[mode_];
  if (learnLeft_ != 0 && --learnLeft_ == 0) {
    spk_ >>= 1;
    npk_ = spk_ >> 3;
  }

  bool found = false;
  if (flags_ & kAscending) {
    if (absBp > rVal_) {
      rVal_ = absBp;
      rAge_ = 0;
    }
    if (feat_ >= cand_) {
      cand_ = feat_;
      candAge_ = 0;
    } else if (feat_ < cand_ - (cand_ >> 2) || candAge_ > samples(p.holdMs)) {
      found = onPeak(cand_, rAge_, rVal_, beat);
      flags_ &= (uint8_t)~kAscending;
      cand_ = feat_;
    }
  } else if (feat_ < cand_) {
    cand_ = feat_;
  } else if (feat_ > cand_ + (cand_ >> 2) + 64u) {
    flags_ |= kAscending;
    cand_ = feat_;
    candAge_ = 0;
    rVal_ = absBp;
    rAge_ = 0;
  }
  if (found || learnLeft_ != 0) return found;

  // Searchback: no beat for 1.66 average intervals, take the largest peak since the last one if
  // it reached half the threshold.
  if (rrAvgQ4_ != 0 && sinceBeat_ > (uint16_t)(((uint32_t)rrAvgQ4_ * 106u) >> 10) &&
      sbVal_ > (threshold() >> 1) && sbRVal_ >= p.minAmp) {
    return accept(sbVal_, sbAge_, sbRVal_, true, beat);
  }
  if (sinceBeat_ > samples(p.lostMs)) {
    status_ = LOST;
    rearm();
  }
  return false;
}

bool BeatDetector::onPeak(uint32_t value, uint16_t rAge, uint16_t rVal, Beat& beat) {
  const ModeParams& p = kParams[mode_];
  if (learnLeft_ != 0) {
    if (value > spk_) spk_ = value;
    return false;
  }
  uint16_t rr = sinceBeat_ > rAge ? (uint16_t)(sinceBeat_ - rAge) : 0;
  bool afterRefractory = (flags_ & kFirstBeat) || rr > samples(p.refractoryMs);
  if (value > threshold() && rVal >= p.minAmp && afterRefractory) {
    // ECG: a peak within 360 ms of a beat and under half its size is its T wave. PPG: a peak
    // within 0.6 average intervals and smaller than the beat is its dicrotic wave.
    bool tWave = !(flags_ & kFirstBeat) &&
                 (p.twave ? rr < samples(360) && rVal < (lastRVal_ >> 1)
                          : rr < (uint16_t)(((uint32_t)rrAvgQ4_ * 10u) >> 8) && rVal < lastRVal_);
    // Far sooner than the rhythm allows (under 0.55 average intervals, or over 250 bpm): noise.
    bool tooSoon = !(flags_ & kFirstBeat) && (rr < samples(240) || rr < (uint16_t)(((uint32_t)rrAvgQ4_ * 9u) >> 8));
    if (tooSoon && !tWave) status_ = NOISY;
    if (!tWave && !tooSoon) return accept(value, rAge, rVal, false, beat);
  }
  npk_ = (uint32_t)((int32_t)npk_ + (((int32_t)value - (int32_t)npk_) >> 3));
  if (afterRefractory && value > sbVal_) {
    sbVal_ = value;
    sbAge_ = rAge;
    sbRVal_ = rVal;
  }
  return false;
}

bool BeatDetector::accept(uint32_t value, uint16_t rAge, uint16_t rVal, bool searchback, Beat& beat) {
  uint16_t rr = sinceBeat_ > rAge ? (uint16_t)(sinceBeat_ - rAge) : 0;
  int32_t diff = (int32_t)value - (int32_t)spk_;
  spk_ = (uint32_t)((int32_t)spk_ + (searchback ? diff >> 2 : diff >> 3));
  lastRVal_ = rVal;
  bool first = (flags_ & kFirstBeat) != 0;
  // Plausible intervals only (30..250 bpm), and not one that spans a missed beat (over 1.5
  // average intervals), so one miss does not drag the average (and BPM) down.
  uint16_t rrQ4 = (uint16_t)(rr << 4);
  bool spansMiss = rrAvgQ4_ != 0 && rrQ4 > rrAvgQ4_ + (rrAvgQ4_ >> 1);
  if (!first && !spansMiss && rr >= samples(240) && rr <= samples(2000)) {
    rrAvgQ4_ = rrAvgQ4_ == 0 ? rrQ4 : (uint16_t)((int32_t)rrAvgQ4_ + (((int32_t)rrQ4 - (int32_t)rrAvgQ4_) >> 3));
  }
  flags_ &= (uint8_t)~kFirstBeat;
  sinceBeat_ = rAge;
  sbVal_ = 0;
  sbRVal_ = 0;
  status_ = OK;
  beat.age = rAge;
  beat.ibiMs = first ? 0 : msOf(rr);
  beat.bpmX10 = bpmX10();
  return true;
}

}  // namespace pw

// Beat detection in fixed point, for ECG (QRS complexes) and PPG (pulse waves), one sample at a
// time, with no heap and a few hundred bytes of state.
//
// The method is Hamilton & Tompkins' (1986) refinement of Pan & Tompkins (1985), with recursive
// filters where they used delay lines, so the state stays small:
//   decimation to ~250 Hz (ECG) or ~62 Hz (PPG) -> band-pass (two low-pass and one high-pass
//   exponential stage) -> |slope| over ~16 ms (ECG) or the pulse above its mean (PPG) ->
//   moving-window integration (80 ms ECG, 150 ms PPG) -> peaks (the feature falls to half, or
//   holds for 95 ms), each measured from the trough it rose from -> the larger of two peaks
//   within the refractory period wins -> baseline-shift check (a QRS has a rise and a fall of the
//   raw signal close together; a step of the baseline has one) -> threshold between the running
//   signal-peak and noise-peak levels -> T-wave check (within 360 ms of a beat with under half
//   its steepest slope) -> a peak sooner than 70 % of the regular interval must reach 60 % of the
//   signal level -> searchback at half the threshold after 1.66 regular intervals (the regular
//   interval is averaged over beats within 92..116 % of it, Pan & Tompkins' adaptive RR limits)
//   -> levels learnt again when not even the searchback finds a beat.
// The raw signal is watched too: clipped at an ADC rail, flat, too weak or too noisy to give a
// beat, the status says so and no beat and no rate are reported until it is usable again.
#ifndef PW_BEAT_DETECTOR_H
#define PW_BEAT_DETECTOR_H

#include <stdint.h>

namespace pw {

// What the detector can be tuned by, in the units the published detectors give them. The
// firmware runs BeatDetector::defaults(); the host replay tool sets them at run time, so the
// evaluation can tune on some records and score others.
struct DetectorTuning {
  uint16_t thresholdPct;   // the detection threshold lies this % of the way from the noise-peak to the signal-peak level
  uint16_t searchbackPct;  // no beat for this % of the regular interval: take the largest peak above half the threshold
  uint16_t tWaveMs;        // a peak this soon after a beat ...
  uint16_t tWavePct;       // ... whose steepest slope is under this % of the beat's is its T wave (PPG: dicrotic wave)
  uint16_t refractoryMs;   // no second beat this soon; of two peaks this close the larger is kept
  uint16_t weakRange;      // the raw signal spans fewer ADC counts than this over 2 s: too weak to give a beat
  uint16_t noisyCrest;     // the signal peaks stand under this many tenths of the feature's mean: too noisy (noise alone gives ~10)
};

class BeatDetector {
 public:
  enum Mode : uint8_t { ECG = 0, PPG = 1 };
  // OK: beats and a rate. LOST: no beat found for a while (or a lead is off). The others say why
  // the signal cannot give a beat: too noisy, flat, at an ADC rail, too small.
  enum Status : uint8_t { OK = 0, NOISY = 1, FLAT = 2, LOST = 3, CLIPPED = 4, WEAK = 5 };

  struct Beat {
    uint16_t age;     // input samples since the beat (its steepest slope) happened
    uint16_t ibiMs;   // interval from the previous beat, ms (0: not known, the first beat after a gap)
    uint16_t bpmX10;  // heart rate now, tenths of a beat per minute (0: not known yet)
  };

  static DetectorTuning defaults(Mode mode);

  void begin(Mode mode, uint16_t rateHz) { begin(mode, rateHz, defaults(mode)); }
  void begin(Mode mode, uint16_t rateHz, const DetectorTuning& tuning);

  // Feeds one ADC sample (0..1023) and the lead-off input. Returns true when a beat is confirmed,
  // described in beat; never while the status is one that withholds beats.
  bool step(uint16_t x, bool leadOff, Beat& beat);

  Status status() const { return (Status)status_; }
  // Heart rate now in tenths of bpm; 0 unless the status is OK and an interval is known.
  uint16_t bpmX10() const;
  // 0..100: how far the signal peaks stand above the noise peaks.
  uint8_t quality() const;

 private:
  // A peak of the feature, with what the checks need.
  struct Peak {
    uint16_t value;  // height of the integrated feature over the trough it rose from
    uint16_t slope;  // steepest |slope| under it
    uint16_t age;    // internal samples since that steepest slope
    bool shift;      // its raw signal moved one way only: a baseline shift, not a complex
  };

  uint16_t internal(uint16_t ms) const;
  void rearm();
  void gap();
  bool unusable() const;
  void watchLevel(uint16_t x);
  void enter(uint8_t status);
  bool filter(uint16_t sum, Beat& beat);
  void trackPeak(uint16_t f, int16_t slope, int16_t rawSlope);
  void hold(const Peak& p);
  bool classify(const Peak& p, Beat& beat);
  bool accept(const Peak& p, bool searchback, Beat& beat);
  void everySecond();
  uint16_t threshold() const;

  // Configuration, set by begin().
  uint16_t rateK_;        // internal samples per 1024 ms
  uint16_t refractory_;   // internal samples
  uint16_t tWave_;
  uint16_t peakHold_;     // a peak is taken when not beaten for this long
  uint16_t pairLimit_;    // a complex's rise and fall lie this close
  uint16_t delayIn_;      // filter delay, input samples
  uint16_t minPeak_;      // smaller feature peaks are ignored
  uint16_t featCap_;      // the feature's largest value, so its sum over the window fits 16 bits
  uint16_t settleTime_;   // internal samples the filters take to settle after a gap
  uint16_t second_;       // internal samples in a second
  uint16_t lost_;         // no beat for this long (at least): the signal is lost
  uint16_t levelWindow_;  // input samples in a level window
  uint16_t weakRange_;
  uint8_t thresholdQ8_;
  uint8_t tWaveQ8_;
  uint8_t noisyCrest_;    // tenths
  uint8_t searchbackQ6_;  // searchback interval, regular intervals * 64
  uint8_t decimShift_;    // log2 of input samples per internal sample
  uint8_t lowShift_;
  uint8_t highShift_;
  uint8_t span_;          // slope span, internal samples
  uint8_t window_;        // integration window, internal samples
  uint8_t mode_;

  // Filters.
  static const uint8_t kMaxSpan = 4;
  static const uint8_t kMaxDecimShift = 6;  // so the sum of the samples fits 16 bits
  static const uint8_t kMaxWindow = 20;
  int32_t low1_, low2_, base_;  // Q8 counts
  int16_t band_[kMaxSpan];      // band-passed signal, Q4 counts, the last span_ values
  int16_t raw_[kMaxSpan];       // decimated raw signal, Q4 counts
  uint16_t feat_[kMaxWindow];   // the feature over the integration window
  uint16_t featSum_;        // Q2 counts
  uint16_t decimSum_;
  uint8_t decimLeft_;
  uint8_t spanPos_;
  uint8_t windowPos_;

  // The peak being tracked.
  uint16_t candMax_;
  uint16_t candBase_;      // the trough it rose from
  uint16_t lastFeat_;
  uint16_t candAge_;       // internal samples since candMax_
  uint16_t candSlope_;     // steepest |slope| since the candidate began
  uint16_t candSlopeAge_;
  int16_t risePeak_;       // largest rise and fall of the raw signal since the candidate began
  int16_t fallPeak_;
  uint16_t riseAge_;
  uint16_t fallAge_;

  // The peak held through the refractory period.
  Peak held_;
  uint16_t heldLeft_;  // 0: none held

  // Levels and intervals.
  uint16_t spk_;          // running level of signal peaks
  uint16_t npk_;          // running level of noise peaks
  Peak sb_;               // largest noise peak since the last beat (searchback candidate)
  uint32_t secSum_;       // the feature summed over the current second
  uint16_t secMax_;       // largest peak in the current second
  uint16_t prevSecMax_;   // largest peak in the second before
  uint16_t secLeft_;
  uint16_t sinceBeat_;    // internal samples since the last beat (saturates)
  uint16_t rrAvg_;        // average interval, internal samples * 8 (0: not known)
  uint16_t rrRegular_;    // average of the regular intervals, internal samples * 8 (0: not known)
  uint16_t lastRrQ3_;     // the interval before, while the regular one is not known
  uint16_t sbLimit_;      // searchback after this many internal samples without a beat
  uint16_t premature_;    // a peak sooner than this after a beat is premature
  uint16_t lastSlope_;    // steepest slope of the last beat
  uint8_t learnLeft_;     // seconds left in the learning period after (re)arming
  uint8_t irregular_;     // intervals in a row outside the regular limits
  uint8_t intervals_;     // intervals since the last gap (up to the number that makes a rate known)
  uint8_t outliers_;      // intervals in a row left out of the rate
  uint16_t holdOff_;      // internal samples left before peaks count again after a gap
  uint8_t settling_;      // beats left whose peaks move the signal level halfway (after the levels were learnt)
  uint8_t noisyScore_;    // up a second the signal peaks hardly stand out of the feature, down a second they do

  // The raw signal's level window.
  uint16_t winMin_, winMax_, winRail_, winLeft_;
  uint8_t flatRun_, weakRun_;  // level windows in a row with a flat line's, a weak signal's range

  uint8_t status_;
  uint8_t flags_;
};

}  // namespace pw

#endif

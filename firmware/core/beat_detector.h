// Beat detection in fixed point, for ECG (QRS complexes) and PPG (pulse waves), one sample at a
// time, in at most 64 bytes of state.
//
// The pipeline, in the spirit of Pan & Tompkins (1985) but with recursive filters instead of
// delay lines so the state stays small:
//   band-pass (difference of two exponential averages) -> energy (square) -> leaky integration
//   -> local maxima with hysteresis -> adaptive threshold between the running signal-peak and
//   noise-peak levels -> refractory period, T-wave check (ECG) and minimum amplitude
//   -> searchback for a missed beat after 1.66 average intervals.
// The signal is watched for being flat, railed (an ECG front end with a lead off) or lost (no
// beat for a while); then the status says so, BPM is 0, no beat is reported, and the detector
// re-learns its levels when the signal comes back.
#ifndef PW_BEAT_DETECTOR_H
#define PW_BEAT_DETECTOR_H

#include <stdint.h>

namespace pw {

class BeatDetector {
 public:
  enum Mode : uint8_t { ECG = 0, PPG = 1 };
  enum Status : uint8_t { OK = 0, NOISY = 1, FLAT = 2, LOST = 3 };

  struct Beat {
    uint16_t age;     // samples since the beat (the R peak or pulse peak) happened
    uint16_t ibiMs;   // interval from the previous beat, ms (0 for the first after (re)arming)
    uint16_t bpmX10;  // heart rate now, tenths of a beat per minute (0 until an interval is known)
  };

  void begin(Mode mode, uint16_t rateHz);

  // Feeds one ADC sample (0..1023) and the lead-off input. Returns true when a beat is confirmed,
  // described in beat.
  bool step(uint16_t x, bool leadOff, Beat& beat);

  Status status() const { return (Status)status_; }
  // Heart rate now in tenths of bpm; 0 unless the status is OK.
  uint16_t bpmX10() const;
  // 0..100: how far the signal peaks stand above the noise peaks.
  uint8_t quality() const;

 private:
  uint16_t samples(uint16_t ms) const { return (uint16_t)(((uint32_t)ms * rateK_) >> 10); }
  uint16_t msOf(uint32_t samples) const;
  void rearm();
  void watchLevel(uint16_t x);
  bool onPeak(uint32_t value, uint16_t rAge, uint16_t rVal, Beat& beat);
  bool accept(uint32_t value, uint16_t rAge, uint16_t rVal, bool searchback, Beat& beat);
  uint32_t threshold() const { return npk_ >= spk_ ? npk_ : npk_ + ((spk_ - npk_) >> 2); }

  // 32-bit
  int32_t fast_;     // fast exponential average of x, Q8
  int32_t slow_;     // slow exponential average of x, Q8
  uint32_t feat_;    // integrated energy of the band-passed signal
  uint32_t cand_;    // while rising: the candidate peak; while falling: the trough
  uint32_t spk_;     // running level of signal peaks
  uint32_t npk_;     // running level of noise peaks
  uint32_t sbVal_;   // largest noise peak since the last beat (searchback candidate)
  // 16-bit
  uint16_t rateK_;      // samples per 1024 ms
  uint16_t candAge_;    // samples since the candidate peak
  uint16_t rVal_;       // largest |band-pass| in the current candidate (the R peak's size)
  uint16_t rAge_;       // samples since that R peak
  uint16_t sbAge_;      // samples since the searchback candidate's R peak
  uint16_t sbRVal_;     // its R peak size
  uint16_t sinceBeat_;  // samples since the last beat's R peak (saturates)
  uint16_t rrAvgQ4_;    // average beat interval, samples * 16 (0: not known yet)
  uint16_t lastRVal_;   // R peak size of the last beat (for the T-wave check)
  uint16_t learnLeft_;  // samples left in the learning period after (re)arming
  uint16_t winMin_;     // raw range over the current level window
  uint16_t winMax_;
  uint16_t winLeft_;
  // 8-bit
  uint8_t mode_;
  uint8_t status_;
  uint8_t flags_;
  uint8_t fastShift_;
  uint8_t slowShift_;
  uint8_t featShift_;
};

}  // namespace pw

#endif

// The firmware's application, free of any board: it takes one frame per sample period from the
// board's sampler, runs the beat detector in the heart-rate modes, and writes the protocol's
// lines (hello, samples packed spl to a line, beat / lead / quality / log / drop events) into the
// outbox the board drains to its serial link. Every key and limit comes from the generated header.
#ifndef PW_MONITOR_H
#define PW_MONITOR_H

#include <stdint.h>

#include "beat_detector.h"
#include "line_writer.h"
#include "outbox.h"

namespace pw {

enum class AppMode : uint8_t { ECG, PPG, ANALOG, MOCK };

struct MonitorConfig {
  AppMode mode;
  uint16_t rateHz;
  uint8_t samplesPerLine;
  // ANALOG: bit i set samples Ai (A0..A5), one channel each, in pin order. Other modes: 1 channel.
  uint8_t analogMask;
  const char* board;  // flash string
  // The beat detector's parameters; null: its defaults (what the firmware runs).
  const DetectorTuning* tuning;
};

class Monitor {
 public:
  // lineBuffer holds one line while it is built; pending holds the samples of the line not yet
  // full (samplesPerLine values per channel).
  Monitor(Outbox& out, char* lineBuffer, uint16_t lineCapacity, uint16_t* pending, uint8_t pendingCapacity)
      : out_(out), w_(lineBuffer, lineCapacity), pending_(pending), pendingCap_(pendingCapacity) {}

  // Checks the configuration (a too large samplesPerLine is lowered to what fits, with a log
  // line), resets the clock to startMs and the sequence to firstSeq, and queues the hello line.
  void begin(const MonitorConfig& config, uint16_t firstSeq = 0, uint32_t startMs = 0);

  // Queues the hello line again (for a reader that opened the port after boot: USB CDC boards
  // do not reset when the port opens, so they would never see the first one).
  void hello() { sendHello(); }

  // How many channels a frame carries for this configuration.
  uint8_t channels() const { return channels_; }

  // One sample period: a value per channel (ignored in MOCK mode) and the lead-off input.
  void onFrame(const uint16_t* values, bool leadOff);

  // The sampler refused this many frames (the loop fell behind): time moves on, a log line says so.
  void onOverrun(uint16_t frames);

  // Lines dropped because the outbox was full and not yet reported in a drop line.
  uint32_t unreportedDrops() const { return dropped_; }
  uint32_t nowMs() const { return nowMs_; }
  const BeatDetector& detector() const { return detector_; }

 private:
  void startLine();
  void stamp(uint32_t ms);
  void event(const char* type, uint32_t ms);
  bool send();
  void reportDrops();
  void sendHello();
  // A warning log line: before, the count, after (flash strings).
  void warn(const char* before, uint32_t count, const char* after);
  void sendSamples();
  void sendBeat(const BeatDetector::Beat& beat);
  void bpm(uint16_t bpmX10);
  void sendQuality();
  void sendLead(bool off);
  void channelName(uint8_t index);
  void advanceClock(uint32_t frames);

  Outbox& out_;
  LineWriter w_;
  uint16_t* pending_;
  uint8_t pendingCap_;
  MonitorConfig cfg_;
  BeatDetector detector_;
  uint32_t nowMs_;
  uint32_t lineStartMs_;
  uint32_t dropped_;
  uint16_t seq_;
  uint16_t clockRem_;  // sub-millisecond remainder of the clock, in 1/rate ms units
  uint16_t mockPhaseMs_;
  uint8_t channels_;
  uint8_t filled_;     // samples per channel in pending_
  uint8_t reportedStatus_;
  bool leadOff_;
};

}  // namespace pw

#endif

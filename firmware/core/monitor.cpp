#include "monitor.h"

#include "mock_ecg.h"
#include "plotwire_protocol.h"
#include "pw_flash.h"
#include "version.h"

namespace pw {

namespace {

const char* modeName(AppMode m) {
  switch (m) {
    case AppMode::ECG: return PW_FLASH(PW_MODE_ECG);
    case AppMode::PPG: return PW_FLASH(PW_MODE_PPG);
    case AppMode::ANALOG: return PW_FLASH(PW_MODE_ANALOG);
    default: return PW_FLASH(PW_MODE_MOCK);
  }
}

const char* statusName(uint8_t s) {
  switch (s) {
    case BeatDetector::OK: return PW_FLASH(PW_SIG_OK);
    case BeatDetector::NOISY: return PW_FLASH(PW_SIG_NOISY);
    case BeatDetector::FLAT: return PW_FLASH(PW_SIG_FLAT);
    case BeatDetector::CLIPPED: return PW_FLASH(PW_SIG_CLIPPED);
    case BeatDetector::WEAK: return PW_FLASH(PW_SIG_WEAK);
    default: return PW_FLASH(PW_SIG_LOST);
  }
}

uint8_t countBits(uint8_t v) {
  uint8_t n = 0;
  for (; v != 0; v = (uint8_t)(v & (v - 1u))) ++n;
  return n;
}

// Longest sample line: {"n":65535,"t":4294967295, then per channel "a0":[1023,...], then }\n.
uint16_t worstSampleLine(uint8_t channels, uint8_t spl) {
  return (uint16_t)(27u + channels * (8u + 5u * spl) + 2u);
}

const uint8_t kNoStatus = 0xFF;

}  // namespace

void Monitor::begin(const MonitorConfig& config, uint16_t firstSeq, uint32_t startMs) {
  cfg_ = config;
  if (cfg_.rateHz == 0) cfg_.rateHz = PW_DEFAULT_SAMPLE_RATE_HZ;
  bool analog = cfg_.mode == AppMode::ANALOG;
  if (analog) cfg_.analogMask &= 0x3Fu;
  if (analog && cfg_.analogMask == 0) cfg_.analogMask = 1;
  channels_ = analog ? countBits(cfg_.analogMask) : 1;
  seq_ = firstSeq;
  nowMs_ = lineStartMs_ = startMs;
  clockRem_ = 0;
  dropped_ = 0;
  filled_ = 0;
  mockPhaseMs_ = 0;
  leadOff_ = false;
  reportedStatus_ = kNoStatus;
  if (!analog) {
    BeatDetector::Mode mode = cfg_.mode == AppMode::PPG ? BeatDetector::PPG : BeatDetector::ECG;
    detector_.begin(mode, cfg_.rateHz, cfg_.tuning ? *cfg_.tuning : BeatDetector::defaults(mode));
  }

  uint8_t asked = cfg_.samplesPerLine;
  uint8_t spl = asked == 0 ? 1 : asked;
  if (spl > PW_MAX_SAMPLES_PER_LINE) spl = PW_MAX_SAMPLES_PER_LINE;
  while (spl > 1 && (spl * channels_ > pendingCap_ || worstSampleLine(channels_, spl) > w_.capacity())) --spl;
  cfg_.samplesPerLine = spl;
  sendHello();
  if (spl != asked) warn(PW_FLASH("samples per line lowered to "), spl, PW_FLASH(" to fit the buffers"));
}

void Monitor::warn(const char* before, uint32_t count, const char* after) {
  startLine();
  event(PW_FLASH(PW_EV_LOG), nowMs_);
  w_.key(PW_FLASH(PW_KEY_LEVEL));
  w_.str(PW_FLASH(PW_LVL_WARN));
  w_.key(PW_FLASH(PW_KEY_MESSAGE));
  w_.rawChar('"');
  w_.rawFlash(before);
  w_.u32(count);
  w_.rawFlash(after);
  w_.rawChar('"');
  send();
}

void Monitor::channelName(uint8_t index) {
  if (cfg_.mode != AppMode::ANALOG) {
    w_.rawFlash(cfg_.mode == AppMode::PPG ? PW_FLASH(PW_MODE_PPG) : PW_FLASH(PW_MODE_ECG));
    return;
  }
  // The index-th set bit of the mask names the pin: a0..a5.
  for (uint8_t pin = 0, seen = 0; pin < 6; ++pin) {
    if (!(cfg_.analogMask & (1u << pin))) continue;
    if (seen++ == index) {
      w_.rawChar('a');
      w_.rawChar((char)('0' + pin));
      return;
    }
  }
}

void Monitor::sendHello() {
  w_.begin();
  w_.key(PW_FLASH(PW_KEY_HELLO));
  w_.u32(PW_PROTOCOL_VERSION);
  w_.key(PW_FLASH(PW_KEY_FIRMWARE));
  w_.str(PW_FLASH(PW_FIRMWARE_VERSION));
  w_.key(PW_FLASH(PW_KEY_BOARD));
  w_.str(cfg_.board);
  w_.key(PW_FLASH(PW_KEY_RATE));
  w_.u32(cfg_.rateHz);
  w_.key(PW_FLASH(PW_KEY_CHANNELS));
  w_.openArray();
  for (uint8_t c = 0; c < channels_; ++c) {
    if (c) w_.arrayItem();
    w_.rawChar('"');
    channelName(c);
    w_.rawChar('"');
  }
  w_.closeArray();
  w_.key(PW_FLASH(PW_KEY_SAMPLES_PER_LINE));
  w_.u32(cfg_.samplesPerLine);
  w_.key(PW_FLASH(PW_KEY_MODE));
  w_.str(modeName(cfg_.mode));
  // The hello is not numbered: "n" counts the lines after it. A newline goes first: after a reset
  // in the middle of a line, the reader would otherwise see the hello glued to the cut line.
  const char newline = '\n';
  if (w_.end() && out_.push(&newline, 1)) out_.push(w_.data(), w_.length());
}

void Monitor::stamp(uint32_t ms) {
  w_.key(PW_FLASH(PW_KEY_SEQ));
  w_.u32(seq_);
  w_.key(PW_FLASH(PW_KEY_TIME));
  w_.u32(ms);
}

void Monitor::startLine() {
  reportDrops();
  w_.begin();
}

void Monitor::event(const char* type, uint32_t ms) {
  w_.key(PW_FLASH(PW_KEY_EVENT));
  w_.str(type);
  stamp(ms);
}

bool Monitor::send() {
  if (w_.end() && out_.push(w_.data(), w_.length())) {
    ++seq_;
    return true;
  }
  // A line the outbox cannot take is dropped whole; its number goes to the next line.
  if (dropped_ != 0xFFFFFFFFUL) ++dropped_;
  return false;
}

void Monitor::reportDrops() {
  if (dropped_ == 0) return;
  w_.begin();
  event(PW_FLASH(PW_EV_DROP), nowMs_);
  w_.key(PW_FLASH(PW_KEY_LINES));
  w_.u32(dropped_);
  if (w_.end() && out_.push(w_.data(), w_.length())) {
    ++seq_;
    dropped_ = 0;
  }
}

void Monitor::sendSamples() {
  startLine();
  stamp(lineStartMs_);
  for (uint8_t c = 0; c < channels_; ++c) {
    w_.keyStart();
    channelName(c);
    w_.keyEnd();
    const uint16_t* v = pending_ + c * cfg_.samplesPerLine;
    if (cfg_.samplesPerLine == 1) {
      w_.u32(v[0]);
      continue;
    }
    w_.openArray();
    for (uint8_t i = 0; i < filled_; ++i) {
      if (i) w_.arrayItem();
      w_.u32(v[i]);
    }
    w_.closeArray();
  }
  send();
}

void Monitor::sendBeat(const BeatDetector::Beat& beat) {
  startLine();
  uint32_t agoMs = (uint32_t)beat.age * 1000u / cfg_.rateHz;
  event(PW_FLASH(PW_EV_BEAT), nowMs_ - agoMs);
  // A rate or an interval not known yet is left out: a 0 would plot as a drop to zero.
  bpm(beat.bpmX10);
  if (beat.ibiMs != 0) {
    w_.key(PW_FLASH(PW_KEY_IBI));
    w_.u32(beat.ibiMs);
  }
  send();
}

void Monitor::bpm(uint16_t bpmX10) {
  if (bpmX10 == 0) return;
  w_.key(PW_FLASH(PW_KEY_BPM));
  w_.tenths(bpmX10);
}

void Monitor::sendQuality() {
  startLine();
  event(PW_FLASH(PW_EV_QUALITY), nowMs_);
  w_.key(PW_FLASH(PW_KEY_SIGNAL));
  w_.str(statusName(detector_.status()));
  w_.key(PW_FLASH(PW_KEY_QUALITY));
  w_.u32(detector_.quality());
  bpm(detector_.bpmX10());
  if (send()) reportedStatus_ = detector_.status();
}

void Monitor::sendLead(bool off) {
  startLine();
  event(PW_FLASH(PW_EV_LEAD), nowMs_);
  w_.key(PW_FLASH(PW_KEY_OFF));
  w_.boolean(off);
  if (send()) leadOff_ = off;
}

void Monitor::advanceClock(uint32_t frames) {
  // Device time from the sample count: exact at any rate, and it wraps as a uint32 should.
  uint32_t total = (uint32_t)clockRem_ + frames * 1000u;
  uint32_t ms = total / cfg_.rateHz;
  clockRem_ = (uint16_t)(total - ms * cfg_.rateHz);
  nowMs_ += ms;
  if (cfg_.mode == AppMode::MOCK) mockPhaseMs_ = (uint16_t)((mockPhaseMs_ + ms) % kMockBeatMs);
}

void Monitor::onFrame(const uint16_t* values, bool leadOff) {
  if (filled_ == 0) lineStartMs_ = nowMs_;
  if (cfg_.mode == AppMode::ANALOG) {
    for (uint8_t c = 0; c < channels_; ++c) pending_[c * cfg_.samplesPerLine + filled_] = values[c];
  } else {
    uint16_t x = cfg_.mode == AppMode::MOCK ? mockEcg(mockPhaseMs_) : values[0];
    if (cfg_.mode == AppMode::MOCK) leadOff = false;
    if (leadOff != leadOff_) sendLead(leadOff);
    BeatDetector::Beat beat;
    if (detector_.step(x, leadOff, beat)) sendBeat(beat);
    if (detector_.status() != reportedStatus_) sendQuality();
    pending_[filled_] = x;
  }
  if (++filled_ == cfg_.samplesPerLine) {
    sendSamples();
    filled_ = 0;
  }
  advanceClock(1);
}

void Monitor::onOverrun(uint16_t frames) {
  if (frames == 0) return;
  // The samples of the unfinished line would not be consecutive: send what there is first.
  if (filled_ != 0) sendSamples();
  filled_ = 0;
  advanceClock(frames);
  warn(PW_FLASH("sampler overrun: "), frames, PW_FLASH(" samples lost"));
}

}  // namespace pw

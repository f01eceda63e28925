// The firmware: the board layer samples, the portable Monitor makes the lines, and the loop
// moves frames to the Monitor and queued lines to the link without ever waiting on either.
#include <Arduino.h>

#include "boards/board.h"
#include "monitor.h"
#include "plotwire_config.h"

namespace {

char outboxBytes[PW_OUTBOX_BYTES];
char lineBytes[PW_LINE_BYTES];
uint16_t pending[PW_CHANNELS * PW_SAMPLES_PER_LINE];
pw::Outbox outbox(outboxBytes, sizeof outboxBytes);
pw::Monitor monitor(outbox, lineBytes, sizeof lineBytes, pending, PW_CHANNELS * PW_SAMPLES_PER_LINE);

const pw::AppMode kModes[] = {pw::AppMode::ECG, pw::AppMode::PPG, pw::AppMode::ANALOG, pw::AppMode::MOCK};

void pumpLink() {
  uint16_t room = pw::boardLinkSpace();
  const char* bytes = nullptr;
  while (room != 0) {
    uint16_t n = outbox.peek(&bytes);
    if (n == 0) break;
    if (n > room) n = room;
    pw::boardLinkWrite(bytes, n);
    outbox.consume(n);
    room = (uint16_t)(room - n);
  }
}

}  // namespace

void setup() {
  pw::MonitorConfig config = {kModes[PW_APP], PW_RATE_HZ, PW_SAMPLES_PER_LINE, PW_ANALOG_MASK, pw::boardName(), nullptr};
  monitor.begin(config);
  pw::boardBegin(PW_RATE_HZ);
}

void loop() {
  pw::BoardFrame frame;
  bool worked = false;
  while (pw::boardRing.pop(frame)) {
    monitor.onFrame(frame.value, frame.leadOff);
    pumpLink();
    worked = true;
  }
  monitor.onOverrun(pw::boardTakeOverruns());
  if (pw::boardLinkOpened()) monitor.hello();
  pumpLink();
  // Sleep until the next interrupt (a sample, or room on the link) unless work may be waiting.
  if (!worked) pw::boardIdle();
}

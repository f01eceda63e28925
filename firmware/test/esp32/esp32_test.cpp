// The ESP32 firmware (main.cpp, the core, boards/esp32.cpp) on the stand-in: its hardware timer
// ticks at the sample rate, the sampler task reads the 12-bit ADC as 10 bits, and the loop sends
// the protocol's lines to Serial, for the arduino-esp32 major version it was built against.
#include <doctest/doctest.h>

#include "Arduino.h"
#include "boards/board.h"
#include "plotwire_protocol.h"

void setup();
void loop();

namespace {

// One timer tick, then the sampler task until it waits for the next.
void tick() {
  standIn.isr();
  try {
    standIn.task(nullptr);
  } catch (StandInStop&) {
  }
}

}  // namespace

TEST_CASE("setup starts sampling at the rate with a 1 MHz timer and a high-priority sampler task") {
  setup();
  CHECK_EQ(standIn.baud, PW_BAUD);
  CHECK_EQ(standIn.adcBits, 12);
  REQUIRE((standIn.isr != nullptr));
  REQUIRE((standIn.task != nullptr));
  CHECK_EQ(standIn.timerHz, 1000000u);
  CHECK_EQ(standIn.alarmTicks, 1000000u / PW_RATE_HZ);
  CHECK(standIn.autoreload);
  CHECK(standIn.alarmOn);
  CHECK_EQ(standIn.priority, (UBaseType_t)configMAX_PRIORITIES - 1);
#if PW_LEAD_OFF_PLUS_PIN >= 0
  CHECK_EQ(standIn.mode[PW_LEAD_OFF_PLUS_PIN], INPUT);
  CHECK_EQ(standIn.mode[PW_LEAD_OFF_MINUS_PIN], INPUT);
#endif
}

TEST_CASE("a tick samples A0 (GPIO 36) as 10 bits; the loop sends the hello first, then the samples") {
  standIn.analog[36] = 4095;
  for (unsigned i = 0; i < 2 * PW_SAMPLES_PER_LINE; ++i) {
    tick();
    loop();
  }
  CHECK_EQ(standIn.critical, 0);
  CHECK_EQ(standIn.written.rfind("\n{\"" PW_KEY_HELLO "\":", 0), 0u);
  CHECK(standIn.written.find("\"" PW_KEY_BOARD "\":\"esp32\"") != std::string::npos);
  CHECK(standIn.written.find("[1023,1023,1023,1023,1023]") != std::string::npos);
}

TEST_CASE("the loop writes only what the UART takes now, and never waits for it") {
  standIn.written.clear();
  standIn.writeRoom = 0;
  for (unsigned i = 0; i < PW_SAMPLES_PER_LINE; ++i) {
    tick();
    loop();
  }
  CHECK(standIn.written.empty());
  standIn.writeRoom = 128;
  loop();
  CHECK(!standIn.written.empty());
  CHECK(standIn.written.size() <= 128u);
}

TEST_CASE("frames the loop has not taken yet are counted as overruns, under the lock") {
  for (int i = 0; i < 3 * PW_RING_DEPTH; ++i) tick();
  CHECK(pw::boardTakeOverruns() > 0);
  CHECK_EQ(pw::boardTakeOverruns(), 0);
  CHECK_EQ(standIn.critical, 0);
}

#if PW_LEAD_OFF_PLUS_PIN >= 0
TEST_CASE("a lead-off pin high marks the frame") {
  pw::BoardFrame f;
  while (pw::boardRing.pop(f)) {
  }
  standIn.level[PW_LEAD_OFF_MINUS_PIN] = HIGH;
  tick();
  REQUIRE(pw::boardRing.pop(f));
  CHECK(f.leadOff);
  standIn.level[PW_LEAD_OFF_MINUS_PIN] = LOW;
  tick();
  REQUIRE(pw::boardRing.pop(f));
  CHECK(!f.leadOff);
}
#endif

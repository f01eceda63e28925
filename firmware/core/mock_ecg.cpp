#include "mock_ecg.h"

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define PW_TABLE PROGMEM
static inline uint16_t readWord(const uint16_t* p) { return pgm_read_word(p); }
#else
#define PW_TABLE
static inline uint16_t readWord(const uint16_t* p) { return *p; }
#endif

namespace pw {

namespace {
// (ms into the beat, ADC value) corners; straight lines between them.
const uint16_t kShape[][2] PW_TABLE = {
    {0, 512},   {40, 512},  {60, 530},  {80, 536},  {100, 530}, {120, 512}, {160, 512},
    {170, 495}, {185, 760}, {200, 470}, {215, 512}, {300, 512}, {360, 560}, {400, 572},
    {440, 556}, {500, 512}, {kMockBeatMs, 512},
};
const uint8_t kCorners = sizeof kShape / sizeof kShape[0];
}  // namespace

uint16_t mockEcg(uint16_t phaseMs) {
  for (uint8_t i = 1; i < kCorners; ++i) {
    uint16_t t1 = readWord(&kShape[i][0]);
    if (phaseMs < t1) {
      uint16_t t0 = readWord(&kShape[i - 1][0]);
      int32_t v0 = readWord(&kShape[i - 1][1]);
      int32_t v1 = readWord(&kShape[i][1]);
      return (uint16_t)(v0 + (v1 - v0) * (int32_t)(phaseMs - t0) / (int32_t)(t1 - t0));
    }
  }
  return readWord(&kShape[kCorners - 1][1]);
}

}  // namespace pw

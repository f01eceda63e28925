// What a board layer provides: sampling into the ring at a fixed rate from a timer interrupt, and
// a serial link that is written only as far as it can take without blocking.
#ifndef PW_BOARD_H
#define PW_BOARD_H

#include <stdint.h>

#include "plotwire_config.h"
#include "sample_ring.h"

namespace pw {

typedef SampleRing<PW_CHANNELS, PW_RING_DEPTH> BoardRing;
typedef Frame<PW_CHANNELS> BoardFrame;

// The analog inputs sampled: bit i is Ai.
#if PW_APP == PW_APP_ANALOG
const uint8_t kInputMask = PW_ANALOG_MASK;
#else
const uint8_t kInputMask = (uint8_t)(1u << PW_SIGNAL_INPUT);
#endif

// The input index (0 = A0) of each channel, in pin order.
inline void inputsOfChannels(uint8_t* inputs) {
  for (uint8_t bit = 0, c = 0; bit < 6; ++bit) {
    if (kInputMask & (1u << bit)) inputs[c++] = bit;
  }
}

// The ring the sampling interrupt fills.
extern BoardRing boardRing;

// Opens the serial link and starts sampling at rateHz into boardRing.
void boardBegin(uint16_t rateHz);
// Frames the ring refused since the last call (read safely against the interrupt).
uint16_t boardTakeOverruns();
// True once each time a host opens the port (USB CDC boards only: a UART board resets instead).
bool boardLinkOpened();
// Bytes the link takes right now without blocking.
uint16_t boardLinkSpace();
void boardLinkWrite(const char* bytes, uint16_t count);
// Nothing to do until the next frame: the AVR sleeps in idle mode (timers, ADC and UART run on).
// Never inlined, so a profiler can tell idle cycles from work by the program counter.
void boardIdle() __attribute__((noinline));
// The board's name for the hello line (a flash string).
const char* boardName();

}  // namespace pw

#endif

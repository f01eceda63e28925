// A synthetic ECG for a board with nothing attached: P wave, QRS and T wave at 72 bpm, so the
// whole path (detector, lines, bridge, plot) can be seen working without a sensor.
#ifndef PW_MOCK_ECG_H
#define PW_MOCK_ECG_H

#include <stdint.h>

namespace pw {

// One beat lasts this long (72 bpm).
const uint16_t kMockBeatMs = 833;

// The ADC value (0..1023, baseline 512, R peak 760) phaseMs into a beat (0..kMockBeatMs-1).
uint16_t mockEcg(uint16_t phaseMs);

}  // namespace pw

#endif

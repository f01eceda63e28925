// The AD8232's lead-off outputs LO+ / LO- (high while an electrode is off), for any Arduino core:
// a board layer includes this after Arduino.h.
#ifndef PW_LEAD_OFF_H
#define PW_LEAD_OFF_H

#include "plotwire_config.h"

namespace pw {

inline void leadOffBegin() {
#if PW_APP == PW_APP_ECG && PW_LEAD_OFF_PLUS_PIN >= 0
  pinMode(PW_LEAD_OFF_PLUS_PIN, INPUT);
#endif
#if PW_APP == PW_APP_ECG && PW_LEAD_OFF_MINUS_PIN >= 0
  pinMode(PW_LEAD_OFF_MINUS_PIN, INPUT);
#endif
}

inline bool leadOffNow() {
#if PW_APP == PW_APP_ECG && PW_LEAD_OFF_PLUS_PIN >= 0
  if (digitalRead(PW_LEAD_OFF_PLUS_PIN) == HIGH) return true;
#endif
#if PW_APP == PW_APP_ECG && PW_LEAD_OFF_MINUS_PIN >= 0
  if (digitalRead(PW_LEAD_OFF_MINUS_PIN) == HIGH) return true;
#endif
  return false;
}

}  // namespace pw

#endif

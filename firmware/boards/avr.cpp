// AVR boards (Uno: ATmega328P, UART; Yún: ATmega32u4, USB CDC): Timer1 ticks at the sample
// rate and starts the ADC; the ADC-complete interrupt stores each channel and pushes the frame.
// Nothing waits: the loop takes frames from the ring.
#if defined(__AVR__)

#include <Arduino.h>
#include <avr/interrupt.h>
#include <avr/sleep.h>

#include "board.h"
#include "lead_off.h"

namespace pw {

BoardRing boardRing;

namespace {

uint8_t inputs[PW_CHANNELS];  // analog input index (0 = A0) of each channel
volatile uint8_t next;        // channel being converted
BoardFrame frame;

uint8_t adcChannel(uint8_t input) {
#if defined(analogPinToChannel)
  return analogPinToChannel(input);  // the 32u4 maps A0.. onto scattered ADC channels
#else
  return input;
#endif
}

void startConversion(uint8_t channel) {
  uint8_t mux = adcChannel(inputs[channel]);
#if defined(MUX5)
  ADCSRB = (uint8_t)((ADCSRB & ~(1 << MUX5)) | ((mux >> 3) & 0x01) << MUX5);
#endif
  ADMUX = (uint8_t)((1 << REFS0) | (mux & 0x07));  // AVcc reference
  ADCSRA |= (1 << ADSC);
}

// Timer1's clock select CS12..CS10 = 1, 2, 3, 4 divides the clock by 2^0, 2^3, 2^6, 2^8.
uint8_t prescaleShift(uint8_t clockSelect) { return clockSelect == 4 ? 8 : (uint8_t)(3 * (clockSelect - 1)); }

}  // namespace

void boardBegin(uint16_t rateHz) {
  PW_SERIAL.begin(PW_BAUD);
  leadOffBegin();
  inputsOfChannels(inputs);
  // ADC on, interrupt on completion, clock /128 (125 kHz at 16 MHz: a conversion takes 104 us).
  ADCSRA = (1 << ADEN) | (1 << ADIE) | (1 << ADPS2) | (1 << ADPS1) | (1 << ADPS0);

  // Timer1 in CTC mode with the smallest prescaler whose compare value fits 16 bits: the finest
  // period the timer can make, at any rate from 1 Hz (/256: 62500 ticks) up (/1: 32000 at 500 Hz).
  uint8_t clockSelect = 1;
  uint32_t ticks;
  while ((ticks = ((F_CPU >> prescaleShift(clockSelect)) + rateHz / 2u) / rateHz) > 65536u && clockSelect < 4) ++clockSelect;
  noInterrupts();
  TCCR1A = 0;
  TCCR1B = (uint8_t)((1 << WGM12) | clockSelect);
  TCNT1 = 0;
  OCR1A = (uint16_t)(ticks - 1u);
  TIMSK1 = (1 << OCIE1A);
  interrupts();
}

void boardIdle() {
  set_sleep_mode(SLEEP_MODE_IDLE);
  // Any interrupt wakes the CPU; only a new frame ends the wait (the UART drains on its own).
  while (boardRing.empty()) sleep_mode();
}

uint16_t boardTakeOverruns() {
  noInterrupts();
  uint16_t n = boardRing.takeOverruns();
  interrupts();
  return n;
}

bool boardLinkOpened() {
#if defined(USBCON)
  static bool open = false;
  if ((const void*)&PW_SERIAL != (const void*)&Serial) return false;  // Serial1 to the Yún's Linux side
  // DTR: a program has the port open. Not (bool)Serial: the CDC's operator bool waits 10 ms
  // each time, most of a loop pass at 500 Hz.
  bool now = Serial.dtr();
  bool rose = now && !open;
  open = now;
  return rose;
#else
  return false;
#endif
}

uint16_t boardLinkSpace() {
  int room = PW_SERIAL.availableForWrite();
  return room > 0 ? (uint16_t)room : 0;
}

void boardLinkWrite(const char* bytes, uint16_t count) { PW_SERIAL.write((const uint8_t*)bytes, count); }

const char* boardName() {
#if defined(ARDUINO_AVR_YUN)
  return PSTR("yun");
#elif defined(ARDUINO_AVR_UNO)
  return PSTR("uno");
#else
  return PSTR("avr");
#endif
}

}  // namespace pw

ISR(TIMER1_COMPA_vect) {
#if PW_APP == PW_APP_MOCK
  pw::frame.leadOff = false;
  pw::boardRing.push(pw::frame);  // the Monitor makes the signal
#else
  pw::next = 0;
  pw::startConversion(0);
#endif
}

ISR(ADC_vect) {
  uint8_t c = pw::next;
  pw::frame.value[c] = ADC;
  if (++c < PW_CHANNELS) {
    pw::next = c;
    pw::startConversion(c);
    return;
  }
  pw::frame.leadOff = pw::leadOffNow();
  pw::boardRing.push(pw::frame);
}

#endif

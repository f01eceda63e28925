// ESP32 (esp32dev): a hardware timer wakes a high-priority sampling task at the sample rate (the
// ADC driver must not be called from an interrupt); the task reads the 12-bit ADC, scales it to
// the 10 bits the core expects, and pushes the frame. The loop drains the ring as on AVR.
#if defined(ARDUINO_ARCH_ESP32)

#include <Arduino.h>

#include "board.h"
#include "lead_off.h"

namespace pw {

BoardRing boardRing;

namespace {

// The ESP32 DevKit's A0..A5 (ADC1, usable while Wi-Fi runs).
const uint8_t kAnalogPins[6] = {36, 39, 34, 35, 32, 33};

uint8_t pins[PW_CHANNELS];
TaskHandle_t samplerTask = nullptr;
hw_timer_t* timer = nullptr;
portMUX_TYPE overrunLock = portMUX_INITIALIZER_UNLOCKED;

void IRAM_ATTR onTick() {
  BaseType_t woken = pdFALSE;
  vTaskNotifyGiveFromISR(samplerTask, &woken);
  if (woken) portYIELD_FROM_ISR();
}

void sampleForever(void*) {
  BoardFrame frame;
  for (;;) {
    ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
    for (uint8_t c = 0; c < PW_CHANNELS; ++c) {
#if PW_APP == PW_APP_MOCK
      frame.value[c] = 0;  // the Monitor makes the signal
#else
      frame.value[c] = (uint16_t)(analogRead(pins[c]) >> 2);  // 12 bits -> 10
#endif
    }
    frame.leadOff = leadOffNow();
    portENTER_CRITICAL(&overrunLock);
    boardRing.push(frame);
    portEXIT_CRITICAL(&overrunLock);
  }
}

}  // namespace

void boardBegin(uint16_t rateHz) {
  PW_SERIAL.begin(PW_BAUD);
  analogReadResolution(12);
  inputsOfChannels(pins);
  for (uint8_t c = 0; c < PW_CHANNELS; ++c) pins[c] = kAnalogPins[pins[c]];
  leadOffBegin();
  xTaskCreatePinnedToCore(sampleForever, "plotwire-sampler", 2048, nullptr, configMAX_PRIORITIES - 1, &samplerTask, 1);
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  timer = timerBegin(1000000);  // 1 MHz ticks
  timerAttachInterrupt(timer, &onTick);
  timerAlarm(timer, 1000000u / rateHz, true, 0);
#else
  timer = timerBegin(0, 80, true);  // 80 MHz / 80 = 1 MHz ticks
  timerAttachInterrupt(timer, &onTick, true);
  timerAlarmWrite(timer, 1000000u / rateHz, true);
  timerAlarmEnable(timer);
#endif
}

void boardIdle() { delay(1); }  // lets the idle task run (and feed the watchdog)

uint16_t boardTakeOverruns() {
  portENTER_CRITICAL(&overrunLock);
  uint16_t n = boardRing.takeOverruns();
  portEXIT_CRITICAL(&overrunLock);
  return n;
}

bool boardLinkOpened() { return false; }  // a USB-UART bridge: opening the port resets the board

uint16_t boardLinkSpace() {
  int room = PW_SERIAL.availableForWrite();
  return room > 0 ? (uint16_t)room : 0;
}

void boardLinkWrite(const char* bytes, uint16_t count) { PW_SERIAL.write((const uint8_t*)bytes, count); }

const char* boardName() { return "esp32"; }

}  // namespace pw

#endif

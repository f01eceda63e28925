// The stand-in's calls: each records what it was asked into standIn.
#include "Arduino.h"

StandIn standIn;
HardwareSerial Serial;

struct StandInTask {};
static StandInTask samplerTask;
struct hw_timer_s {};
static hw_timer_s timer;

void portENTER_CRITICAL(portMUX_TYPE*) { ++standIn.critical; }
void portEXIT_CRITICAL(portMUX_TYPE*) { --standIn.critical; }
void portYIELD_FROM_ISR() {}

BaseType_t xTaskCreatePinnedToCore(TaskFunction_t code, const char*, uint32_t, void*, UBaseType_t priority, TaskHandle_t* created, BaseType_t) {
  standIn.task = code;
  standIn.priority = priority;
  *created = &samplerTask;
  return pdTRUE;
}

void vTaskNotifyGiveFromISR(TaskHandle_t task, BaseType_t* woken) {
  if (task == &samplerTask) ++standIn.notifications;
  *woken = pdTRUE;
}

uint32_t ulTaskNotifyTake(BaseType_t clearCountOnExit, TickType_t) {
  if (standIn.notifications == 0) throw StandInStop();
  uint32_t n = standIn.notifications;
  standIn.notifications = clearCountOnExit ? 0 : n - 1;
  return n;
}

void pinMode(uint8_t pin, uint8_t mode) { standIn.mode[pin] = mode; }
int digitalRead(uint8_t pin) { return standIn.level[pin]; }
uint16_t analogRead(uint8_t pin) { return standIn.analog[pin]; }
void analogReadResolution(uint8_t bits) { standIn.adcBits = bits; }
void delay(uint32_t ms) { standIn.delayedMs += ms; }

void HardwareSerial::begin(unsigned long baud) { standIn.baud = baud; }
int HardwareSerial::availableForWrite() { return standIn.writeRoom; }
size_t HardwareSerial::write(const uint8_t* buffer, size_t size) {
  standIn.written.append((const char*)buffer, size);
  return size;
}

#if ESP_ARDUINO_VERSION_MAJOR >= 3
hw_timer_t* timerBegin(uint32_t frequency) {
  standIn.timerHz = frequency;
  return &timer;
}
void timerAttachInterrupt(hw_timer_t*, void (*userFunc)(void)) { standIn.isr = userFunc; }
void timerAlarm(hw_timer_t*, uint64_t alarm_value, bool autoreload, uint64_t) {
  standIn.alarmTicks = alarm_value;
  standIn.autoreload = autoreload;
  standIn.alarmOn = true;
}
#else
hw_timer_t* timerBegin(uint8_t, uint16_t divider, bool countUp) {
  standIn.timerHz = countUp && divider != 0 ? 80000000u / divider : 0;  // the APB clock, divided
  return &timer;
}
void timerAttachInterrupt(hw_timer_t*, void (*fn)(void), bool) { standIn.isr = fn; }
void timerAlarmWrite(hw_timer_t*, uint64_t interruptAt, bool autoreload) {
  standIn.alarmTicks = interruptAt;
  standIn.autoreload = autoreload;
}
void timerAlarmEnable(hw_timer_t*) { standIn.alarmOn = true; }
#endif

// A stand-in for what the ESP32 firmware uses of arduino-esp32's Arduino.h (and the FreeRTOS it
// brings), so main.cpp, the core and boards/esp32.cpp build and run on the host: the types and
// calls are checked against the real signatures, and each call is recorded in standIn for the
// tests. ESP_ARDUINO_VERSION_MAJOR (set by the build: 2 or 3) picks that core's timer API.
#ifndef PW_ESP32_STAND_IN_H
#define PW_ESP32_STAND_IN_H

#include <stddef.h>
#include <stdint.h>

#include <string>

#ifndef ESP_ARDUINO_VERSION_MAJOR
#error "set ESP_ARDUINO_VERSION_MAJOR to the arduino-esp32 major version to stand in for (2 or 3)"
#endif

#define IRAM_ATTR
#define HIGH 0x1
#define LOW 0x0
#define INPUT 0x01

// FreeRTOS, as arduino-esp32 configures it.
typedef int BaseType_t;
typedef unsigned int UBaseType_t;
typedef uint32_t TickType_t;
typedef struct StandInTask* TaskHandle_t;
typedef void (*TaskFunction_t)(void*);
#define pdTRUE ((BaseType_t)1)
#define pdFALSE ((BaseType_t)0)
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#define configMAX_PRIORITIES 25
typedef struct {
  uint32_t owner;
  uint32_t count;
} portMUX_TYPE;
#define portMUX_INITIALIZER_UNLOCKED {0xB33FFFFF, 0}
void portENTER_CRITICAL(portMUX_TYPE* mux);
void portEXIT_CRITICAL(portMUX_TYPE* mux);
void portYIELD_FROM_ISR();
BaseType_t xTaskCreatePinnedToCore(TaskFunction_t code, const char* name, uint32_t stackDepth, void* parameters, UBaseType_t priority,
                                   TaskHandle_t* created, BaseType_t core);
void vTaskNotifyGiveFromISR(TaskHandle_t task, BaseType_t* higherPriorityTaskWoken);
uint32_t ulTaskNotifyTake(BaseType_t clearCountOnExit, TickType_t ticksToWait);

// Arduino.
void pinMode(uint8_t pin, uint8_t mode);
int digitalRead(uint8_t pin);
uint16_t analogRead(uint8_t pin);
void analogReadResolution(uint8_t bits);
void delay(uint32_t ms);

class HardwareSerial {
 public:
  void begin(unsigned long baud);
  int availableForWrite();
  size_t write(const uint8_t* buffer, size_t size);
};
extern HardwareSerial Serial;

// The hardware timer: arduino-esp32 3.x counts at a frequency; 2.x took a timer number, a
// divider of the 80 MHz APB clock, and a direction.
struct hw_timer_s;
typedef struct hw_timer_s hw_timer_t;
#if ESP_ARDUINO_VERSION_MAJOR >= 3
hw_timer_t* timerBegin(uint32_t frequency);
void timerAttachInterrupt(hw_timer_t* timer, void (*userFunc)(void));
void timerAlarm(hw_timer_t* timer, uint64_t alarm_value, bool autoreload, uint64_t reload_count);
#else
hw_timer_t* timerBegin(uint8_t timer, uint16_t divider, bool countUp);
void timerAttachInterrupt(hw_timer_t* timer, void (*fn)(void), bool edge);
void timerAlarmWrite(hw_timer_t* timer, uint64_t interruptAt, bool autoreload);
void timerAlarmEnable(hw_timer_t* timer);
#endif

// What the firmware did, for the tests.
struct StandIn {
  unsigned long baud = 0;
  uint8_t adcBits = 10;
  uint32_t timerHz = 0;      // the timer's count rate
  uint64_t alarmTicks = 0;   // its alarm, in counts
  bool autoreload = false;
  bool alarmOn = false;
  void (*isr)() = nullptr;
  TaskFunction_t task = nullptr;
  UBaseType_t priority = 0;
  uint32_t notifications = 0;  // given by the interrupt, not yet taken by the task
  int critical = 0;            // critical sections entered and not left
  uint16_t analog[40] = {};    // what analogRead gives, by GPIO
  uint8_t level[40] = {};      // what digitalRead gives, by GPIO
  uint8_t mode[40] = {};       // what pinMode set, by GPIO
  int writeRoom = 128;         // what availableForWrite says
  std::string written;         // what went out of Serial
  uint32_t delayedMs = 0;
};
extern StandIn standIn;

// Thrown by ulTaskNotifyTake when nothing was given: ends the sampler's endless loop in a test.
struct StandInStop {};

#endif

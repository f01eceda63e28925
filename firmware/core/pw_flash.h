// Constant strings in flash: on AVR, string literals would otherwise be copied into the 2 KB of
// SRAM at boot, so the core keeps them in program memory and reads them a byte at a time.
#ifndef PW_FLASH_H
#define PW_FLASH_H

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define PW_FLASH(s) PSTR(s)
static inline char pw_flash_char(const char* p) { return (char)pgm_read_byte(p); }
#else
#define PW_FLASH(s) (s)
static inline char pw_flash_char(const char* p) { return *p; }
#endif

#endif

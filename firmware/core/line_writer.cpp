#include "line_writer.h"

#include "pw_flash.h"

namespace pw {

void LineWriter::begin() {
  len_ = 0;
  overflow_ = false;
  first_ = true;
  put('{');
}

bool LineWriter::end() {
  put('}');
  put('\n');
  return !overflow_;
}

void LineWriter::put(char c) {
  if (len_ < cap_) {
    buf_[len_++] = c;
  } else {
    overflow_ = true;
  }
}

void LineWriter::keyStart() {
  if (!first_) put(',');
  first_ = false;
  put('"');
}

void LineWriter::keyEnd() {
  put('"');
  put(':');
}

void LineWriter::key(const char* flashKey) {
  keyStart();
  rawFlash(flashKey);
  keyEnd();
}

// Digits by repeated subtraction of powers of ten: an 8-bit AVR has no divide instruction, and a
// 32-bit division per digit would cost more than the whole beat detector.
void LineWriter::u32(uint32_t value) {
  bool started = false;
  uint8_t first = 0;
  if (value > 0xFFFFu) {
    // Down to the ten-thousands, which leaves under 10000 for the 16-bit part.
    first = 1;
    for (uint32_t p = 1000000000UL; p >= 10000u; p /= 10u) {
      char d = '0';
      while (value >= p) {
        value -= p;
        ++d;
      }
      if (started || d != '0') {
        put(d);
        started = true;
      }
    }
  }
  uint16_t v = (uint16_t)value;
  static const uint16_t kPowers[] = {10000u, 1000u, 100u, 10u};
  for (uint8_t i = first; i < 4; ++i) {
    char d = '0';
    while (v >= kPowers[i]) {
      v = (uint16_t)(v - kPowers[i]);
      ++d;
    }
    if (started || d != '0') {
      put(d);
      started = true;
    }
  }
  put((char)('0' + v));
}

void LineWriter::tenths(uint32_t valueX10) {
  u32(valueX10 / 10u);
  put('.');
  put((char)('0' + valueX10 % 10u));
}

void LineWriter::boolean(bool value) { rawFlash(value ? PW_FLASH("true") : PW_FLASH("false")); }

void LineWriter::escaped(char c) {
  if (c == '"' || c == '\\') {
    put('\\');
    put(c);
  } else if ((unsigned char)c < 0x20u) {
    put('\\');
    put('u');
    put('0');
    put('0');
    put((char)('0' + (((unsigned char)c >> 4) & 0x1u)));
    uint8_t low = (unsigned char)c & 0xFu;
    put((char)(low < 10u ? '0' + low : 'a' + low - 10u));
  } else {
    put(c);
  }
}

void LineWriter::str(const char* flashText) {
  put('"');
  for (char c; (c = pw_flash_char(flashText)) != '\0'; ++flashText) escaped(c);
  put('"');
}

void LineWriter::strRam(const char* text) {
  put('"');
  for (; *text != '\0'; ++text) escaped(*text);
  put('"');
}

void LineWriter::openArray() { put('['); }
void LineWriter::arrayItem() { put(','); }
void LineWriter::closeArray() { put(']'); }

void LineWriter::rawFlash(const char* flashText) {
  for (char c; (c = pw_flash_char(flashText)) != '\0'; ++flashText) put(c);
}

void LineWriter::rawChar(char c) { put(c); }

}  // namespace pw

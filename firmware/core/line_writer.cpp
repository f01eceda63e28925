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

void LineWriter::u32(uint32_t value) {
  char digits[10];
  uint8_t n = 0;
  do {
    digits[n++] = (char)('0' + value % 10u);
    value /= 10u;
  } while (value != 0u);
  while (n > 0) put(digits[--n]);
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

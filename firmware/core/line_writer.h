// NDJSON into a fixed buffer: no heap, no String, no printf. A line that does not fit is marked
// overflowed rather than cut, so a caller never sends half an object.
#ifndef PW_LINE_WRITER_H
#define PW_LINE_WRITER_H

#include <stdint.h>

namespace pw {

class LineWriter {
 public:
  LineWriter(char* buffer, uint16_t capacity) : buf_(buffer), cap_(capacity), len_(0), first_(true), overflow_(false) {}

  // Starts a new object: "{".
  void begin();
  // Ends the object and the line: "}\n". Returns false if anything did not fit.
  bool end();

  // "key": (a comma first when needed). key is a flash string (PW_FLASH or a header macro).
  void key(const char* flashKey);
  // A key whose name the caller writes with rawFlash/rawChar between these two.
  void keyStart();
  void keyEnd();
  void u32(uint32_t value);
  // value / 10 with one decimal ("72.5"), for fixed-point tenths.
  void tenths(uint32_t valueX10);
  void boolean(bool value);
  // A JSON string from a flash string, escaped.
  void str(const char* flashText);
  // A JSON string from RAM text, escaped.
  void strRam(const char* text);
  // Array punctuation, for values written with u32 in between.
  void openArray();
  void arrayItem();  // a comma between items
  void closeArray();
  // Raw text from flash, not escaped (for names the core itself composes).
  void rawFlash(const char* flashText);
  void rawChar(char c);

  const char* data() const { return buf_; }
  uint16_t length() const { return len_; }
  uint16_t capacity() const { return cap_; }
  bool overflowed() const { return overflow_; }

 private:
  void put(char c);
  void escaped(char c);
  char* buf_;
  uint16_t cap_;
  uint16_t len_;
  bool first_;
  bool overflow_;
};

}  // namespace pw

#endif

// The bytes waiting for the serial link: a ring that takes whole lines or nothing, so when the
// link is slower than the data a line is dropped (and counted by the caller), never cut.
#ifndef PW_OUTBOX_H
#define PW_OUTBOX_H

#include <stdint.h>

namespace pw {

class Outbox {
 public:
  Outbox(char* storage, uint16_t capacity) : buf_(storage), cap_(capacity), head_(0), used_(0) {}

  uint16_t capacity() const { return cap_; }
  uint16_t used() const { return used_; }
  uint16_t space() const { return (uint16_t)(cap_ - used_); }

  // Queues the whole line, or nothing when it does not fit.
  bool push(const char* line, uint16_t length);
  // The oldest queued bytes that lie contiguously in the ring; 0 when empty.
  uint16_t peek(const char** bytes) const;
  // Forgets the first count bytes (after the link took them).
  void consume(uint16_t count);

 private:
  char* buf_;
  uint16_t cap_;
  uint16_t head_;  // index of the oldest byte
  uint16_t used_;
};

}  // namespace pw

#endif

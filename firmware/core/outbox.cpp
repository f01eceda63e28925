#include "outbox.h"

namespace pw {

bool Outbox::push(const char* line, uint16_t length) {
  if (length > space()) return false;
  uint16_t tail = (uint16_t)(head_ + used_);
  if (tail >= cap_) tail = (uint16_t)(tail - cap_);
  for (uint16_t i = 0; i < length; ++i) {
    buf_[tail] = line[i];
    if (++tail == cap_) tail = 0;
  }
  used_ = (uint16_t)(used_ + length);
  return true;
}

uint16_t Outbox::peek(const char** bytes) const {
  *bytes = buf_ + head_;
  uint16_t toEnd = (uint16_t)(cap_ - head_);
  return used_ < toEnd ? used_ : toEnd;
}

void Outbox::consume(uint16_t count) {
  if (count > used_) count = used_;
  head_ = (uint16_t)(head_ + count);
  if (head_ >= cap_) head_ = (uint16_t)(head_ - cap_);
  used_ = (uint16_t)(used_ - count);
}

}  // namespace pw

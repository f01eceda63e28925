// The fixed-rate sampler contract: the board's timer interrupt pushes one frame (a value per
// channel, plus the lead-off input) at exactly the configured rate; the main loop pops frames and
// does everything slow. One producer, one consumer, 8-bit indices (atomic on every target), so no
// lock is needed. A full ring counts the frames it had to refuse, so time stays right and the loss
// is reported instead of silent.
#ifndef PW_SAMPLE_RING_H
#define PW_SAMPLE_RING_H

#include <stdint.h>

#if defined(__AVR__)
#define PW_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define PW_BARRIER() __sync_synchronize()
#endif

namespace pw {

// Most channels a frame carries (A0..A5).
const uint8_t kMaxChannels = 6;

template <uint8_t Channels>
struct Frame {
  uint16_t value[Channels];
  bool leadOff;
};

// Depth must be a power of two, at most 128.
template <uint8_t Channels, uint8_t Depth>
class SampleRing {
  static_assert(Channels >= 1 && Channels <= kMaxChannels, "Channels: 1..6");
  static_assert(Depth >= 2 && Depth <= 128 && (Depth & (Depth - 1)) == 0, "Depth: a power of two, 2..128");

 public:
  SampleRing() : head_(0), tail_(0), overruns_(0) {}

  // From the sampling interrupt.
  void push(const Frame<Channels>& f) {
    uint8_t next = (uint8_t)((head_ + 1u) & (Depth - 1u));
    if (next == tail_) {
      if (overruns_ != 0xFFFFu) overruns_ = (uint16_t)(overruns_ + 1u);
      return;
    }
    frames_[head_] = f;
    PW_BARRIER();
    head_ = next;
  }

  // From the main loop.
  bool pop(Frame<Channels>& f) {
    if (tail_ == head_) return false;
    PW_BARRIER();
    f = frames_[tail_];
    PW_BARRIER();
    tail_ = (uint8_t)((tail_ + 1u) & (Depth - 1u));
    return true;
  }

  bool empty() const { return tail_ == head_; }

  // Frames refused since the last call (the caller must read it with the interrupt masked on
  // targets where a 16-bit read is not atomic).
  uint16_t takeOverruns() {
    uint16_t n = overruns_;
    overruns_ = 0;
    return n;
  }

 private:
  Frame<Channels> frames_[Depth];
  volatile uint8_t head_;
  volatile uint8_t tail_;
  volatile uint16_t overruns_;
};

}  // namespace pw

#endif

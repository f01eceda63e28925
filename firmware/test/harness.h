// A Monitor wired to an outbox the test drains into whole lines, like the board's loop does.
#ifndef PW_HARNESS_H
#define PW_HARNESS_H

#include <cstdlib>
#include <string>
#include <vector>

#include "monitor.h"
#include "plotwire_protocol.h"

struct Harness {
  explicit Harness(uint16_t outboxBytes = 8192, uint8_t pendingCapacity = 96)
      : store(outboxBytes), out(store.data(), outboxBytes), mon(out, line, sizeof line, pending, pendingCapacity) {}

  void begin(pw::AppMode mode, uint16_t rate = 500, uint8_t spl = 5, uint8_t mask = 1, uint16_t seq = 0, uint32_t ms = 0) {
    pw::MonitorConfig c = {mode, rate, spl, mask, "test", nullptr};
    mon.begin(c, seq, ms);
    if (autoDrain) drain();
  }
  void frame(uint16_t v, bool leadOff = false) {
    uint16_t values[6] = {v, v, v, v, v, v};
    mon.onFrame(values, leadOff);
    if (autoDrain) drain();
  }
  void drain() {
    const char* p = nullptr;
    while (uint16_t n = out.peek(&p)) {
      partial.append(p, n);
      raw.append(p, n);
      out.consume(n);
    }
    size_t nl;
    // Empty lines are left out, as the bridge's framer does.
    while ((nl = partial.find('\n')) != std::string::npos) {
      if (nl != 0) lines.push_back(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
  }
  // Lines that contain every needle.
  std::vector<std::string> with(const char* a, const char* b = "") const {
    std::vector<std::string> r;
    for (const std::string& l : lines)
      if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) r.push_back(l);
    return r;
  }

  std::vector<char> store;
  char line[PW_MAX_LINE];
  uint16_t pending[96];
  pw::Outbox out;
  pw::Monitor mon;
  std::vector<std::string> lines;
  std::string partial;
  std::string raw;  // every byte, as sent
  bool autoDrain = true;
};

// The integer after "key": in a line, or -1.
inline long long num(const std::string& line, const char* key) {
  std::string k = std::string("\"") + key + "\":";
  size_t at = line.find(k);
  if (at == std::string::npos) return -1;
  return std::atoll(line.c_str() + at + k.size());
}

// A number with decimals after "key": (bpm), or -1.
inline double real(const std::string& line, const char* key) {
  std::string k = std::string("\"") + key + "\":";
  size_t at = line.find(k);
  return at == std::string::npos ? -1 : std::atof(line.c_str() + at + k.size());
}

#endif

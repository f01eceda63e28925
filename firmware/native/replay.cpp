// replay: runs the firmware's core on the host. Reads ADC samples from standard input, one
// integer (0..1023) a line, optionally followed by a lead-off flag (0 or 1), taken at --rate Hz,
// and prints exactly the lines the firmware would send over serial.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "monitor.h"
#include "plotwire_protocol.h"

namespace {

const char kUsage[] =
    "usage: replay [--rate HZ] [--mode ecg|ppg|mock] [--spl N] < samples\n"
    "\n"
    "Feeds ADC samples (one integer 0..1023 a line, optionally a lead-off flag 0/1 after it)\n"
    "to the firmware core at HZ samples a second and prints the lines the board would send.\n"
    "  --rate HZ   sample rate (default the firmware's)\n"
    "  --mode M    ecg (default), ppg or mock\n"
    "  --spl N     samples per line (default the firmware's)\n";

bool parseUnsigned(const char* text, unsigned long max, unsigned long* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v > max || text[0] == '-') return false;
  *out = v;
  return true;
}

int usageError(const char* what) {
  std::fprintf(stderr, "replay: %s\n\n%s", what, kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  pw::MonitorConfig cfg = {pw::AppMode::ECG, PW_DEFAULT_SAMPLE_RATE_HZ, PW_DEFAULT_SAMPLES_PER_LINE, 1, "replay"};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    unsigned long n = 0;
    if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (std::strcmp(a, "--rate") == 0) {
      if (!v || !parseUnsigned(v, 10000, &n) || n == 0) return usageError("--rate needs a number of Hz from 1 to 10000");
      cfg.rateHz = (uint16_t)n;
      ++i;
    } else if (std::strcmp(a, "--spl") == 0) {
      if (!v || !parseUnsigned(v, PW_MAX_SAMPLES_PER_LINE, &n) || n == 0) return usageError("--spl needs a number from 1 to the protocol's maximum samples per line");
      cfg.samplesPerLine = (uint8_t)n;
      ++i;
    } else if (std::strcmp(a, "--mode") == 0) {
      if (v && std::strcmp(v, "ecg") == 0) cfg.mode = pw::AppMode::ECG;
      else if (v && std::strcmp(v, "ppg") == 0) cfg.mode = pw::AppMode::PPG;
      else if (v && std::strcmp(v, "mock") == 0) cfg.mode = pw::AppMode::MOCK;
      else return usageError("--mode must be ecg, ppg or mock");
      ++i;
    } else {
      char msg[96];
      std::snprintf(msg, sizeof msg, "unknown option \"%.60s\"", a);
      return usageError(msg);
    }
  }

  static char outboxBytes[4096];
  static char line[PW_MAX_LINE];
  static uint16_t pending[PW_MAX_SAMPLES_PER_LINE];
  pw::Outbox outbox(outboxBytes, sizeof outboxBytes);
  pw::Monitor monitor(outbox, line, sizeof line, pending, PW_MAX_SAMPLES_PER_LINE);
  // The host link never fills: print everything queued after every sample.
  auto drain = [&outbox]() {
    const char* bytes = nullptr;
    while (uint16_t n = outbox.peek(&bytes)) {
      std::fwrite(bytes, 1, n, stdout);
      outbox.consume(n);
    }
  };
  monitor.begin(cfg);
  drain();

  char text[64];
  unsigned long lineNo = 0;
  while (std::fgets(text, sizeof text, stdin)) {
    ++lineNo;
    unsigned value = 0, off = 0;
    char extra = 0;
    int got = std::sscanf(text, "%u %u %c", &value, &off, &extra);
    if (got < 1 || got > 2 || value > 1023 || off > 1 || text[0] == '-') {
      std::fprintf(stderr, "replay: input line %lu: expected an ADC value 0..1023 and an optional lead-off flag 0 or 1, got \"%.40s\"\n", lineNo,
                   std::strtok(text, "\r\n"));
      return 1;
    }
    uint16_t frame[1] = {(uint16_t)value};
    monitor.onFrame(frame, off == 1);
    drain();
  }
  return 0;
}

// replay: runs the firmware's core on the host. Reads ADC samples from standard input, one
// integer (0..1023) a line, optionally followed by a lead-off flag (0 or 1), taken at --rate Hz,
// and prints exactly the lines the firmware would send over serial. The beat detector's
// parameters can be set at run time (the firmware runs their defaults), so an evaluation can tune
// them on some recordings and score others.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "monitor.h"
#include "plotwire_protocol.h"

namespace {

const char kUsage[] =
    "usage: replay [--rate HZ] [--mode ecg|ppg|mock] [--spl N] [--param NAME=VALUE ...] [--events] < samples\n"
    "       replay --params [--mode ecg|ppg]\n"
    "\n"
    "Feeds ADC samples (one integer 0..1023 a line, optionally a lead-off flag 0/1 after it)\n"
    "to the firmware core at HZ samples a second and prints the lines the board would send.\n"
    "  --rate HZ         sample rate (default the firmware's)\n"
    "  --mode M          ecg (default), ppg or mock\n"
    "  --spl N           samples per line (default the firmware's)\n"
    "  --param NAME=V    set a beat detector parameter (the firmware runs the defaults); names:\n"
    "                      threshold (%), searchback (%), twave-ms, twave-slope (%),\n"
    "                      refractory-ms, weak (ADC counts), noisy (tenths)\n"
    "  --params          print the detector's parameters for the mode as JSON, with the values\n"
    "                    --param gave or the defaults, and exit\n"
    "  --events          print only the hello and the event lines, not the sample lines\n";

struct Param {
  const char* name;
  uint16_t pw::DetectorTuning::*field;
};

const Param kParams[] = {
    {"threshold", &pw::DetectorTuning::thresholdPct},   {"searchback", &pw::DetectorTuning::searchbackPct},
    {"twave-ms", &pw::DetectorTuning::tWaveMs},         {"twave-slope", &pw::DetectorTuning::tWavePct},
    {"refractory-ms", &pw::DetectorTuning::refractoryMs}, {"weak", &pw::DetectorTuning::weakRange},
    {"noisy", &pw::DetectorTuning::noisyCrest},
};
const size_t kParamCount = sizeof kParams / sizeof kParams[0];

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

// NAME=VALUE into the tuning; false with a message when it is not one.
bool setParam(const char* text, pw::DetectorTuning* tuning, char* msg, size_t msgSize) {
  const char* eq = std::strchr(text, '=');
  size_t nameLength = eq ? (size_t)(eq - text) : std::strlen(text);
  for (size_t i = 0; i < kParamCount; ++i) {
    if (std::strlen(kParams[i].name) != nameLength || std::strncmp(kParams[i].name, text, nameLength) != 0) continue;
    unsigned long v = 0;
    if (!eq || !parseUnsigned(eq + 1, 60000, &v)) {
      std::snprintf(msg, msgSize, "--param %s needs a whole number from 0 to 60000 after the =", kParams[i].name);
      return false;
    }
    tuning->*kParams[i].field = (uint16_t)v;
    return true;
  }
  std::snprintf(msg, msgSize, "--param \"%.40s\": no such parameter (see --help)", text);
  return false;
}

// "VALUE" or "VALUE FLAG" and a line end; by hand, because sscanf took most of a replay's time.
bool parseSample(const char* text, unsigned* value, unsigned* off) {
  const char* p = text;
  unsigned v = 0;
  int digits = 0;
  for (; *p >= '0' && *p <= '9' && digits < 5; ++p, ++digits) v = v * 10u + (unsigned)(*p - '0');
  if (digits == 0 || v > 1023) return false;
  unsigned flag = 0;
  if (*p == ' ' || *p == '\t') {
    while (*p == ' ' || *p == '\t') ++p;
    if (*p != '0' && *p != '1') return false;
    flag = (unsigned)(*p++ - '0');
  }
  while (*p == ' ' || *p == '\t') ++p;
  if (*p != '\0' && *p != '\n' && !(*p == '\r' && (p[1] == '\n' || p[1] == '\0'))) return false;
  *value = v;
  *off = flag;
  return true;
}

// Prints what the outbox gives; with eventsOnly, whole lines, leaving out the sample lines (the
// ones that start with the sequence number).
struct Printer {
  bool eventsOnly = false;
  char line[PW_MAX_LINE];
  size_t length = 0;

  void write(const char* bytes, size_t n) {
    static const char kSample[] = "{\"" PW_KEY_SEQ "\":";
    if (!eventsOnly) {
      std::fwrite(bytes, 1, n, stdout);
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      if (length < sizeof line) line[length++] = bytes[i];
      if (bytes[i] != '\n') continue;
      if (std::strncmp(line, kSample, sizeof kSample - 1) != 0) std::fwrite(line, 1, length, stdout);
      length = 0;
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  pw::MonitorConfig cfg = {pw::AppMode::ECG, PW_DEFAULT_SAMPLE_RATE_HZ, PW_DEFAULT_SAMPLES_PER_LINE, 1, "replay", nullptr};
  const char* params[16];
  size_t paramCount = 0;
  bool printParams = false;
  Printer printer;
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
      if (v && std::strcmp(v, PW_MODE_ECG) == 0) cfg.mode = pw::AppMode::ECG;
      else if (v && std::strcmp(v, PW_MODE_PPG) == 0) cfg.mode = pw::AppMode::PPG;
      else if (v && std::strcmp(v, PW_MODE_MOCK) == 0) cfg.mode = pw::AppMode::MOCK;
      else return usageError("--mode must be " PW_MODE_ECG ", " PW_MODE_PPG " or " PW_MODE_MOCK);
      ++i;
    } else if (std::strcmp(a, "--param") == 0) {
      if (!v) return usageError("--param needs NAME=VALUE");
      if (paramCount == sizeof params / sizeof params[0]) return usageError("too many --param options");
      params[paramCount++] = v;
      ++i;
    } else if (std::strcmp(a, "--params") == 0) {
      printParams = true;
    } else if (std::strcmp(a, "--events") == 0) {
      printer.eventsOnly = true;
    } else {
      char msg[96];
      std::snprintf(msg, sizeof msg, "unknown option \"%.60s\"", a);
      return usageError(msg);
    }
  }

  // The parameters start from the mode's defaults.
  pw::DetectorTuning tuning = pw::BeatDetector::defaults(cfg.mode == pw::AppMode::PPG ? pw::BeatDetector::PPG : pw::BeatDetector::ECG);
  for (size_t i = 0; i < paramCount; ++i) {
    char msg[96];
    if (!setParam(params[i], &tuning, msg, sizeof msg)) return usageError(msg);
  }
  cfg.tuning = &tuning;
  if (printParams) {
    for (size_t i = 0; i < kParamCount; ++i) std::printf("%s\"%s\":%u", i == 0 ? "{" : ",", kParams[i].name, (unsigned)(tuning.*kParams[i].field));
    std::printf("}\n");
    return 0;
  }

  static char outboxBytes[4096];
  static char line[PW_MAX_LINE];
  static uint16_t pending[PW_MAX_SAMPLES_PER_LINE];
  pw::Outbox outbox(outboxBytes, sizeof outboxBytes);
  pw::Monitor monitor(outbox, line, sizeof line, pending, PW_MAX_SAMPLES_PER_LINE);
  // The host link never fills: print everything queued after every sample.
  auto drain = [&outbox, &printer]() {
    const char* bytes = nullptr;
    while (uint16_t n = outbox.peek(&bytes)) {
      printer.write(bytes, n);
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
    if (!parseSample(text, &value, &off)) {
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

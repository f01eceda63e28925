#include <cmath>

#include "beat_detector.h"
#include "check.h"
#include "harness.h"
#include "mock_ecg.h"

using pw::AppMode;
using pw::BeatDetector;

static_assert(sizeof(BeatDetector) <= 64, "the detector keeps at most 64 bytes of state");

namespace {

// Deterministic noise: uniform in [-amp, amp].
struct Noise {
  uint32_t s = 12345;
  int next(int amp) {
    s = s * 1664525u + 1013904223u;
    return amp == 0 ? 0 : (int)((s >> 8) % (uint32_t)(2 * amp + 1)) - amp;
  }
};

uint16_t clamp10(int v) { return (uint16_t)(v < 0 ? 0 : v > 1023 ? 1023 : v); }

// An ECG at 500 Hz: the mock beat shape at a given RR (ms), with noise. R peaks at 185 ms into a beat.
struct Ecg {
  uint32_t ms2 = 0;  // time in half-ms... kept in 2 ms steps at 500 Hz
  uint32_t beatStart = 0;
  uint16_t rr = 833;
  Noise noise;
  std::vector<uint32_t> rPeaks;
  uint16_t next(int noiseAmp) {
    uint32_t now = ms2;
    ms2 += 2;
    if (now - beatStart >= rr) beatStart = now - (now - beatStart - rr);
    uint32_t phase = now - beatStart;
    if (phase == 184 || phase == 185) rPeaks.push_back(beatStart + 185);
    uint16_t scaled = phase < pw::kMockBeatMs ? pw::mockEcg((uint16_t)(phase * pw::kMockBeatMs / rr)) : 512;
    return clamp10(scaled + noise.next(noiseAmp));
  }
};

// Beat times (ms) from the Monitor's lines.
std::vector<long long> beatTimes(const Harness& h) {
  std::vector<long long> t;
  for (const std::string& l : h.with("\"ev\":\"beat\"")) t.push_back(num(l, "t"));
  return t;
}

// How many detections lie within 60 ms of a reference, and how many do not.
void score(const std::vector<uint32_t>& ref, const std::vector<long long>& det, uint32_t fromMs, int* tp, int* fp) {
  *tp = *fp = 0;
  for (long long d : det) {
    bool hit = false;
    for (uint32_t r : ref) hit = hit || std::llabs(d - (long long)r) <= 60;
    if (d < (long long)fromMs) continue;
    (hit ? *tp : *fp)++;
  }
}

}  // namespace

TEST(ecg_beats_at_the_r_peaks_with_bpm_from_the_intervals) {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  ecg.rr = 750;
  for (int i = 0; i < 500 * 30; ++i) h.frame(ecg.next(4));
  std::vector<long long> det = beatTimes(h);
  int tp = 0, fp = 0;
  score(ecg.rPeaks, det, 0, &tp, &fp);
  CHECK_EQ(fp, 0);
  CHECK(tp >= 37 && tp <= 40);  // 40 beats; the first second or two is learning
  std::vector<std::string> beats = h.with("\"ev\":\"beat\"");
  CHECK(std::fabs(real(beats.back(), "bpm") - 80.0) < 1.0);
  CHECK(std::llabs(num(beats.back(), "ibi") - 750) <= 4);
  CHECK_EQ(h.with("\"sig\":\"ok\"").size(), 1u);
}

TEST(ecg_follows_a_rate_change_and_a_missed_amplitude_with_searchback) {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 20; ++i) {
    ecg.rr = i < 500 * 10 ? 1000 : 600;
    h.frame(ecg.next(3));
  }
  int tp = 0, fp = 0;
  score(ecg.rPeaks, beatTimes(h), 2000, &tp, &fp);
  CHECK_EQ(fp, 0);
  CHECK((size_t)tp + 3 >= ecg.rPeaks.size());
}

TEST(a_flat_line_is_reported_with_bpm_0_and_no_beats_then_the_detector_rearms) {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 10; ++i) h.frame(ecg.next(2));
  size_t beatsBefore = h.with("\"ev\":\"beat\"").size();
  for (int i = 0; i < 500 * 10; ++i) h.frame(512);
  std::vector<std::string> flat = h.with("\"sig\":\"flat\"");
  CHECK_EQ(flat.size(), 1u);
  CHECK_EQ(real(flat.at(0), "bpm"), 0.0);
  CHECK_EQ(num(flat.at(0), "q"), 0);
  // Reported within a second of the signal stopping (at 10 s).
  CHECK(num(flat.at(0), "t") <= 11000);
  // At most the beat that was already under way when the line went flat.
  CHECK(h.with("\"ev\":\"beat\"").size() <= beatsBefore + 1);
  CHECK_EQ(h.mon.detector().bpmX10(), 0);
  for (int i = 0; i < 500 * 10; ++i) h.frame(ecg.next(2));
  CHECK(h.with("\"ev\":\"beat\"").size() >= beatsBefore + 1 + 8);
  CHECK(h.lines.back().size() > 0);
  CHECK_EQ(h.mon.detector().status(), BeatDetector::OK);
}

TEST(lead_off_is_reported_and_no_beat_comes_while_it_is_off) {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 8; ++i) h.frame(ecg.next(2));
  size_t beatsBefore = h.with("\"ev\":\"beat\"").size();
  // The electrode is off, but the front end still picks up something beat-like.
  for (int i = 0; i < 500 * 5; ++i) h.frame(ecg.next(2), true);
  CHECK_EQ(h.with("\"ev\":\"lead\"", "\"off\":true").size(), 1u);
  std::vector<std::string> lost = h.with("\"sig\":\"lost\"");
  CHECK(!lost.empty());
  CHECK_EQ(real(lost.back(), "bpm"), 0.0);
  CHECK_EQ(h.with("\"ev\":\"beat\"").size(), beatsBefore);
  for (int i = 0; i < 500 * 8; ++i) h.frame(ecg.next(2));
  CHECK_EQ(h.with("\"ev\":\"lead\"", "\"off\":false").size(), 1u);
  CHECK(h.with("\"ev\":\"beat\"").size() >= beatsBefore + 6);
}

TEST(a_railed_front_end_is_a_lost_signal) {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 8; ++i) h.frame(ecg.next(2));
  size_t beats = h.with("\"ev\":\"beat\"").size();
  for (int i = 0; i < 500 * 4; ++i) h.frame(1023);
  CHECK_EQ(h.mon.detector().status(), BeatDetector::LOST);
  CHECK(h.with("\"ev\":\"beat\"").size() <= beats + 1);
}

TEST(a_noise_burst_makes_few_false_beats_and_detection_recovers) {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 10; ++i) h.frame(ecg.next(2));
  size_t before = h.with("\"ev\":\"beat\"").size();
  // 2 s of large noise over the ECG (muscle artefact, a loose cable).
  for (int i = 0; i < 500 * 2; ++i) h.frame(ecg.next(250));
  size_t during = h.with("\"ev\":\"beat\"").size() - before;
  CHECK(during <= 5);  // never more than the refractory period allows, and not a flood
  for (int i = 0; i < 500 * 15; ++i) h.frame(ecg.next(2));
  int tp = 0, fp = 0;
  score(ecg.rPeaks, beatTimes(h), 12000 + 6000, &tp, &fp);
  CHECK_EQ(fp, 0);
  CHECK(tp >= 10);
}

TEST(small_noise_alone_makes_no_beats) {
  Harness h;
  h.begin(AppMode::ECG);
  Noise n;
  for (int i = 0; i < 500 * 20; ++i) h.frame(clamp10(512 + n.next(3)));
  CHECK_EQ(h.with("\"ev\":\"beat\"").size(), 0u);
  CHECK_EQ(h.mon.detector().bpmX10(), 0);
}

TEST(ppg_counts_pulses) {
  Harness h;
  h.begin(AppMode::PPG);
  Noise n;
  // A pulse wave at 75 bpm: a quick rise, a slow fall with a dicrotic bump.
  const double rr = 0.8;
  int count = 0;
  for (int i = 0; i < 500 * 30; ++i) {
    double t = std::fmod(i / 500.0, rr) / rr;
    double v = t < 0.15 ? t / 0.15 : std::exp(-(t - 0.15) * 4.0) + 0.15 * std::exp(-std::pow((t - 0.45) / 0.05, 2));
    h.frame(clamp10((int)(470 + 90 * v) + n.next(2)));
    if (i % 400 == 0) ++count;
  }
  size_t beats = h.with("\"ev\":\"beat\"").size();
  CHECK(beats + 4 >= (size_t)count && beats <= (size_t)count);
  CHECK(std::fabs(real(h.with("\"ev\":\"beat\"").back(), "bpm") - 75.0) < 1.5);
}

// The beat detector through the Monitor, on synthetic ECG and PPG whose beats are known: what it
// finds, what it must not take for a beat (T waves, baseline steps, noise), and the signal states
// in which it reports no beat and no rate.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "beat_detector.h"
#include "harness.h"
#include "mock_ecg.h"

using pw::AppMode;
using pw::BeatDetector;

namespace {

// Deterministic noise: uniform in [-amp, amp].
struct Noise {
  uint32_t s = 12345;
  int next(int amp) {
    s = s * 1664525u + 1013904223u;
    return amp == 0 ? 0 : (int)((s >> 8) % (uint32_t)(2 * amp + 1)) - amp;
  }
};

uint16_t clamp10(double v) { return (uint16_t)(v < 0 ? 0 : v > 1023 ? 1023 : std::lround(v)); }

// An ECG at 500 Hz: the mock beat shape stretched to a given RR (ms), with noise. Its R peak
// lies 185 ms into a beat of 833 ms.
struct Ecg {
  uint32_t ms2 = 0;  // time in ms, 2 ms a sample at 500 Hz
  uint32_t beatStart = 0;
  uint16_t rr = 833;
  Noise noise;
  std::vector<uint32_t> rPeaks;
  uint16_t next(int noiseAmp) {
    uint32_t now = ms2;
    ms2 += 2;
    if (now - beatStart >= rr) beatStart = now - (now - beatStart - rr);
    uint32_t phase = now - beatStart;
    uint32_t r = 185u * rr / pw::kMockBeatMs;
    if (phase / 2 == r / 2) rPeaks.push_back(beatStart + r);
    uint16_t scaled = phase < pw::kMockBeatMs ? pw::mockEcg((uint16_t)(phase * pw::kMockBeatMs / rr)) : 512;
    return clamp10(scaled + noise.next(noiseAmp));
  }
};

// A beat drawn from parts: a QRS (a triangle up then a small S), and a T wave (a raised cosine),
// so a test can set what the anchors' checks look at: the T wave's size and width, the QRS's.
struct Wave {
  double qrsAmp = 250, qrsMs = 80, tAmp = 60, tMs = 160, tAt = 300;
  double at(double ms) const {
    double v = 0;
    double half = qrsMs / 2;
    if (ms >= -half && ms < half) v += qrsAmp * (1 - std::fabs(ms) / half);
    double t = ms - tAt;
    if (t >= -tMs / 2 && t < tMs / 2) v += tAmp * 0.5 * (1 + std::cos(2 * M_PI * t / tMs));
    return v;
  }
};

// Beat times (ms) from the Monitor's lines.
std::vector<long long> beatTimes(const Harness& h) {
  std::vector<long long> t;
  for (const std::string& l : h.with("\"ev\":\"beat\"")) t.push_back(num(l, "t"));
  return t;
}

// How many detections lie within 60 ms of a reference (from fromMs on), and how many do not.
void score(const std::vector<uint32_t>& ref, const std::vector<long long>& det, uint32_t fromMs, int* tp, int* fp) {
  *tp = *fp = 0;
  for (long long d : det) {
    bool hit = false;
    for (uint32_t r : ref) hit = hit || std::llabs(d - (long long)r) <= 60;
    if (d < (long long)fromMs) continue;
    (hit ? *tp : *fp)++;
  }
}

// Feeds seconds of signal(ms) at 500 Hz, from the harness's current time.
void feed(Harness& h, double seconds, const std::function<double(double)>& signal, bool leadOff = false) {
  for (int i = 0; i < (int)(seconds * 500); ++i) {
    double ms = (double)h.mon.nowMs();
    h.frame(clamp10(signal(ms)), leadOff);
  }
}

struct Scored {
  int tp, fp;
};

// Feeds seconds of signal, then scores the beats found against ref (filled by the signal as it
// runs) from fromMs on.
Scored run(Harness& h, double seconds, const std::function<double(double)>& signal, const std::vector<uint32_t>& ref, uint32_t fromMs) {
  feed(h, seconds, signal);
  Scored s;
  score(ref, beatTimes(h), fromMs, &s.tp, &s.fp);
  return s;
}

// The beat wave at every rr ms (first beat at firstMs), plus extra(ms), around 512.
std::function<double(double)> rhythm(const Wave& w, double rr, std::vector<uint32_t>* beats, double firstMs = 400,
                                     std::function<double(double)> extra = nullptr) {
  return [=](double ms) {
    double since = std::fmod(ms - firstMs + 10 * rr, rr);
    if (since > rr / 2) since -= rr;
    double k = std::floor((ms - firstMs) / rr + 0.5);
    uint32_t beat = (uint32_t)(firstMs + k * rr);
    if (beats && std::fabs(since) < 1 && (beats->empty() || beats->back() != beat)) beats->push_back(beat);
    return 512 + w.at(since) + (extra ? extra(ms) : 0);
  };
}

// A monitor fed a rhythm of one wave, its beats scored against the rhythm's.
struct Rhythm {
  Harness h;
  std::vector<uint32_t> ref;
  Wave w;
  uint16_t rate;
  explicit Rhythm(uint16_t rateHz = 500) : rate(rateHz) { h.begin(AppMode::ECG, rateHz); }
  Scored run(double seconds, double rr, uint32_t fromMs, std::function<double(double)> extra = nullptr) {
    std::function<double(double)> signal = rhythm(w, rr, &ref, 400, extra);
    for (int i = 0; i < (int)(seconds * rate); ++i) h.frame(clamp10(signal((double)h.mon.nowMs())));
    Scored s;
    score(ref, beatTimes(h), fromMs, &s.tp, &s.fp);
    return s;
  }
};

const std::string kNoRate = "\"bpm\"";

}  // namespace

TEST_CASE("ecg beats at the R peaks with bpm from the intervals") {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  ecg.rr = 750;
  for (int i = 0; i < 500 * 30; ++i) h.frame(ecg.next(4));
  std::vector<long long> det = beatTimes(h);
  int tp = 0, fp = 0;
  score(ecg.rPeaks, det, 0, &tp, &fp);
  CHECK_EQ(fp, 0);
  CHECK(tp >= 37);  // 40 beats; the first two seconds are learning
  CHECK(tp <= 40);
  std::vector<std::string> beats = h.with("\"ev\":\"beat\"");
  CHECK(std::fabs(real(beats.back(), "bpm") - 80.0) < 1.0);
  CHECK(std::llabs(num(beats.back(), "ibi") - 750) <= 4);
  CHECK_EQ(h.with("\"sig\":\"ok\"").size(), 1u);
}

TEST_CASE("no rate until three intervals are known; no interval on the first beat") {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 10; ++i) h.frame(ecg.next(2));
  std::vector<std::string> beats = h.with("\"ev\":\"beat\"");
  REQUIRE(beats.size() >= 5u);
  CHECK(beats[0].find("\"ibi\"") == std::string::npos);
  CHECK(beats[0].find(kNoRate) == std::string::npos);
  CHECK(beats[1].find(kNoRate) == std::string::npos);
  CHECK(beats[2].find(kNoRate) == std::string::npos);
  CHECK(num(beats[1], "ibi") > 0);
  CHECK(std::fabs(real(beats[3], "bpm") - 72.0) < 1.0);
  // The status turned ok with the first beat, before a rate was known: no bpm in it either.
  std::vector<std::string> ok = h.with("\"sig\":\"ok\"");
  REQUIRE_EQ(ok.size(), 1u);
  CHECK(ok[0].find(kNoRate) == std::string::npos);
}

TEST_CASE("ecg follows a rate change and a missed amplitude with searchback") {
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

TEST_CASE("other sample rates find the same beats") {
  for (uint16_t rate : {250, 360, 1000}) {
    CAPTURE(rate);
    Scored s = Rhythm(rate).run(20, 800, 2500);
    CHECK_EQ(s.fp, 0);
    CHECK(s.tp >= 20);
  }
}

TEST_CASE("tall, slow T waves are not beats") {
  Rhythm r;
  r.w.tAmp = 200;  // 80 % of the QRS, but spread over 200 ms: its slope is a fraction of the QRS's
  r.w.tMs = 200;
  r.w.tAt = 280;
  Scored s = r.run(30, 900, 2500);
  CHECK_EQ(s.fp, 0);
  CHECK(s.tp >= 29);
}

TEST_CASE("steps of the baseline (electrode motion) are not beats") {
  // Every 1.3 s the baseline jumps by 150 counts (more than half the QRS) and settles back over 0.5 s.
  Scored s = Rhythm().run(40, 1000, 2500, [](double ms) {
    double since = std::fmod(ms, 1300);
    return since < 650 ? 150 * std::exp(-since / 250) : 0;
  });
  CHECK_EQ(s.fp, 0);
  CHECK(s.tp >= 36);
}

TEST_CASE("a premature beat is found; a small early bump is not") {
  Harness h;
  h.begin(AppMode::ECG);
  std::vector<uint32_t> ref;
  Wave normal, pvc, bump;
  pvc.qrsAmp = 350;  // ventricular: wider and taller
  pvc.qrsMs = 120;
  pvc.tAmp = -80;
  bump.qrsAmp = 110;  // a noise spike under half the beat, still above the plain threshold
  bump.qrsMs = 60;
  bump.tAmp = 0;
  // Every fourth beat is premature (at 60 % of the 800 ms interval, then a compensatory pause);
  // once the rhythm is known (from 10 s), 450 ms after the second of each four, a bump: too
  // late for a T wave, too early and too small for a beat.
  const double at[4] = {300, 1100, 1900, 2380};
  for (double cycle = 0; cycle < 40000; cycle += 3200)
    for (double a : at) ref.push_back((uint32_t)(cycle + a));
  auto sig = [&](double ms) {
    double cycle = std::fmod(ms, 3200.0);
    double v = 512 + (ms > 10000 ? bump.at(cycle - 1550) : 0);
    for (int k = 0; k < 4; ++k) v += (k == 3 ? pvc : normal).at(cycle - at[k]);
    return v;
  };
  Scored s = run(h, 40, sig, ref, 3000);
  CHECK_EQ(s.fp, 0);
  CHECK(s.tp + 2 >= (int)std::count_if(ref.begin(), ref.end(), [](uint32_t r) { return r >= 3000; }));
}

TEST_CASE("a pause of four seconds: no false beats in it, and every beat after it, the first one too") {
  Harness h;
  h.begin(AppMode::ECG);
  std::vector<uint32_t> ref;
  Wave w;
  Noise n;
  std::function<double(double)> beats = rhythm(w, 800, &ref);
  feed(h, 15, [&](double ms) { return beats(ms) + n.next(3); });
  feed(h, 4, [&](double) { return 512.0 + n.next(3); });
  // None after the last real one (at 14.8 s).
  for (long long t : beatTimes(h)) CHECK(t < 15000);
  ref.clear();
  std::function<double(double)> again = rhythm(w, 800, &ref, (double)h.mon.nowMs() + 400);
  Scored s = run(h, 10, [&](double ms) { return again(ms) + n.next(3); }, ref, h.mon.nowMs());
  CHECK_EQ(s.fp, 0);
  // The quiet pause read as a weak signal; the first beat after it ended that at once.
  CHECK_EQ(h.with("\"sig\":\"weak\"").size(), 1u);
  CHECK_EQ(s.tp, 12);
}

TEST_CASE("a flat line is reported with no rate and no beats, then the detector finds beats again") {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 10; ++i) h.frame(ecg.next(2));
  size_t beatsBefore = h.with("\"ev\":\"beat\"").size();
  for (int i = 0; i < 500 * 10; ++i) h.frame(512);
  std::vector<std::string> flat = h.with("\"sig\":\"flat\"");
  REQUIRE_EQ(flat.size(), 1u);
  CHECK(flat.at(0).find(kNoRate) == std::string::npos);
  CHECK_EQ(num(flat.at(0), "q"), 0);
  // Reported within 3.5 s of the signal stopping (at 10 s): a quiet diastole is not a flat line.
  CHECK(num(flat.at(0), "t") <= 13500);
  // At most the beat that was already under way when the line went flat.
  CHECK(h.with("\"ev\":\"beat\"").size() <= beatsBefore + 1);
  CHECK_EQ(h.mon.detector().bpmX10(), 0);
  for (int i = 0; i < 500 * 10; ++i) h.frame(ecg.next(2));
  CHECK(h.with("\"ev\":\"beat\"").size() >= beatsBefore + 1 + 8);
  CHECK_EQ(h.mon.detector().status(), BeatDetector::OK);
}

TEST_CASE("lead off is reported and no beat comes while it is off") {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 8; ++i) h.frame(ecg.next(2));
  size_t beatsBefore = h.with("\"ev\":\"beat\"").size();
  // The electrode is off, but the front end still picks up something beat-like.
  for (int i = 0; i < 500 * 5; ++i) h.frame(ecg.next(2), true);
  CHECK_EQ(h.with("\"ev\":\"lead\"", "\"off\":true").size(), 1u);
  std::vector<std::string> lost = h.with("\"sig\":\"lost\"");
  REQUIRE(!lost.empty());
  CHECK(lost.back().find(kNoRate) == std::string::npos);
  CHECK_EQ(h.with("\"ev\":\"beat\"").size(), beatsBefore);
  for (int i = 0; i < 500 * 8; ++i) h.frame(ecg.next(2));
  CHECK_EQ(h.with("\"ev\":\"lead\"", "\"off\":false").size(), 1u);
  CHECK(h.with("\"ev\":\"beat\"").size() >= beatsBefore + 6);
}

TEST_CASE("a signal at an ADC rail is clipped: no beats, no rate") {
  Harness h;
  h.begin(AppMode::ECG);
  Ecg ecg;
  for (int i = 0; i < 500 * 8; ++i) h.frame(ecg.next(2));
  size_t beats = h.with("\"ev\":\"beat\"").size();
  // A sensor with too much gain: the beats go on, but the top 70 % of each one is cut at the rail.
  for (int i = 0; i < 500 * 6; ++i) h.frame(i % 10 < 7 ? 1023 : ecg.next(2));
  CHECK_EQ(h.mon.detector().status(), BeatDetector::CLIPPED);
  std::vector<std::string> clipped = h.with("\"sig\":\"clipped\"");
  REQUIRE_EQ(clipped.size(), 1u);
  CHECK(clipped[0].find(kNoRate) == std::string::npos);
  CHECK(h.with("\"ev\":\"beat\"").size() <= beats + 1);
  // And at the bottom rail (an ECG front end with an electrode off).
  for (int i = 0; i < 500 * 2; ++i) h.frame(ecg.next(2));
  for (int i = 0; i < 500 * 2; ++i) h.frame(0);
  CHECK_EQ(h.mon.detector().status(), BeatDetector::CLIPPED);
}

TEST_CASE("a moment at the rail keeps the levels: beats resume right after") {
  Harness h;
  h.begin(AppMode::ECG);
  std::vector<uint32_t> ref;
  Wave w;
  std::function<double(double)> sig = rhythm(w, 800, &ref);
  feed(h, 10, sig);
  feed(h, 0.4, [](double) { return 1023.0; });
  uint32_t back = h.mon.nowMs();
  feed(h, 5, sig);
  // Found again within 1.5 s of the rail (the level window that saw the rail, then the first beat
  // after it), not after a learning period of 2 s.
  bool found = false;
  for (long long d : beatTimes(h)) found = found || (d > back && d < back + 1500);
  CHECK(found);
}

TEST_CASE("a signal too small to be a heart's is weak") {
  Harness h;
  h.begin(AppMode::ECG);
  std::vector<uint32_t> ref;
  Wave w;
  w.qrsAmp = 10;  // 0.1 mV through an AD8232
  w.tAmp = 2;
  feed(h, 10, rhythm(w, 800, &ref));
  CHECK_EQ(h.mon.detector().status(), BeatDetector::WEAK);
  std::vector<std::string> weak = h.with("\"sig\":\"weak\"");
  REQUIRE_EQ(weak.size(), 1u);
  CHECK(num(weak[0], "t") <= 3500);
  // Not a beat after it, nor a rate at all.
  for (long long t : beatTimes(h)) CHECK(t < num(weak[0], "t"));
  for (const std::string& l : h.lines) CHECK(l.find(kNoRate) == std::string::npos);
}

TEST_CASE("noise alone is reported noisy, with no rate") {
  Harness h;
  h.begin(AppMode::ECG);
  Noise n;
  // Muscle noise, broadband and large, and no heart.
  double lp = 0;
  feed(h, 30, [&](double) { return 512 + (lp += 0.5 * (n.next(200) - lp)); });
  CHECK_EQ(h.mon.detector().status(), BeatDetector::NOISY);
  std::vector<std::string> noisy = h.with("\"sig\":\"noisy\"");
  REQUIRE(!noisy.empty());
  CHECK(noisy[0].find(kNoRate) == std::string::npos);
  CHECK(num(noisy[0], "t") < 10000);
}

TEST_CASE("a noise burst makes few false beats and detection recovers") {
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

TEST_CASE("small noise alone makes no beats") {
  Harness h;
  h.begin(AppMode::ECG);
  Noise n;
  for (int i = 0; i < 500 * 20; ++i) h.frame(clamp10(512 + n.next(3)));
  CHECK(h.with("\"ev\":\"beat\"").empty());
  CHECK_EQ(h.mon.detector().bpmX10(), 0);
}

TEST_CASE("the tuning reaches the detector") {
  // With a refractory period longer than the interval only every other beat can be one.
  pw::DetectorTuning t = BeatDetector::defaults(BeatDetector::ECG);
  t.refractoryMs = 900;
  Harness h;
  h.mon.begin({AppMode::ECG, 500, 5, 1, "test", &t});
  h.drain();
  std::vector<uint32_t> ref;
  Wave w;
  feed(h, 20, rhythm(w, 600, &ref));
  size_t slow = beatTimes(h).size();
  CHECK(slow >= 10);
  CHECK(slow <= 18);
  CHECK(BeatDetector::defaults(BeatDetector::ECG).refractoryMs == 200);
}

TEST_CASE("ppg counts pulses and not their dicrotic waves") {
  Harness h;
  h.begin(AppMode::PPG);
  Noise n;
  // A pulse wave at 75 bpm: a quick rise, a slow fall with a dicrotic bump.
  const double rr = 0.8;
  int count = 0;
  for (int i = 0; i < 500 * 30; ++i) {
    double t = std::fmod(i / 500.0, rr) / rr;
    double v = t < 0.15 ? t / 0.15 : std::exp(-(t - 0.15) * 4.0) + 0.3 * std::exp(-std::pow((t - 0.45) / 0.05, 2));
    h.frame(clamp10((int)(470 + 90 * v) + n.next(2)));
    if (i % 400 == 0) ++count;
  }
  size_t beats = h.with("\"ev\":\"beat\"").size();
  CHECK(beats + 4 >= (size_t)count);
  CHECK(beats <= (size_t)count);
  CHECK(std::fabs(real(h.with("\"ev\":\"beat\"").back(), "bpm") - 75.0) < 1.5);
}

TEST_CASE("a ppg sensor saturated most of the time is clipped and gives no rate") {
  Harness h;
  h.begin(AppMode::PPG);
  Noise n;
  // Too much light: the output sits at the top rail, leaving it for 1.5 s in every 5.
  for (int i = 0; i < 500 * 40; ++i) {
    double t = std::fmod(i / 500.0, 0.8) / 0.8;
    double v = t < 0.15 ? t / 0.15 : std::exp(-(t - 0.15) * 4.0);
    bool railed = (i % 2500) >= 750;
    h.frame(railed ? 1023 : clamp10(470 + 90 * v + n.next(2)));
  }
  CHECK_EQ(h.mon.detector().status(), BeatDetector::CLIPPED);
  CHECK(!h.with("\"sig\":\"clipped\"").empty());
  for (const std::string& l : h.lines) CHECK(l.find(kNoRate) == std::string::npos);
}

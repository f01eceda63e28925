#include <doctest/doctest.h>
#include "harness.h"
#include "version.h"

using pw::AppMode;

TEST_CASE("hello comes first with rate channels spl and mode") {
  Harness h;
  h.begin(AppMode::ECG);
  CHECK_EQ(h.lines.at(0), "{\"hello\":1,\"fw\":\"" PW_FIRMWARE_VERSION "\",\"board\":\"test\",\"rate\":500,\"ch\":[\"ecg\"],\"spl\":5,\"mode\":\"ecg\"}");
}

TEST_CASE("a newline goes before every hello, so a line cut by a reset does not swallow it") {
  Harness h;
  h.begin(AppMode::ECG);
  CHECK_EQ(h.raw.substr(0, 10), "\n{\"hello\":");
  for (int i = 0; i < 10; ++i) h.frame(512);
  size_t before = h.raw.size();
  h.mon.hello();
  h.drain();
  CHECK_EQ(h.raw.substr(before, 10), "\n{\"hello\":");
}

TEST_CASE("sample lines pack spl samples with n and t") {
  Harness h;
  h.begin(AppMode::PPG);
  for (uint16_t i = 0; i < 10; ++i) h.frame((uint16_t)(500 + i));
  std::vector<std::string> s = h.with("\"ppg\":[");
  CHECK_EQ(s.size(), 2u);
  CHECK_EQ(s.at(0), "{\"n\":1,\"t\":0,\"ppg\":[500,501,502,503,504]}");
  CHECK_EQ(s.at(1), "{\"n\":2,\"t\":10,\"ppg\":[505,506,507,508,509]}");
  // n counts every line after the hello: the status line took 0.
  CHECK_EQ(num(h.lines.at(1), "n"), 0);
}

TEST_CASE("n and t wrap") {
  Harness h;
  h.begin(AppMode::ECG, 500, 5, 1, 65534, 4294967290UL);
  for (int i = 0; i < 30; ++i) h.frame(512);
  std::vector<std::string> s = h.with("\"ecg\":[");
  CHECK_EQ(s.size(), 6u);
  // The first line is the quality status (n 65534), then samples 65535, 0, 1, ...
  CHECK_EQ(num(s.at(0), "n"), 65535);
  CHECK_EQ(num(s.at(1), "n"), 0);
  CHECK_EQ(num(s.at(2), "n"), 1);
  CHECK_EQ(num(s.at(0), "t"), 4294967290LL);
  CHECK_EQ(num(s.at(1), "t"), 4);  // 4294967300 wraps to 4
  CHECK_EQ(num(s.at(2), "t"), 14);
}

TEST_CASE("device time is exact at a rate that does not divide 1000") {
  Harness h;
  h.begin(AppMode::ECG, 360, 1);
  for (int i = 0; i < 3601; ++i) h.frame(512);
  std::vector<std::string> s = h.with("\"ecg\":");
  CHECK_EQ(num(s.at(360), "t"), 1000);
  CHECK_EQ(num(s.at(3600), "t"), 10000);
  CHECK_EQ(num(s.at(1), "t"), 2);  // 2.78 ms, floored
}

TEST_CASE("a full outbox drops whole lines and reports the count") {
  Harness h(200);
  h.autoDrain = false;
  h.begin(AppMode::ECG);
  h.drain();
  // The link stalls for 100 ms: 20 lines of ~45 bytes meet a 200-byte outbox.
  for (int i = 0; i < 100; ++i) h.frame(512);
  uint32_t dropped = h.mon.unreportedDrops();
  CHECK(dropped > 10);
  h.drain();
  // The link is back: the next line the Monitor makes is preceded by the drop report.
  for (int i = 0; i < 5; ++i) h.frame(512);
  h.drain();
  std::vector<std::string> drops = h.with("\"ev\":\"drop\"");
  CHECK_EQ(drops.size(), 1u);
  CHECK_EQ(num(drops.at(0), "lines"), (long long)dropped);
  CHECK_EQ(h.mon.unreportedDrops(), 0u);
  // Every line is whole, and n has no gap: dropped lines never took a number.
  long long expect = 0;
  for (size_t i = 1; i < h.lines.size(); ++i) {
    const std::string& l = h.lines[i];
    CHECK(l.front() == '{');
    CHECK(l.back() == '}');
    CHECK_EQ(num(l, "n"), expect);
    ++expect;
  }
  CHECK(h.partial.empty());
}

TEST_CASE("a sampler overrun moves time on and says so") {
  Harness h;
  h.begin(AppMode::ECG);
  for (int i = 0; i < 3; ++i) h.frame(512);
  h.mon.onOverrun(7);
  h.drain();
  std::vector<std::string> logs = h.with("\"ev\":\"log\"", "sampler overrun: 7 samples lost");
  CHECK_EQ(logs.size(), 1u);
  // The 3 samples of the unfinished line went out first.
  std::vector<std::string> s = h.with("\"ecg\":[");
  CHECK_EQ(s.at(0), "{\"n\":1,\"t\":0,\"ecg\":[512,512,512]}");
  for (int i = 0; i < 5; ++i) h.frame(512);
  s = h.with("\"ecg\":[");
  CHECK_EQ(num(s.back(), "t"), (3 + 7) * 2);
}

TEST_CASE("samples per line are lowered to fit the buffers") {
  Harness h(8192, 4);
  h.begin(AppMode::ECG, 500, 9);
  CHECK(h.lines.at(0).find("\"spl\":4") != std::string::npos);
  CHECK_EQ(h.with("\"lvl\":\"warn\"", "samples per line lowered to 4").size(), 1u);
}

TEST_CASE("analog mode names channels by pin") {
  Harness h;
  h.begin(AppMode::ANALOG, 100, 2, 0x05);
  CHECK(h.lines.at(0).find("\"ch\":[\"a0\",\"a2\"],\"spl\":2,\"mode\":\"analog\"") != std::string::npos);
  uint16_t a[2] = {1, 2}, b[2] = {3, 4};
  h.mon.onFrame(a, false);
  h.mon.onFrame(b, false);
  h.drain();
  CHECK_EQ(h.lines.back(), "{\"n\":0,\"t\":0,\"a0\":[1,3],\"a2\":[2,4]}");
  Harness one;
  one.begin(AppMode::ANALOG, 100, 1, 0x20);
  one.frame(1023);
  CHECK_EQ(one.lines.back(), "{\"n\":0,\"t\":0,\"a5\":1023}");
}

TEST_CASE("mock mode beats at 72 bpm with nothing attached") {
  Harness h;
  h.begin(AppMode::MOCK);
  for (int i = 0; i < 500 * 20; ++i) h.frame(0);
  std::vector<std::string> beats = h.with("\"ev\":\"beat\"");
  CHECK(beats.size() >= 21u);
  CHECK(beats.size() <= 24u);
  const std::string& last = beats.back();
  CHECK(real(last, "bpm") > 71.0);
  CHECK(real(last, "bpm") < 73.0);
  CHECK(num(last, "ibi") >= 830);
  CHECK(num(last, "ibi") <= 836);
  CHECK(h.lines.at(0).find("\"mode\":\"mock\"") != std::string::npos);
}

TEST_CASE("hello again for a late reader leaves the numbering alone") {
  Harness h;
  h.begin(AppMode::ECG);
  for (int i = 0; i < 10; ++i) h.frame(512);
  h.mon.hello();
  for (int i = 0; i < 5; ++i) h.frame(512);
  h.drain();
  CHECK_EQ(h.with("\"hello\":1").size(), 2u);
  std::vector<std::string> s = h.with("\"ecg\":[");
  CHECK_EQ(num(s.back(), "n"), num(s.at(s.size() - 2), "n") + 1);
  CHECK_EQ(num(h.with("\"hello\":1").back(), "n"), -1);
}

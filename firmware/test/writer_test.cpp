#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "line_writer.h"
#include "outbox.h"
#include "plotwire_protocol.h"

using pw::LineWriter;
using pw::Outbox;

static std::string text(const LineWriter& w) { return std::string(w.data(), w.length()); }

TEST_CASE("writer builds an object with keys from the header") {
  char buf[64];
  LineWriter w(buf, sizeof buf);
  w.begin();
  w.key(PW_KEY_SEQ);
  w.u32(65535);
  w.key(PW_KEY_TIME);
  w.u32(4294967295UL);
  w.key(PW_KEY_BPM);
  w.tenths(725);
  w.key(PW_KEY_OFF);
  w.boolean(true);
  CHECK(w.end());
  CHECK_EQ(text(w), "{\"n\":65535,\"t\":4294967295,\"bpm\":72.5,\"off\":true}\n");
}

TEST_CASE("writer prints zero and arrays") {
  char buf[64];
  LineWriter w(buf, sizeof buf);
  w.begin();
  w.key("ecg");
  w.openArray();
  w.u32(0);
  w.arrayItem();
  w.u32(1023);
  w.closeArray();
  w.key(PW_KEY_BPM);
  w.tenths(0);
  CHECK(w.end());
  CHECK_EQ(text(w), "{\"ecg\":[0,1023],\"bpm\":0.0}\n");
}

TEST_CASE("writer escapes strings") {
  char buf[64];
  LineWriter w(buf, sizeof buf);
  w.begin();
  w.key(PW_KEY_MESSAGE);
  w.strRam("a\"b\\c\nd\x01");
  CHECK(w.end());
  CHECK_EQ(text(w), "{\"msg\":\"a\\\"b\\\\c\\u000ad\\u0001\"}\n");
}

TEST_CASE("writer marks a line that does not fit and never writes past its buffer") {
  char buf[16 + 4];
  std::memset(buf, 'X', sizeof buf);
  LineWriter w(buf, 16);
  w.begin();
  w.key(PW_KEY_MESSAGE);
  w.strRam("far too long for sixteen bytes");
  CHECK(!w.end());
  CHECK(w.overflowed());
  CHECK_EQ(w.length(), 16);
  CHECK_EQ(std::string(buf + 16, 4), "XXXX");
  // The next line starts clean.
  w.begin();
  w.key(PW_KEY_SEQ);
  w.u32(1);
  CHECK(w.end());
  CHECK_EQ(text(w), "{\"n\":1}\n");
}

TEST_CASE("outbox takes whole lines or nothing") {
  char store[10];
  Outbox o(store, sizeof store);
  CHECK(o.push("abcdef", 6));
  CHECK(!o.push("ghij5", 5));  // 4 bytes free
  CHECK_EQ(o.used(), 6);
  CHECK(o.push("ghij", 4));
  CHECK_EQ(o.space(), 0);
  CHECK(!o.push("k", 1));
}

TEST_CASE("outbox wraps around and keeps order") {
  char store[8];
  Outbox o(store, sizeof store);
  std::string got;
  const char* p = nullptr;
  for (int round = 0; round < 20; ++round) {
    CHECK(o.push("12345", 5));
    // The link takes 3 bytes, then the rest.
    uint16_t n = o.peek(&p);
    if (n > 3) n = 3;
    got.append(p, n);
    o.consume(n);
    while ((n = o.peek(&p)) != 0) {
      got.append(p, n);
      o.consume(n);
    }
  }
  std::string want;
  for (int round = 0; round < 20; ++round) want += "12345";
  CHECK_EQ(got, want);
  CHECK_EQ(o.used(), 0);
}

TEST_CASE("writer prints every magnitude") {
  const uint32_t values[] = {0, 9, 10, 99, 100, 65535, 65536, 99999, 100000, 4294901759UL, 4294967295UL, 1000000000UL, 10000, 70000};
  for (uint32_t v : values) {
    char buf[16];
    LineWriter w(buf, sizeof buf);
    w.begin();
    w.u32(v);
    CHECK_EQ(std::string(w.data() + 1, w.length() - 1), std::to_string(v));
  }
}

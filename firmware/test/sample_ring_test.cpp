#include <doctest/doctest.h>
#include "sample_ring.h"

TEST_CASE("ring keeps order across index wrap") {
  pw::SampleRing<2, 4> ring;
  pw::Frame<2> f, g;
  uint16_t next = 0, expect = 0;
  for (int round = 0; round < 300; ++round) {
    for (int i = 0; i < 3; ++i) {
      f.value[0] = next;
      f.value[1] = (uint16_t)(next * 2u);
      f.leadOff = (next & 1u) != 0;
      ++next;
      ring.push(f);
    }
    for (int i = 0; i < 3; ++i) {
      CHECK(ring.pop(g));
      CHECK_EQ(g.value[0], expect);
      CHECK_EQ(g.value[1], (uint16_t)(expect * 2u));
      CHECK_EQ(g.leadOff, (expect & 1u) != 0);
      ++expect;
    }
    CHECK(!ring.pop(g));
  }
  CHECK_EQ(ring.takeOverruns(), 0);
}

TEST_CASE("a full ring refuses frames and counts them") {
  pw::SampleRing<1, 4> ring;  // holds 3
  pw::Frame<1> f = {{7}, false};
  for (int i = 0; i < 10; ++i) ring.push(f);
  CHECK_EQ(ring.takeOverruns(), 7);
  CHECK_EQ(ring.takeOverruns(), 0);
  int popped = 0;
  while (ring.pop(f)) ++popped;
  CHECK_EQ(popped, 3);
}

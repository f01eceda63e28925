// The host tests of the firmware's portable core (doctest); npm test runs them built with
// AddressSanitizer and UBSan.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "check.h"

namespace check {

Case*& registry() {
  static Case* head = nullptr;
  return head;
}

int& failures() {
  static int n = 0;
  return n;
}

void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::printf("  FAIL %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace check

int main(int argc, char** argv) {
  int passed = 0, failed = 0;
  for (check::Case* c = check::registry(); c; c = c->next) {
    if (argc > 1 && std::strstr(c->name, argv[1]) == nullptr) continue;
    int before = check::failures();
    c->fn();
    bool ok = check::failures() == before;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", c->name);
    (ok ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

// A few dozen lines of test harness: TEST registers a function, CHECK records a failure with its
// place and keeps going, main runs everything and prints "N passed, N failed".
#ifndef PW_CHECK_H
#define PW_CHECK_H

#include <cstdio>
#include <cstring>
#include <string>

namespace check {

struct Case {
  const char* name;
  void (*fn)();
  Case* next;
};
Case*& registry();
int& failures();
void fail(const char* file, int line, const std::string& what);
struct Register {
  Register(Case* c) {
    c->next = registry();
    registry() = c;
  }
};

}  // namespace check

#define TEST(name)                                              \
  static void name();                                          \
  static check::Case name##_case = {#name, name, nullptr};     \
  static check::Register name##_register(&name##_case);        \
  static void name()

#define CHECK(cond) \
  do { if (!(cond)) check::fail(__FILE__, __LINE__, #cond); } while (0)

#define CHECK_EQ(a, b)                                                                          \
  do {                                                                                         \
    auto va_ = (a);                                                                            \
    auto vb_ = (b);                                                                            \
    if (!(va_ == vb_)) check::fail(__FILE__, __LINE__, std::string(#a " == " #b ": got ") +   \
                                   std::to_string((long long)va_) + " and " + std::to_string((long long)vb_)); \
  } while (0)

#define CHECK_STR(a, b)                                                                         \
  do {                                                                                         \
    std::string va_ = (a);                                                                     \
    std::string vb_ = (b);                                                                     \
    if (va_ != vb_) check::fail(__FILE__, __LINE__, std::string(#a ": got \"") + va_ + "\", want \"" + vb_ + "\""); \
  } while (0)

#endif

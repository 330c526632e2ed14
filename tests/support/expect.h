// Test support: expectations on ember errors and tensor values shared by the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "ember/ember.h"

namespace ember::testing {

/// True when s ends with "(path.cpp:123)" or "(path.h:123)".
inline bool ends_with_location(const std::string& s) {
  if (s.empty() || s.back() != ')') return false;
  size_t i = s.size() - 1;
  size_t digits = 0;
  while (i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1]))) --i, ++digits;
  if (digits == 0 || i == 0 || s[i - 1] != ':') return false;
  const std::string head = s.substr(0, i - 1);
  const bool ext = head.ends_with(".cpp") || head.ends_with(".h");
  return ext && head.find('(') != std::string::npos;
}

/// Runs f and expects an error of type E (an ember::Error) whose what() contains every fragment
/// and ends with the source location "(file.cpp:line)".
template <class E, class F>
void expect_error(F&& f, std::initializer_list<std::string> fragments) {
  static_assert(std::is_base_of_v<Error, E>);
  try {
    f();
    ADD_FAILURE() << "expected an error";
  } catch (const E& e) {
    const std::string what = e.what();
    for (const std::string& frag : fragments)
      EXPECT_NE(what.find(frag), std::string::npos) << "'" << frag << "' not in: " << what;
    EXPECT_TRUE(ends_with_location(what)) << "what() ends with the source location: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong error type: " << e.what();
  }
}

/// Expects t's elements (row-major) to equal want within tol.
inline void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  ASSERT_TRUE(t.defined());
  const std::vector<double> got = t.contiguous().to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

}  // namespace ember::testing

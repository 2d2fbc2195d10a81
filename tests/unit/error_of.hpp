#pragma once
// What a call throws, for tests of error messages.
#include <string>

#include <gtest/gtest.h>

#include "compe/error.hpp"

namespace compe::testing {

/// The message of the compe::Error that f() throws, checking its code; a test failure (and "")
/// when f() throws nothing.
template <typename F>
std::string error_of(F&& f, ErrorCode expected = ErrorCode::kInvalidArgument) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

/// The message of the compe::Error that f() throws, whatever its code; "" when none.
template <typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace compe::testing

// Errors: ember::Error and its subtypes, and the EMBER_CHECK family of macros that throw them.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ember {

/// Base of every error Ember throws on bad input. what() is "message (file:line)".
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line);
  /// The message without the source location.
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

class ShapeError : public Error { using Error::Error; };           ///< incompatible shapes
class DTypeError : public Error { using Error::Error; };           ///< unsupported or mixed dtypes
class DeviceError : public Error { using Error::Error; };          ///< wrong or mixed devices
class IndexError : public Error { using Error::Error; };           ///< index out of range
class IOError : public Error { using Error::Error; };              ///< files and formats
class ConfigError : public Error { using Error::Error; };          ///< bad configuration values
class NotImplementedError : public Error { using Error::Error; };  ///< missing kernel or feature
class ValueError : public Error { using Error::Error; };           ///< any other bad argument

namespace detail {
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace ember

/// Throws ErrorType with the streamed message when cond is false.
#define EMBER_CHECK_T(ErrorType, cond, ...)                                                  \
  do {                                                                                      \
    if (!(cond)) [[unlikely]]                                                               \
      throw ErrorType(::ember::detail::str_cat(__VA_ARGS__), __FILE__, __LINE__);           \
  } while (0)

#define EMBER_CHECK(cond, ...) EMBER_CHECK_T(::ember::ValueError, cond, __VA_ARGS__)
#define EMBER_CHECK_SHAPE(cond, ...) EMBER_CHECK_T(::ember::ShapeError, cond, __VA_ARGS__)
#define EMBER_CHECK_DTYPE(cond, ...) EMBER_CHECK_T(::ember::DTypeError, cond, __VA_ARGS__)
#define EMBER_CHECK_INDEX(cond, ...) EMBER_CHECK_T(::ember::IndexError, cond, __VA_ARGS__)
#define EMBER_CHECK_IO(cond, ...) EMBER_CHECK_T(::ember::IOError, cond, __VA_ARGS__)
#define EMBER_THROW(ErrorType, ...) \
  throw ErrorType(::ember::detail::str_cat(__VA_ARGS__), __FILE__, __LINE__)

/// Internal invariant: a failure is a bug in Ember, not in the caller's input.
#define EMBER_ASSERT(cond)                                                                \
  do {                                                                                    \
    if (!(cond)) [[unlikely]]                                                             \
      throw ::ember::Error("internal invariant failed: " #cond, __FILE__, __LINE__);      \
  } while (0)

// Element types: DType, the bfloat16 storage type, type promotion and dtype dispatch.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "ember/core/error.h"

namespace ember {

enum class DType : uint8_t { Float32, Float64, Int32, Int64, Bool, BFloat16 };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt32 = DType::Int32;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kBool = DType::Bool;
inline constexpr DType kBFloat16 = DType::BFloat16;

/// bfloat16: the upper 16 bits of an IEEE float32; conversions round to nearest even.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) {  // NOLINT(google-explicit-constructor): converts like a number
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      bits = static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
    } else {
      bits = static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
  }
  operator float() const {  // NOLINT(google-explicit-constructor)
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

/// Bytes per element.
constexpr size_t itemsize(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
    case DType::BFloat16: return 2;
  }
  return 0;
}

/// PyTorch's spelling: "float32", "int64", "bool", "bfloat16", ...
const char* dtype_name(DType t);
std::ostream& operator<<(std::ostream& os, DType t);

constexpr bool is_floating(DType t) {
  return t == DType::Float32 || t == DType::Float64 || t == DType::BFloat16;
}
constexpr bool is_integral(DType t) { return t == DType::Int32 || t == DType::Int64; }

/// The dtype both operands are computed in, as in torch.promote_types.
DType promote_types(DType a, DType b);

template <class T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = kFloat64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = kInt32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = kInt64; };
template <> struct DTypeOf<bool> { static constexpr DType value = kBool; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = kBFloat16; };
template <class T>
inline constexpr DType dtype_of = DTypeOf<T>::value;

}  // namespace ember

// Dispatch on a runtime dtype: runs the lambda body with `scalar_t` bound to the C++ type.
#define EMBER_DISPATCH_CASE(ENUM, TYPE, ...) \
  case ENUM: {                               \
    using scalar_t = TYPE;                   \
    return __VA_ARGS__();                    \
  }

#define EMBER_DISPATCH_FLOATING(DT, OPNAME, ...)                                              \
  [&] {                                                                                       \
    switch (DT) {                                                                             \
      EMBER_DISPATCH_CASE(::ember::DType::Float32, float, __VA_ARGS__)                        \
      EMBER_DISPATCH_CASE(::ember::DType::Float64, double, __VA_ARGS__)                       \
      default:                                                                                \
        EMBER_THROW(::ember::DTypeError, OPNAME, ": not implemented for dtype ", DT,          \
                    " (expected float32 or float64)");                                        \
    }                                                                                         \
  }()

#define EMBER_DISPATCH_NUMERIC(DT, OPNAME, ...)                                               \
  [&] {                                                                                       \
    switch (DT) {                                                                             \
      EMBER_DISPATCH_CASE(::ember::DType::Float32, float, __VA_ARGS__)                        \
      EMBER_DISPATCH_CASE(::ember::DType::Float64, double, __VA_ARGS__)                       \
      EMBER_DISPATCH_CASE(::ember::DType::Int32, int32_t, __VA_ARGS__)                        \
      EMBER_DISPATCH_CASE(::ember::DType::Int64, int64_t, __VA_ARGS__)                        \
      default:                                                                                \
        EMBER_THROW(::ember::DTypeError, OPNAME, ": not implemented for dtype ", DT);         \
    }                                                                                         \
  }()

#define EMBER_DISPATCH_ALL(DT, OPNAME, ...)                                                   \
  [&] {                                                                                       \
    switch (DT) {                                                                             \
      EMBER_DISPATCH_CASE(::ember::DType::Float32, float, __VA_ARGS__)                        \
      EMBER_DISPATCH_CASE(::ember::DType::Float64, double, __VA_ARGS__)                       \
      EMBER_DISPATCH_CASE(::ember::DType::Int32, int32_t, __VA_ARGS__)                        \
      EMBER_DISPATCH_CASE(::ember::DType::Int64, int64_t, __VA_ARGS__)                        \
      EMBER_DISPATCH_CASE(::ember::DType::Bool, bool, __VA_ARGS__)                            \
      EMBER_DISPATCH_CASE(::ember::DType::BFloat16, ::ember::BFloat16, __VA_ARGS__)           \
    }                                                                                         \
    EMBER_THROW(::ember::DTypeError, OPNAME, ": unknown dtype");                              \
  }()

// Sinusoidal and rotary position encodings.
#include "ember/nn/positional.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "ember/ops/creation.h"
#include "ember/ops/shape.h"

namespace ember::nn {

namespace {

// base^(-2i / dim) for the pair i, computed once per table.
double inv_freq(int64_t i, int64_t dim, double base) {
  return std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(dim));
}

}  // namespace

Tensor sinusoidal_position_encoding(int64_t T, int64_t C, DType dtype) {
  EMBER_CHECK(T >= 0 && C >= 0, "sinusoidal_position_encoding: T and C must be >= 0, got T=", T,
              ", C=", C);
  std::vector<double> pe(static_cast<size_t>(T * C));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) {
      const double angle = static_cast<double>(t) * inv_freq(c / 2, C, 10000.0);
      pe[static_cast<size_t>(t * C + c)] = c % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  return from_vector(pe, {T, C}).to(dtype);
}

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t d, int64_t max)
    : Module("SinusoidalPositionalEncoding"), d_model(d), max_len(max) {
  EMBER_CHECK(d > 0 && max > 0,
              "SinusoidalPositionalEncoding: d_model and max_len must be positive, got d_model=", d,
              ", max_len=", max);
  pe = register_buffer("pe", sinusoidal_position_encoding(max, d), /*persistent=*/false);
}

Tensor SinusoidalPositionalEncoding::forward(const Tensor& x, int64_t offset) {
  EMBER_CHECK_SHAPE((x.dim() == 2 || x.dim() == 3) && x.size(-1) == d_model,
                    "SinusoidalPositionalEncoding: expected x (B, T, ", d_model, ") or (T, ",
                    d_model, "), got ", x.shape_str());
  const int64_t T = x.size(-2);
  EMBER_CHECK_INDEX(offset >= 0 && offset + T <= max_len,
                    "SinusoidalPositionalEncoding: positions [", offset, ", ", offset + T,
                    ") exceed max_len ", max_len);
  Tensor table = pe.narrow(0, offset, T);
  return x + (table.dtype() == x.dtype() ? table : table.to(x.dtype()));
}

std::string SinusoidalPositionalEncoding::extra_repr() const {
  return "d_model=" + std::to_string(d_model) + ", max_len=" + std::to_string(max_len);
}

Tensor apply_rotary(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  EMBER_CHECK(x.defined() && cos.defined() && sin.defined(),
              "apply_rotary: x, cos and sin must be defined");
  EMBER_CHECK_SHAPE(x.dim() >= 2 && x.size(-1) % 2 == 0,
                    "apply_rotary: x must be (*, T, D) with an even D, got ", x.shape_str());
  EMBER_CHECK_SHAPE(cos.shape() == sin.shape() && cos.dim() >= 1 && cos.size(-1) == x.size(-1),
                    "apply_rotary: cos and sin must have the same shape (T, D) with D = ",
                    x.size(-1), ", got cos ", cos.shape_str(), ", sin ", sin.shape_str());
  const int64_t half = x.size(-1) / 2;
  Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  Tensor rotated = cat({-x2, x1}, -1);
  return x * cos + rotated * sin;
}

RotaryEmbedding::RotaryEmbedding(int64_t d, double b) : Module("RotaryEmbedding"), dim(d), base(b) {
  EMBER_CHECK(d > 0 && d % 2 == 0, "RotaryEmbedding: dim must be positive and even, got ", d);
  EMBER_CHECK(b > 0, "RotaryEmbedding: base must be positive, got ", b);
}

std::tuple<Tensor, Tensor> RotaryEmbedding::forward(int64_t T, int64_t offset, DType dtype) const {
  EMBER_CHECK(T >= 0 && offset >= 0, "RotaryEmbedding: T and offset must be >= 0, got T=", T,
              ", offset=", offset);
  const int64_t half = dim / 2;
  std::vector<double> c(static_cast<size_t>(T * dim)), s(c.size());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(offset + t) * inv_freq(i, dim, base);
      for (int64_t j : {i, i + half}) {
        c[static_cast<size_t>(t * dim + j)] = std::cos(angle);
        s[static_cast<size_t>(t * dim + j)] = std::sin(angle);
      }
    }
  return {from_vector(c, {T, dim}).to(dtype), from_vector(s, {T, dim}).to(dtype)};
}

Tensor RotaryEmbedding::rotate(const Tensor& x, int64_t offset) const {
  EMBER_CHECK_SHAPE(x.dim() >= 2 && x.size(-1) == dim, "RotaryEmbedding: expected x (*, T, ", dim,
                    "), got ", x.shape_str());
  auto [c, s] = forward(x.size(-2), offset, x.dtype());
  return apply_rotary(x, c, s);
}

std::string RotaryEmbedding::extra_repr() const {
  std::ostringstream os;
  os << "dim=" << dim << ", base=" << base;
  return os.str();
}

}  // namespace ember::nn

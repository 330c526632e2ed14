// nn::init: parameter initialisers with PyTorch's formulas for gains and fans.
#include "ember/nn/init.h"

#include <cmath>
#include <vector>

#include "ember/autograd/grad_mode.h"
#include "ember/core/generator.h"
#include "ember/ops/creation.h"
#include "ops/op_utils.h"  // ops::kernels: fill parameters in place

namespace ember::nn::init {

namespace {

thread_local bool skip_random_init = false;  // a NoInitGuard is alive on this thread

// The dtype random values are drawn in before being copied into t.
DType draw_dtype(const Tensor& t) {
  return t.dtype() == kFloat64 ? kFloat64 : kFloat32;
}

void check_tensor(const Tensor& t, const char* op) {
  EMBER_CHECK(t.defined(), op, ": tensor is undefined");
  EMBER_CHECK_DTYPE(t.is_floating_point(), op, ": expected a floating-point tensor, got ",
                    t.dtype());
}

Tensor assign(Tensor t, const Tensor& values) {
  NoGradGuard no_grad;
  t.copy_(values);
  return t;
}

// t = draw * scale + shift with draw from randn (normal) or rand, in place when t has the draw
// dtype and is contiguous: the same kernels in the same order as the out-of-place formula (so the
// same values), without temporaries the size of t (GPT-2-small's (50257, 768) embedding would
// otherwise cost three extra copies of itself at construction).
Tensor fill_random(Tensor t, bool normal, double scale, double shift, Generator* gen) {
  if (skip_random_init) return t;
  NoGradGuard no_grad;
  if (t.dtype() != draw_dtype(t) || !t.is_contiguous()) {
    const Options o{draw_dtype(t), t.device()};
    t.copy_((normal ? randn(t.shape(), o, gen) : rand(t.shape(), o, gen)) * scale + shift);
    return t;
  }
  Generator& g = gen ? *gen : default_generator();
  if (normal)
    ops::kernels(t).normal(t, 0, 1, g);
  else
    ops::kernels(t).uniform(t, 0, 1, g);
  t.storage()->bump_version();
  t.mul_(scale);
  t.add_(shift);
  return t;
}

double fan_for_mode(const Tensor& t, const std::string& mode, const char* op) {
  EMBER_CHECK(mode == "fan_in" || mode == "fan_out", op,
              ": mode must be 'fan_in' or 'fan_out', got '", mode, "'");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return static_cast<double>(mode == "fan_in" ? fan_in : fan_out);
}

}  // namespace

NoInitGuard::NoInitGuard() : previous_(skip_random_init) {
  skip_random_init = true;
}
NoInitGuard::~NoInitGuard() {
  skip_random_init = previous_;
}

double calculate_gain(const std::string& nonlinearity, std::optional<double> param) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" ||
      nonlinearity == "conv3d" || nonlinearity == "conv_transpose1d" ||
      nonlinearity == "conv_transpose2d" || nonlinearity == "conv_transpose3d" ||
      nonlinearity == "sigmoid")
    return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  EMBER_THROW(ValueError, "calculate_gain: unsupported nonlinearity '", nonlinearity,
              "' (expected linear, conv1d/2d/3d, conv_transpose1d/2d/3d, sigmoid, tanh, relu, "
              "leaky_relu or selu)");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  EMBER_CHECK_SHAPE(t.dim() >= 2,
                    "calculate_fan_in_and_fan_out: fan in and fan out cannot be computed for a "
                    "tensor with fewer than 2 dims, got shape ",
                    t.shape_str());
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor uniform_(Tensor t, double a, double b, Generator* gen) {
  check_tensor(t, "uniform_");
  EMBER_CHECK(a <= b, "uniform_: expected a <= b, got a = ", a, ", b = ", b);
  return fill_random(std::move(t), false, b - a, a, gen);
}

Tensor normal_(Tensor t, double mean, double std, Generator* gen) {
  check_tensor(t, "normal_");
  EMBER_CHECK(std >= 0, "normal_: std must be non-negative, got ", std);
  return fill_random(std::move(t), true, std, mean, gen);
}

Tensor trunc_normal_(Tensor t, double mean, double std, double a, double b, Generator* gen) {
  check_tensor(t, "trunc_normal_");
  EMBER_CHECK(std > 0 && a < b, "trunc_normal_: expected std > 0 and a < b, got std = ", std,
              ", a = ", a, ", b = ", b);
  if (skip_random_init) return t;
  Generator& g = gen ? *gen : default_generator();
  std::vector<double> values(static_cast<size_t>(t.numel()));
  for (double& v : values) {
    int tries = 0;
    do {
      v = mean + std * g.next_normal();
      EMBER_CHECK(++tries < 10000, "trunc_normal_: [a, b] = [", a, ", ", b,
                  "] holds too little of N(", mean, ", ", std, "^2) to sample from");
    } while (v < a || v > b);
  }
  return assign(t, from_vector(values, t.shape()));
}

Tensor constant_(Tensor t, double value) {
  EMBER_CHECK(t.defined(), "constant_: tensor is undefined");
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}

Tensor zeros_(Tensor t) {
  return constant_(std::move(t), 0.0);
}
Tensor ones_(Tensor t) {
  return constant_(std::move(t), 1.0);
}

Tensor eye_(Tensor t) {
  EMBER_CHECK(t.defined(), "eye_: tensor is undefined");
  EMBER_CHECK_SHAPE(t.dim() == 2, "eye_: only 2-d tensors are supported, got shape ",
                    t.shape_str());
  return assign(t, eye(t.size(0), t.size(1), {t.dtype(), t.device()}));
}

Tensor xavier_uniform_(Tensor t, double gain, Generator* gen) {
  check_tensor(t, "xavier_uniform_");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  const double a = std::sqrt(3.0) * std;
  return uniform_(t, -a, a, gen);
}

Tensor xavier_normal_(Tensor t, double gain, Generator* gen) {
  check_tensor(t, "xavier_normal_");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  return normal_(t, 0.0, std, gen);
}

Tensor kaiming_uniform_(Tensor t, double a, const std::string& mode,
                        const std::string& nonlinearity, Generator* gen) {
  check_tensor(t, "kaiming_uniform_");
  const double fan = fan_for_mode(t, mode, "kaiming_uniform_");
  if (t.numel() == 0) return t;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(fan);
  const double bound = std::sqrt(3.0) * std;
  return uniform_(t, -bound, bound, gen);
}

Tensor kaiming_normal_(Tensor t, double a, const std::string& mode, const std::string& nonlinearity,
                       Generator* gen) {
  check_tensor(t, "kaiming_normal_");
  const double fan = fan_for_mode(t, mode, "kaiming_normal_");
  if (t.numel() == 0) return t;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(fan);
  return normal_(t, 0.0, std, gen);
}

Tensor orthogonal_(Tensor t, double gain, Generator* gen) {
  check_tensor(t, "orthogonal_");
  EMBER_CHECK_SHAPE(t.dim() >= 2, "orthogonal_: only tensors with 2 or more dims are supported, ",
                    "got shape ", t.shape_str());
  if (t.numel() == 0 || skip_random_init) return t;
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  const std::vector<double> a = randn({rows, cols}, kFloat64, gen).to_vector<double>();
  // QR of the tall matrix (a, or a^T when wide): its n columns of length m are orthonormalised by
  // modified Gram-Schmidt, applied twice for stability. R's diagonal (the norms) is positive, which
  // is exactly the sign convention PyTorch enforces with q *= sign(diag(r)).
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, n = wide ? rows : cols;
  std::vector<std::vector<double>> q(static_cast<size_t>(n), std::vector<double>(m));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < m; ++i) q[j][i] = wide ? a[j * cols + i] : a[i * cols + j];
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double>& v = q[j];
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t k = 0; k < j; ++k) {
        double r = 0;
        for (int64_t i = 0; i < m; ++i) r += q[k][i] * v[i];
        for (int64_t i = 0; i < m; ++i) v[i] -= r * q[k][i];
      }
    double norm = 0;
    for (double x : v) norm += x * x;
    norm = std::sqrt(norm);
    EMBER_CHECK(norm > 0, "orthogonal_: random matrix is rank deficient; try again");
    for (double& x : v) x /= norm;
  }
  // Q is (m, n) with column j in q[j]; the result is Q when tall and Q^T when wide.
  std::vector<double> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = gain * (wide ? q[r][c] : q[c][r]);
  return assign(t, from_vector(out, t.shape()));
}

}  // namespace ember::nn::init

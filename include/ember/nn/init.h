// nn::init: in-place parameter initialisers (uniform, normal, Xavier/Glorot, Kaiming/He,
// orthogonal), as torch.nn.init.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "ember/core/generator.h"
#include "ember/core/tensor.h"

namespace ember::nn::init {

// Every initialiser fills t in place without recording autograd history and returns t. A null
// gen means the default generator (seeded by ember::manual_seed).

/// While one is alive on this thread, the random initialisers (uniform_, normal_, trunc_normal_,
/// xavier_*, kaiming_* and orthogonal_) check their arguments and leave t untouched, without
/// drawing from any generator. For building a model whose every parameter is loaded next, as
/// Hugging Face's no_init_weights: GPT-2-small's 124M random draws are most of its load time.
class NoInitGuard {
 public:
  NoInitGuard();
  ~NoInitGuard();
  NoInitGuard(const NoInitGuard&) = delete;
  NoInitGuard& operator=(const NoInitGuard&) = delete;

 private:
  bool previous_;
};

/// The recommended gain for a nonlinearity: "linear", "conv1d".."conv3d", "sigmoid" -> 1,
/// "tanh" -> 5/3, "relu" -> sqrt(2), "leaky_relu" -> sqrt(2 / (1 + slope^2)) (slope = param,
/// default 0.01), "selu" -> 3/4.
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);
/// (fan_in, fan_out) of a weight with >= 2 dims: (size(1), size(0)) times the receptive field
/// (the product of dims 2..).
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

/// U(a, b)
Tensor uniform_(Tensor t, double a = 0, double b = 1, Generator* gen = nullptr);
/// N(mean, std^2)
Tensor normal_(Tensor t, double mean = 0, double std = 1, Generator* gen = nullptr);
/// N(mean, std^2) restricted to [a, b] (resampled until inside).
Tensor trunc_normal_(Tensor t, double mean = 0, double std = 1, double a = -2, double b = 2,
                     Generator* gen = nullptr);
Tensor constant_(Tensor t, double value);
Tensor zeros_(Tensor t);
Tensor ones_(Tensor t);
/// Identity matrix for a 2-d tensor.
Tensor eye_(Tensor t);

/// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor t, double gain = 1, Generator* gen = nullptr);
/// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor t, double gain = 1, Generator* gen = nullptr);

/// U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a),
/// fan = fan_in or fan_out by mode ("fan_in" / "fan_out").
Tensor kaiming_uniform_(Tensor t, double a = 0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
/// N(0, std^2) with std = gain / sqrt(fan).
Tensor kaiming_normal_(Tensor t, double a = 0, const std::string& mode = "fan_in",
                       const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);

/// A (semi-)orthogonal matrix times gain: t viewed as (size(0), numel / size(0)) gets orthonormal
/// rows (or columns, whichever are fewer), from the QR factorisation of a normal matrix with the
/// sign of R's diagonal folded into Q (modified Gram-Schmidt in float64), as PyTorch.
Tensor orthogonal_(Tensor t, double gain = 1, Generator* gen = nullptr);

}  // namespace ember::nn::init

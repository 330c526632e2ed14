// Activation modules.
#include "ember/nn/activation.h"

#include <sstream>

#include "ember/ops/elementwise.h"
#include "ember/ops/nn_ops.h"

namespace ember::nn {

namespace {
std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

Tensor ReLU::forward(const Tensor& x) {
  return relu(x);
}

LeakyReLU::LeakyReLU(double slope) : Module("LeakyReLU"), negative_slope(slope) {}
Tensor LeakyReLU::forward(const Tensor& x) {
  return leaky_relu(x, negative_slope);
}
std::string LeakyReLU::extra_repr() const {
  return "negative_slope=" + fmt(negative_slope);
}

ELU::ELU(double a) : Module("ELU"), alpha(a) {}
Tensor ELU::forward(const Tensor& x) {
  return elu(x, alpha);
}
std::string ELU::extra_repr() const {
  return "alpha=" + fmt(alpha);
}

GELU::GELU(std::string approx) : Module("GELU"), approximate(std::move(approx)) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh",
              "GELU: approximate must be 'none' or 'tanh', got '", approximate, "'");
}
Tensor GELU::forward(const Tensor& x) {
  return gelu(x, approximate);
}
std::string GELU::extra_repr() const {
  return "approximate='" + approximate + "'";
}

Tensor SiLU::forward(const Tensor& x) {
  return silu(x);
}
Tensor Sigmoid::forward(const Tensor& x) {
  return sigmoid(x);
}
Tensor Tanh::forward(const Tensor& x) {
  return tanh(x);
}

Softplus::Softplus(double b, double t) : Module("Softplus"), beta(b), threshold(t) {}
Tensor Softplus::forward(const Tensor& x) {
  return softplus(x, beta, threshold);
}
std::string Softplus::extra_repr() const {
  return "beta=" + fmt(beta) + ", threshold=" + fmt(threshold);
}

Softmax::Softmax(int64_t d) : Module("Softmax"), dim(d) {}
Tensor Softmax::forward(const Tensor& x) {
  return softmax(x, dim);
}
std::string Softmax::extra_repr() const {
  return "dim=" + std::to_string(dim);
}

LogSoftmax::LogSoftmax(int64_t d) : Module("LogSoftmax"), dim(d) {}
Tensor LogSoftmax::forward(const Tensor& x) {
  return log_softmax(x, dim);
}
std::string LogSoftmax::extra_repr() const {
  return "dim=" + std::to_string(dim);
}

}  // namespace ember::nn

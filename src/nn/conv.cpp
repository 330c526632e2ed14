// Convolution layers: Conv2d and ConvTranspose2d.
#include "ember/nn/conv.h"

#include <cmath>
#include <sstream>

#include "ember/nn/init.h"
#include "ember/ops/conv.h"
#include "ember/ops/creation.h"

namespace ember::nn {

namespace {

std::string pair_str(const Size2& s) {
  std::ostringstream os;
  os << "(" << s.h << ", " << s.w << ")";
  return os.str();
}

void check_channels(const char* layer, int64_t in, int64_t out, const Size2& k, int64_t groups) {
  EMBER_CHECK(in > 0 && out > 0, layer, ": in_channels and out_channels must be positive, got ", in,
              " and ", out);
  EMBER_CHECK(groups > 0, layer, ": groups must be positive, got ", groups);
  EMBER_CHECK(in % groups == 0, layer, ": in_channels (", in, ") must be divisible by groups (",
              groups, ")");
  EMBER_CHECK(out % groups == 0, layer, ": out_channels (", out, ") must be divisible by groups (",
              groups, ")");
  EMBER_CHECK(k.h > 0 && k.w > 0, layer, ": kernel_size must be positive, got ", pair_str(k));
}

// PyTorch's default conv init: kaiming_uniform_(a = sqrt(5)), bias U(-1/sqrt(fan_in), ...).
void reset_conv(Tensor& weight, Tensor& bias, Generator* gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

}  // namespace

Size2::Size2(std::initializer_list<int64_t> v) {
  EMBER_CHECK(v.size() == 1 || v.size() == 2, "expected one or two sizes ({h, w}), got ", v.size());
  h = *v.begin();
  w = *(v.end() - 1);
}

// ---- Conv2d ----

Conv2d::Conv2d(int64_t in, int64_t out, Size2 k, Size2 s, Size2 p, Size2 d, int64_t g,
               bool with_bias)
    : Module("Conv2d"),
      in_channels(in),
      out_channels(out),
      kernel_size(k),
      stride(s),
      padding(p),
      dilation(d),
      groups(g) {
  check_channels("Conv2d", in, out, k, g);
  EMBER_CHECK(s.h > 0 && s.w > 0, "Conv2d: stride must be positive, got ", pair_str(s));
  EMBER_CHECK(p.h >= 0 && p.w >= 0, "Conv2d: padding must be non-negative, got ", pair_str(p));
  EMBER_CHECK(d.h > 0 && d.w > 0, "Conv2d: dilation must be positive, got ", pair_str(d));
  weight = register_parameter("weight", empty({out, in / g, k.h, k.w}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  reset_parameters();
}

void Conv2d::set_padding_mode(const std::string& mode) {
  EMBER_CHECK(mode == "valid" || mode == "same",
              "Conv2d: padding must be \"valid\", \"same\" or numbers, got \"", mode, "\"");
  EMBER_CHECK(mode == "valid" || (stride.h == 1 && stride.w == 1),
              "Conv2d: padding=\"same\" is not supported for strided convolutions, got stride ",
              pair_str(stride));
  padding_mode = mode;
}

void Conv2d::reset_parameters(Generator* gen) {
  reset_conv(weight, bias, gen);
}

Tensor Conv2d::forward(const Tensor& x) {
  if (!padding_mode.empty())
    return conv2d(x, weight, bias, stride.vec(), padding_mode, dilation.vec(), groups);
  return conv2d(x, weight, bias, stride.vec(), padding.vec(), dilation.vec(), groups);
}

std::string Conv2d::extra_repr() const {
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << pair_str(kernel_size)
     << ", stride=" << pair_str(stride);
  if (!padding_mode.empty())
    os << ", padding='" << padding_mode << "'";
  else if (padding.h != 0 || padding.w != 0)
    os << ", padding=" << pair_str(padding);
  if (dilation.h != 1 || dilation.w != 1) os << ", dilation=" << pair_str(dilation);
  if (groups != 1) os << ", groups=" << groups;
  if (!bias.defined()) os << ", bias=False";
  return os.str();
}

// ---- ConvTranspose2d ----

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, Size2 k, Size2 s, Size2 p, Size2 op,
                                 int64_t g, bool with_bias, Size2 d)
    : Module("ConvTranspose2d"),
      in_channels(in),
      out_channels(out),
      kernel_size(k),
      stride(s),
      padding(p),
      output_padding(op),
      groups(g),
      dilation(d) {
  check_channels("ConvTranspose2d", in, out, k, g);
  EMBER_CHECK(s.h > 0 && s.w > 0, "ConvTranspose2d: stride must be positive, got ", pair_str(s));
  EMBER_CHECK(p.h >= 0 && p.w >= 0, "ConvTranspose2d: padding must be non-negative, got ",
              pair_str(p));
  EMBER_CHECK(d.h > 0 && d.w > 0, "ConvTranspose2d: dilation must be positive, got ", pair_str(d));
  EMBER_CHECK(op.h >= 0 && op.w >= 0 && (op.h < s.h || op.h < d.h) && (op.w < s.w || op.w < d.w),
              "ConvTranspose2d: output_padding ", pair_str(op),
              " must be smaller than either stride ", pair_str(s), " or dilation ", pair_str(d));
  weight = register_parameter("weight", empty({in, out / g, k.h, k.w}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  reset_parameters();
}

void ConvTranspose2d::reset_parameters(Generator* gen) {
  reset_conv(weight, bias, gen);
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  return conv_transpose2d(x, weight, bias, stride.vec(), padding.vec(), output_padding.vec(),
                          groups, dilation.vec());
}

std::string ConvTranspose2d::extra_repr() const {
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << pair_str(kernel_size)
     << ", stride=" << pair_str(stride);
  if (padding.h != 0 || padding.w != 0) os << ", padding=" << pair_str(padding);
  if (dilation.h != 1 || dilation.w != 1) os << ", dilation=" << pair_str(dilation);
  if (output_padding.h != 0 || output_padding.w != 0)
    os << ", output_padding=" << pair_str(output_padding);
  if (groups != 1) os << ", groups=" << groups;
  if (!bias.defined()) os << ", bias=False";
  return os.str();
}

}  // namespace ember::nn

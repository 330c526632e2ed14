// Pooling modules: thin wrappers of the functional pools with torch's repr.
#include "ember/nn/pooling.h"

#include <sstream>

#include "ember/ops/vision.h"

namespace ember::nn {

namespace {

// torch prints an int as "2" and a tuple as "(2, 3)".
std::string int_or_tuple(IntList v) {
  if (v.size() == 1) return std::to_string(v[0]);
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ")";
  return os.str();
}

}  // namespace

MaxPool2d::MaxPool2d(Shape k, Shape s, Shape p, Shape d, bool ceil)
    : Module("MaxPool2d"),
      kernel_size(std::move(k)),
      stride(s.empty() ? kernel_size : std::move(s)),
      padding(std::move(p)),
      dilation(std::move(d)),
      ceil_mode(ceil) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  return max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode);
}

std::string MaxPool2d::extra_repr() const {
  std::ostringstream os;
  os << "kernel_size=" << int_or_tuple(kernel_size) << ", stride=" << int_or_tuple(stride)
     << ", padding=" << int_or_tuple(padding) << ", dilation=" << int_or_tuple(dilation)
     << ", ceil_mode=" << (ceil_mode ? "True" : "False");
  return os.str();
}

AvgPool2d::AvgPool2d(Shape k, Shape s, Shape p, bool ceil, bool include_pad,
                     std::optional<int64_t> divisor)
    : Module("AvgPool2d"),
      kernel_size(std::move(k)),
      stride(s.empty() ? kernel_size : std::move(s)),
      padding(std::move(p)),
      ceil_mode(ceil),
      count_include_pad(include_pad),
      divisor_override(divisor) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  return avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override);
}

std::string AvgPool2d::extra_repr() const {
  return "kernel_size=" + int_or_tuple(kernel_size) + ", stride=" + int_or_tuple(stride) +
         ", padding=" + int_or_tuple(padding);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Shape size)
    : Module("AdaptiveAvgPool2d"), output_size(std::move(size)) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  return adaptive_avg_pool2d(x, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
  return "output_size=" + int_or_tuple(output_size);
}

}  // namespace ember::nn

// Backend registry and the default "missing kernel" implementations.
#include "backend/backend.h"

#include <array>

namespace ember::backend {

// Note [Missing kernels]: a backend that lacks a kernel inherits this default, which raises an
// error naming the op and the device. Nothing silently falls back to another device.
void Backend::missing(const char* op) const {
  EMBER_THROW(NotImplementedError, "kernel '", op, "' is not implemented for device backend '",
              name(), "'");
}

void Backend::copy(const Tensor&, const Tensor&) {
  missing("copy");
}
void Backend::fill(const Tensor&, double) {
  missing("fill");
}
void Backend::unary(math::UnaryOp, const Tensor&, const Tensor&, double, double) {
  missing("unary");
}
void Backend::binary(math::BinaryOp, const Tensor&, const Tensor&, const Tensor&, double) {
  missing("binary");
}
void Backend::where(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  missing("where");
}
void Backend::reduce(ReduceOp, const Tensor&, int64_t, int64_t, int64_t, const Tensor&) {
  missing("reduce");
}
void Backend::cumsum(const Tensor&, int64_t, int64_t, int64_t, const Tensor&) {
  missing("cumsum");
}
void Backend::gemm(const Tensor&, const Tensor&, const Tensor&, double, double) {
  missing("gemm");
}
void Backend::linear(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  missing("linear");
}
void Backend::softmax(const Tensor&, const Tensor&, bool) {
  missing("softmax");
}
void Backend::softmax_backward(const Tensor&, const Tensor&, const Tensor&, bool) {
  missing("softmax_backward");
}
void Backend::gather(const Tensor&, const Tensor&, int64_t, int64_t, int64_t, const Tensor&) {
  missing("gather");
}
void Backend::scatter_add(const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t) {
  missing("scatter_add");
}
void Backend::index_select(const Tensor&, const Tensor&, int64_t, int64_t, int64_t, const Tensor&) {
  missing("index_select");
}
void Backend::index_add(const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t) {
  missing("index_add");
}
Tensor Backend::nonzero_flat(const Tensor&) {
  missing("nonzero");
}
void Backend::sort_rows(const Tensor&, bool, const Tensor&, const Tensor&) {
  missing("sort");
}
void Backend::uniform(const Tensor&, double, double, Generator&) {
  missing("uniform");
}
void Backend::normal(const Tensor&, double, double, Generator&) {
  missing("normal");
}
void Backend::arange(const Tensor&, double, double) {
  missing("arange");
}
void Backend::dropout(const Tensor&, double, Generator&, const Tensor&, const Tensor&) {
  missing("dropout");
}
void Backend::adam_step(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                        double, double, double, double, double, bool, int64_t, bool, bool) {
  missing("adam_step");
}
void Backend::sgd_step(const Tensor&, const Tensor&, const Tensor&, double, double, double, double,
                       bool, bool, bool) {
  missing("sgd_step");
}
void Backend::rmsprop_step(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                           const Tensor&, double, double, double, double, double, bool, bool) {
  missing("rmsprop_step");
}
void Backend::adagrad_step(const Tensor&, const Tensor&, const Tensor&, double, double, double,
                           bool) {
  missing("adagrad_step");
}
// convolution (cpu_conv.cpp)
void Backend::conv2d_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                             const ConvParams&) {
  missing("conv2d_forward");
}
void Backend::conv2d_backward_input(const Tensor&, const Tensor&, const Tensor&,
                                    const ConvParams&) {
  missing("conv2d_backward_input");
}
void Backend::conv2d_backward_weight(const Tensor&, const Tensor&, const Tensor&,
                                     const ConvParams&) {
  missing("conv2d_backward_weight");
}

// attention and the Transformer's norms (cpu_attention.cpp)
void Backend::attention_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                const AttentionParams&, const Tensor&, const Tensor&) {
  missing("attention_forward");
}
void Backend::attention_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                 const Tensor&, const Tensor&, const Tensor&,
                                 const AttentionParams&, const Tensor&, const Tensor&,
                                 const Tensor&) {
  missing("attention_backward");
}
void Backend::layer_norm_forward(const Tensor&, const Tensor&, const Tensor&, double, const Tensor&,
                                 const Tensor&, const Tensor&) {
  missing("layer_norm_forward");
}
void Backend::layer_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                  const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  missing("layer_norm_backward");
}
void Backend::rms_norm_forward(const Tensor&, const Tensor&, double, const Tensor&, const Tensor&) {
  missing("rms_norm_forward");
}
void Backend::rms_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                const Tensor&, const Tensor&) {
  missing("rms_norm_backward");
}

namespace {
std::array<Backend*, 2>& registry() {
  static std::array<Backend*, 2> r{};
  return r;
}
}  // namespace

void register_backend(DeviceType type, Backend* b) {
  registry()[static_cast<size_t>(type)] = b;
}

Backend& backend_for(Device device) {
  Backend* b = registry()[static_cast<size_t>(device.type)];
  EMBER_CHECK_T(DeviceError, b != nullptr, "no backend for device ", device,
                " (this build has the CPU backend only; rebuild with -DEMBER_CUDA=ON)");
  return *b;
}

}  // namespace ember::backend

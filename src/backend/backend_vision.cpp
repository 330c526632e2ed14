// Default "missing kernel" implementations of the pooling, normalization and resampling kernels.
#include "backend/backend.h"

namespace ember::backend {

void Backend::max_pool2d(const Tensor&, const Window2d&, const Tensor&, const Tensor&) {
  missing("max_pool2d");
}
void Backend::max_pool2d_backward(const Tensor&, const Tensor&, const Tensor&) {
  missing("max_pool2d_backward");
}
void Backend::avg_pool2d(const Tensor&, const Window2d&, bool, int64_t, const Tensor&) {
  missing("avg_pool2d");
}
void Backend::avg_pool2d_backward(const Tensor&, const Window2d&, bool, int64_t, const Tensor&) {
  missing("avg_pool2d_backward");
}
void Backend::adaptive_avg_pool2d(const Tensor&, const Tensor&) {
  missing("adaptive_avg_pool2d");
}
void Backend::adaptive_avg_pool2d_backward(const Tensor&, const Tensor&) {
  missing("adaptive_avg_pool2d_backward");
}
void Backend::batch_norm_stats(const Tensor&, const Tensor&, const Tensor&) {
  missing("batch_norm_stats");
}
void Backend::batch_norm_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                 const Tensor&, double, const Tensor&) {
  missing("batch_norm_forward");
}
void Backend::batch_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                  const Tensor&, double, bool, const Tensor&, const Tensor&,
                                  const Tensor&) {
  missing("batch_norm_backward");
}

}  // namespace ember::backend

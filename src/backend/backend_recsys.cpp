// Default "missing kernel" implementations of the recommendation kernels (embedding bags, FM).
#include "backend/backend.h"

namespace ember::backend {

void Backend::embedding_bag_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                    BagMode, int64_t, const Tensor&, const Tensor&) {
  missing("embedding_bag_forward");
}
void Backend::embedding_bag_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                     BagMode, int64_t, const Tensor&, const Tensor&) {
  missing("embedding_bag_backward");
}
void Backend::embedding_bag_psw_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                         int64_t, const Tensor&) {
  missing("embedding_bag_psw_backward");
}
void Backend::fm_interaction_forward(const Tensor&, const Tensor&) {
  missing("fm_interaction_forward");
}
void Backend::fm_interaction_backward(const Tensor&, const Tensor&, const Tensor&) {
  missing("fm_interaction_backward");
}
void Backend::zero_rows(const Tensor&, const Tensor&) {
  missing("zero_rows");
}
void Backend::sparse_adam_step(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                               const Tensor&, double, double, double, double, int64_t, bool) {
  missing("sparse_adam_step");
}
void Backend::adagrad_rows_step(const Tensor&, const Tensor&, const Tensor&, const Tensor&, double,
                                double, bool) {
  missing("adagrad_rows_step");
}

}  // namespace ember::backend

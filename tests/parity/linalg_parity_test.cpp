// matmul against torch.matmul on broadcast and transposed operands, forward and gradients.
#include "support/torch_bridge.h"

using namespace ember;
using ember::testing::expect_close;
using ember::testing::to_torch;

TEST(LinalgParity, MatmulBroadcastTransposed) {
  manual_seed(3);
  Tensor a = randn({2, 1, 4, 5}).requires_grad_();
  Tensor b0 = randn({3, 6, 5});
  Tensor b = b0.transpose(1, 2).detach().requires_grad_();  // (3, 5, 6), non-contiguous
  torch::Tensor ta = to_torch(a).requires_grad_(), tb = to_torch(b).requires_grad_();
  Tensor y = matmul(a, b);
  torch::Tensor ty = torch::matmul(ta, tb);
  expect_close(y, ty, 1e-5, "matmul forward");
  Tensor g = randn(y.shape());
  y.backward(g);
  ty.backward(to_torch(g));
  expect_close(a.grad(), ta.grad(), 1e-5, "grad a");
  expect_close(b.grad(), tb.grad(), 1e-5, "grad b");
}

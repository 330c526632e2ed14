// Uses the installed library: a gradient through matmul, checked by hand.
#include <ember/ember.h>

#include <cstdio>

int main() {
  ember::Tensor w = ember::ones({2, 2}).requires_grad_();
  ember::matmul(ember::tensor({{1, 2}, {3, 4}}), w).sum().backward();
  // d/dw sum(x w) = x^T 1 = column sums of x, repeated: [[4, 4], [6, 6]]
  const bool ok = w.grad().at<float>({0, 0}) == 4 && w.grad().at<float>({1, 1}) == 6;
  std::printf("%s\n", ok ? "installed ember works" : "wrong gradient");
  return ok ? 0 : 1;
}

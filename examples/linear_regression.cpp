// The founding document's worked example: fit y = 3·x1 + 2·x2 + noise by plain gradient descent.
#include <ember/ember.h>

#include <cmath>
#include <cstdio>

using namespace ember;

int main() {
  manual_seed(42);

  // 100 samples: X uniform in [0, 1)², y = 3·x1 + 2·x2 + uniform [0, 1) noise.
  Tensor X = rand({100, 2});
  Tensor x1 = X.select(1, 0), x2 = X.select(1, 1);
  Tensor y = 3 * x1 + 2 * x2 + rand({100});

  // The parameters w1, w2, b, and plain gradient descent on the mean squared error.
  Tensor w1 = zeros({}).requires_grad_();
  Tensor w2 = zeros({}).requires_grad_();
  Tensor b = zeros({}).requires_grad_();
  const double learning_rate = 0.5;
  const int epochs = 500;

  for (int epoch = 1; epoch <= epochs; ++epoch) {
    Tensor prediction = w1 * x1 + w2 * x2 + b;
    Tensor loss = (prediction - y).pow(2).mean();

    for (Tensor* p : {&w1, &w2, &b}) p->set_grad(Tensor());
    loss.backward();
    {
      NoGradGuard no_grad;
      for (Tensor* p : {&w1, &w2, &b}) p->sub_(p->grad() * learning_rate);
    }
    if (epoch % 10 == 0) std::printf("epoch %3d  loss %.6f\n", epoch, loss.item());
  }

  // The closed-form least-squares solution of [x1 x2 1] · (w1, w2, b) = y.
  Tensor design = cat({X, ones({100, 1})}, 1);
  Tensor exact = linalg::lstsq(design.to(kFloat64), y.to(kFloat64));

  std::printf("\nlearned:       w1 = %.4f  w2 = %.4f  b = %.4f\n", w1.item(), w2.item(), b.item());
  std::printf("least squares: w1 = %.4f  w2 = %.4f  b = %.4f\n", exact[0].item(), exact[1].item(),
              exact[2].item());

  const double gap = std::max({std::fabs(w1.item() - exact[0].item()),
                               std::fabs(w2.item() - exact[1].item()),
                               std::fabs(b.item() - exact[2].item())});
  std::printf("largest difference: %.2e (%s)\n", gap, gap <= 1e-3 ? "converged" : "NOT converged");
  return gap <= 1e-3 ? 0 : 1;
}

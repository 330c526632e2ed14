// gradcheck: analytic gradients against float64 central differences.
#include <cmath>
#include <sstream>

#include "ember/autograd/functional.h"
#include "ember/autograd/grad_mode.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"

namespace ember::autograd {

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, double eps, double atol,
                          double rtol) {
  for (size_t i = 0; i < inputs.size(); ++i)
    EMBER_CHECK_DTYPE(inputs[i].dtype() == kFloat64, "gradcheck: input ", i,
                      " must be float64, got ", inputs[i].dtype());
  // A fixed random projection turns any output into a scalar: L = sum(f(x) * r).
  Tensor out0 = f(inputs);
  Generator gen(1234);
  const Tensor r = randn(out0.shape(), kFloat64, &gen);
  auto loss = [&](const std::vector<Tensor>& in) { return sum(f(in) * r); };

  std::vector<Tensor> wrt;
  std::vector<size_t> which;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) {
      wrt.push_back(inputs[i]);
      which.push_back(i);
    }
  GradcheckResult res;
  if (wrt.empty()) return res;
  std::vector<Tensor> analytic = grad({loss(inputs)}, wrt, {}, false, false, true);

  NoGradGuard no_grad;
  for (size_t k = 0; k < wrt.size(); ++k) {
    const Tensor& x = wrt[k];
    EMBER_CHECK(x.is_contiguous(), "gradcheck: inputs must be contiguous");
    double* p = x.data_ptr<double>();
    std::vector<double> a = analytic[k].defined() ? analytic[k].contiguous().to_vector<double>()
                                                  : std::vector<double>(x.numel(), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = p[i];
      p[i] = orig + eps;
      const double lp = loss(inputs).item();
      p[i] = orig - eps;
      const double lm = loss(inputs).item();
      p[i] = orig;
      const double numeric = (lp - lm) / (2 * eps);
      const double abs_err = std::fabs(numeric - a[i]);
      const double rel_err = abs_err / std::max(1e-12, std::fabs(numeric));
      if (abs_err > atol + rtol * std::fabs(numeric)) {
        if (res.ok || abs_err > res.max_abs_error) {
          std::ostringstream os;
          os << "input " << which[k] << " element " << i << ": analytic " << a[i] << ", numeric "
             << numeric;
          res.detail = os.str();
        }
        res.ok = false;
      }
      res.max_abs_error = std::max(res.max_abs_error, abs_err);
      if (abs_err > atol) res.max_rel_error = std::max(res.max_rel_error, rel_err);
    }
  }
  return res;
}

}  // namespace ember::autograd

// The CPU backend: OpenMP loops and OpenBLAS GEMM. Methods are defined by kernel family in
// cpu_elementwise.cpp, cpu_reduce.cpp, cpu_linalg.cpp, cpu_index.cpp, cpu_random.cpp,
// cpu_optim.cpp.
#pragma once

#include "backend/backend.h"

namespace ember::cpu {

class CpuBackend final : public backend::Backend {
 public:
  std::string name() const override { return "cpu"; }
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& dst, double value) override;
  void unary(math::UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) override;
  void binary(math::BinaryOp op, const Tensor& x, const Tensor& y, const Tensor& out,
              double alpha) override;
  void where(const Tensor& cond, const Tensor& x, const Tensor& y, const Tensor& out) override;
  void reduce(backend::ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t B,
              const Tensor& out) override;
  void cumsum(const Tensor& x, int64_t A, int64_t R, int64_t B, const Tensor& out) override;
  void gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha,
            double beta) override;
  void linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out) override;
  void softmax(const Tensor& x, const Tensor& out, bool log) override;
  void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log) override;
  void gather(const Tensor& x, const Tensor& index, int64_t A, int64_t N, int64_t B,
              const Tensor& out) override;
  void scatter_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A, int64_t N,
                   int64_t B) override;
  void index_select(const Tensor& x, const Tensor& index, int64_t A, int64_t N, int64_t B,
                    const Tensor& out) override;
  void index_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A, int64_t N,
                 int64_t B) override;
  Tensor nonzero_flat(const Tensor& mask) override;
  void sort_rows(const Tensor& x, bool descending, const Tensor& values,
                 const Tensor& indices) override;
  void uniform(const Tensor& out, double low, double high, Generator& gen) override;
  void normal(const Tensor& out, double mean, double std, Generator& gen) override;
  void arange(const Tensor& out, double start, double step) override;
  void dropout(const Tensor& x, double p, Generator& gen, const Tensor& out,
               const Tensor& mask) override;
  void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                 const Tensor& vmax, double lr, double beta1, double beta2, double eps,
                 double weight_decay, bool decoupled, int64_t step, bool amsgrad,
                 bool maximize) override;
  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr,
                double momentum, double dampening, double weight_decay, bool nesterov,
                bool maximize, bool init_buf) override;
  void rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                    const Tensor& grad_avg, const Tensor& momentum_buf, double lr, double alpha,
                    double eps, double weight_decay, double momentum, bool centered,
                    bool maximize) override;
  void adagrad_step(const Tensor& param, const Tensor& grad, const Tensor& sum, double clr,
                    double weight_decay, double eps, bool maximize) override;

  // ---- convolution (cpu_conv.cpp) ----
  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                      const ConvParams& p) override;
  void conv2d_backward_input(const Tensor& gy, const Tensor& w, const Tensor& gx,
                             const ConvParams& p) override;
  void conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw,
                              const ConvParams& p) override;

  // ---- pooling, normalization, resampling (cpu_pool.cpp, cpu_norm.cpp, cpu_resample.cpp) ----
  void max_pool2d(const Tensor& x, const Window2d& w, const Tensor& out,
                  const Tensor& indices) override;
  void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                           const Tensor& grad_in) override;
  void avg_pool2d(const Tensor& x, const Window2d& w, bool count_include_pad, int64_t divisor,
                  const Tensor& out) override;
  void avg_pool2d_backward(const Tensor& grad_out, const Window2d& w, bool count_include_pad,
                           int64_t divisor, const Tensor& grad_in) override;
  void adaptive_avg_pool2d(const Tensor& x, const Tensor& out) override;
  void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in) override;
  void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) override;
  void batch_norm_forward(const Tensor& x, const Tensor& mean, const Tensor& var,
                          const Tensor& weight, const Tensor& bias, double eps,
                          const Tensor& out) override;
  void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& mean,
                           const Tensor& var, const Tensor& weight, double eps, bool training,
                           const Tensor& grad_x, const Tensor& grad_weight,
                           const Tensor& grad_bias) override;

  // ---- attention and the Transformer's norms (cpu_attention.cpp) ----
  void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                         const AttentionParams& p, const Tensor& out, const Tensor& lse) override;
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                          const Tensor& out, const Tensor& grad_out, const Tensor& lse,
                          const AttentionParams& p, const Tensor& grad_q, const Tensor& grad_k,
                          const Tensor& grad_v) override;
  void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                          const Tensor& out, const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& mean,
                           const Tensor& rstd, const Tensor& weight, const Tensor& grad_x,
                           const Tensor& grad_weight, const Tensor& grad_bias) override;
  void rms_norm_forward(const Tensor& x, const Tensor& weight, double eps, const Tensor& out,
                        const Tensor& rstd) override;
  void rms_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& rstd,
                         const Tensor& weight, const Tensor& grad_x,
                         const Tensor& grad_weight) override;

  // ---- recommendation (cpu_recsys.cpp) ----
  void embedding_bag_forward(const Tensor& weight, const Tensor& indices, const Tensor& offsets,
                             const Tensor& psw, BagMode mode, int64_t padding_idx,
                             const Tensor& out, const Tensor& argmax) override;
  void embedding_bag_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& offsets,
                              const Tensor& psw, BagMode mode, int64_t padding_idx,
                              const Tensor& argmax, const Tensor& grad_weight) override;
  void embedding_bag_psw_backward(const Tensor& grad_out, const Tensor& weight,
                                  const Tensor& indices, const Tensor& offsets, int64_t padding_idx,
                                  const Tensor& grad_psw) override;
  void fm_interaction_forward(const Tensor& v, const Tensor& out) override;
  void fm_interaction_backward(const Tensor& v, const Tensor& g, const Tensor& grad_v) override;
  void zero_rows(const Tensor& x, const Tensor& rows) override;
  void sparse_adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                        const Tensor& rows, double lr, double beta1, double beta2, double eps,
                        int64_t step, bool maximize) override;
  void adagrad_rows_step(const Tensor& param, const Tensor& grad, const Tensor& sum,
                         const Tensor& rows, double clr, double eps, bool maximize) override;
};

}  // namespace ember::cpu

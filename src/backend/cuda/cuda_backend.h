// The CUDA backend: kernels by family in cuda_elementwise.cu, cuda_reduce.cu, cuda_blas.cpp,
// cuda_softmax.cu, cuda_index.cu, cuda_random.cu, cuda_optim.cu, cuda_norm.cu, cuda_attention.cu.
// Kernels not listed here keep the base class's NotImplementedError naming the op and the device.
#pragma once

#include "backend/backend.h"

namespace ember::cuda {

class CudaBackend final : public backend::Backend {
 public:
  std::string name() const override { return "cuda"; }
  // cuda_elementwise.cu
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& dst, double value) override;
  void arange(const Tensor& out, double start, double step) override;
  void unary(math::UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) override;
  void binary(math::BinaryOp op, const Tensor& x, const Tensor& y, const Tensor& out,
              double alpha) override;
  void where(const Tensor& cond, const Tensor& x, const Tensor& y, const Tensor& out) override;
  // cuda_reduce.cu
  void reduce(backend::ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t B,
              const Tensor& out) override;
  void cumsum(const Tensor& x, int64_t A, int64_t R, int64_t B, const Tensor& out) override;
  // cuda_blas.cpp
  void gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha,
            double beta) override;
  void linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out) override;
  // cuda_softmax.cu
  void softmax(const Tensor& x, const Tensor& out, bool log) override;
  void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log) override;
  // cuda_index.cu
  void gather(const Tensor& x, const Tensor& index, int64_t A, int64_t N, int64_t B,
              const Tensor& out) override;
  void scatter_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A, int64_t N,
                   int64_t B) override;
  void index_select(const Tensor& x, const Tensor& index, int64_t A, int64_t N, int64_t B,
                    const Tensor& out) override;
  void index_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A, int64_t N,
                 int64_t B) override;
  // cuda_random.cu
  void uniform(const Tensor& out, double low, double high, Generator& gen) override;
  void normal(const Tensor& out, double mean, double std, Generator& gen) override;
  void dropout(const Tensor& x, double p, Generator& gen, const Tensor& out,
               const Tensor& mask) override;
  // cuda_optim.cu
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
  // cuda_norm.cu
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
  // cuda_conv.cu
  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                      const ConvParams& p) override;
  void conv2d_backward_input(const Tensor& gy, const Tensor& w, const Tensor& gx,
                             const ConvParams& p) override;
  void conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw,
                              const ConvParams& p) override;
  // cuda_sort.cu
  void sort_rows(const Tensor& x, bool descending, const Tensor& values,
                 const Tensor& indices) override;
  Tensor nonzero_flat(const Tensor& mask) override;
  // cuda_attention.cu
  void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                         const AttentionParams& p, const Tensor& out, const Tensor& lse) override;
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                          const Tensor& out, const Tensor& grad_out, const Tensor& lse,
                          const AttentionParams& p, const Tensor& grad_q, const Tensor& grad_k,
                          const Tensor& grad_v) override;
};

}  // namespace ember::cuda

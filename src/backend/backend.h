// The kernel interface: one Backend per device type implements the primitive kernels op by op.
// Ops (src/ops) check shapes and dtypes, allocate outputs and call these; kernels only compute.
#pragma once

#include <string>

#include "backend/elementwise_math.h"
#include "ember/core/generator.h"
#include "ember/core/tensor.h"

namespace ember::backend {

enum class ReduceOp { Sum, Prod, Max, Min, ArgMax, ArgMin };

/// Every method has a default that throws NotImplementedError naming the op and the device, so a
/// new device can be brought up kernel by kernel (see Note [Missing kernels]).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  /// dst = src, where src already has dst's shape (broadcast dims have stride 0); converts dtype.
  virtual void copy(const Tensor& src, const Tensor& dst);
  virtual void fill(const Tensor& dst, double value);
  /// out = f(x; a, b); x and out have the same shape, any strides (out may alias x).
  virtual void unary(math::UnaryOp op, const Tensor& x, const Tensor& out, double a, double b);
  /// out = f(x, y; alpha); x and y already have out's shape (broadcast dims have stride 0),
  /// and the same dtype. out may alias x.
  virtual void binary(math::BinaryOp op, const Tensor& x, const Tensor& y, const Tensor& out,
                      double alpha);
  /// out = cond ? x : y, all with out's shape; cond is bool.
  virtual void where(const Tensor& cond, const Tensor& x, const Tensor& y, const Tensor& out);
  /// x: contiguous, viewed as (A, R, B); out: contiguous (A, B). ArgMax/ArgMin give int64 indices.
  virtual void reduce(ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t B,
                      const Tensor& out);
  /// Inclusive prefix sum along R of a contiguous (A, R, B) tensor into out (same layout).
  virtual void cumsum(const Tensor& x, int64_t A, int64_t R, int64_t B, const Tensor& out);
  /// out[b] = alpha * a[b] @ b[b] + beta * out[b]; a: (B, M, K), b: (B, K, N), out: (B, M, N)
  /// contiguous. a and b each have unit stride in one of their last two dims; any batch stride.
  virtual void gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha, double beta);
  /// out = x @ w^T (+ bias): the fully connected layer. x: (N, K) with unit column stride and any
  /// row stride >= K; w: (M, K) contiguous; bias: (M) contiguous or undefined; out: (N, M)
  /// contiguous. All one floating dtype.
  virtual void linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out);
  /// Softmax (or log-softmax) over the last dim of contiguous x: (M, N).
  virtual void softmax(const Tensor& x, const Tensor& out, bool log);
  /// Gradient of (log-)softmax given its output y and the output gradient g, all (M, N).
  virtual void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log);
  /// Contiguous x viewed as (A, N, B); index: (A, K, B) int64 (contiguous); out (A, K, B):
  /// out[a,k,b] = x[a, index[a,k,b], b]
  virtual void gather(const Tensor& x, const Tensor& index, int64_t A, int64_t N, int64_t B,
                      const Tensor& out);
  /// out viewed as (A, N, B): out[a, index[a,k,b], b] += src[a,k,b]
  virtual void scatter_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A,
                           int64_t N, int64_t B);
  /// Contiguous x viewed as (A, N, B); index: (K) int64; out: (A, K, B).
  virtual void index_select(const Tensor& x, const Tensor& index, int64_t A, int64_t N, int64_t B,
                            const Tensor& out);
  /// out viewed as (A, N, B); src (A, K, B): out[a, index[k], b] += src[a, k, b].
  virtual void index_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A,
                         int64_t N, int64_t B);
  /// Flat int64 positions of the true elements of a contiguous bool tensor.
  virtual Tensor nonzero_flat(const Tensor& mask);
  /// Stable sort of each row of contiguous x: (M, N) into values and int64 indices.
  virtual void sort_rows(const Tensor& x, bool descending, const Tensor& values,
                         const Tensor& indices);
  virtual void uniform(const Tensor& out, double low, double high, Generator& gen);
  virtual void normal(const Tensor& out, double mean, double std, Generator& gen);
  /// out = start + i * step for i in [0, numel).
  virtual void arange(const Tensor& out, double start, double step);
  /// Fused dropout: mask = (u >= p) as x's dtype scaled by 1/(1-p); out = x * mask.
  virtual void dropout(const Tensor& x, double p, Generator& gen, const Tensor& out,
                       const Tensor& mask);
  /// One fused Adam/AdamW update of contiguous param, grad, m, v (and vmax for amsgrad).
  virtual void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                         const Tensor& vmax, double lr, double beta1, double beta2, double eps,
                         double weight_decay, bool decoupled, int64_t step, bool amsgrad,
                         bool maximize);
  /// One fused SGD update of contiguous param and grad (torch.optim.SGD, 1.13 order):
  /// d = (maximize ? -g : g) + weight_decay * p; with momentum != 0, buf = d on the first step
  /// (init_buf) and buf = momentum * buf + (1 - dampening) * d afterwards, then
  /// d = nesterov ? d + momentum * buf : buf; finally p -= lr * d. buf is unused without momentum.
  virtual void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr,
                        double momentum, double dampening, double weight_decay, bool nesterov,
                        bool maximize, bool init_buf);
  /// One fused RMSprop update: g = ±grad + weight_decay * p; sq = alpha * sq + (1 - alpha) g²;
  /// centered: ga = alpha * ga + (1 - alpha) g, avg = sqrt(sq - ga²) + eps, else sqrt(sq) + eps;
  /// momentum > 0: buf = momentum * buf + g / avg, p -= lr * buf; else p -= lr * g / avg.
  /// grad_avg / momentum_buf are used only when centered / momentum > 0.
  virtual void rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                            const Tensor& grad_avg, const Tensor& momentum_buf, double lr,
                            double alpha, double eps, double weight_decay, double momentum,
                            bool centered, bool maximize);
  /// One fused Adagrad update with the decayed rate clr = lr / (1 + (step - 1) * lr_decay):
  /// g = ±grad + weight_decay * p; sum += g²; p -= clr * g / (sqrt(sum) + eps).
  virtual void adagrad_step(const Tensor& param, const Tensor& grad, const Tensor& sum, double clr,
                            double weight_decay, double eps, bool maximize);

  // ---- convolution (cpu_conv.cpp) ----
  /// Geometry of a 2-d convolution y = conv(x, w): x (N, C, H, W), w (OC, C/groups, KH, KW),
  /// y (N, OC, OH, OW), with OH = (H + 2 PH - DH (KH - 1) - 1) / SH + 1 (same for W).
  struct ConvParams {
    int64_t N, C, H, W, OC, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, groups;
  };
  /// y = conv(x, w) + bias; x, w contiguous, bias (OC) contiguous or undefined, y contiguous.
  virtual void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                              const ConvParams& p);
  /// gx = d conv / d x applied to gy (the transposed convolution); all contiguous, gx overwritten.
  virtual void conv2d_backward_input(const Tensor& gy, const Tensor& w, const Tensor& gx,
                                     const ConvParams& p);
  /// gw = d conv / d w applied to gy; all contiguous, gw (OC, C/groups, KH, KW) overwritten.
  virtual void conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw,
                                      const ConvParams& p);

  // ---- pooling, normalization, resampling (cpu_pool.cpp, cpu_norm.cpp, cpu_resample.cpp) ----
  /// A 2-d pooling window: kernel, stride, padding and dilation along H and W.
  struct Window2d {
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  };
  /// Max pooling of contiguous x: (P, H, W) planes into contiguous out and indices (int64, flat
  /// over H*W): (P, OH, OW). NaN wins, as in torch.
  virtual void max_pool2d(const Tensor& x, const Window2d& w, const Tensor& out,
                          const Tensor& indices);
  /// grad_in: (P, H, W) contiguous, overwritten: zeros plus grad_out: (P, OH, OW) scattered
  /// to indices.
  virtual void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                   const Tensor& grad_in);
  /// Average pooling of contiguous x: (P, H, W) into out: (P, OH, OW) (torch.avg_pool2d rules;
  /// divisor > 0 overrides the window size).
  virtual void avg_pool2d(const Tensor& x, const Window2d& w, bool count_include_pad,
                          int64_t divisor, const Tensor& out);
  /// grad_in: (P, H, W) contiguous, overwritten with the adjoint of avg_pool2d applied to grad_out.
  virtual void avg_pool2d_backward(const Tensor& grad_out, const Window2d& w,
                                   bool count_include_pad, int64_t divisor, const Tensor& grad_in);
  /// Adaptive average pooling of contiguous x: (P, H, W) into out: (P, OH, OW).
  virtual void adaptive_avg_pool2d(const Tensor& x, const Tensor& out);
  /// grad_in: (P, H, W) contiguous, overwritten with the adjoint of adaptive_avg_pool2d.
  virtual void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in);
  /// Per-channel mean and biased variance of contiguous x: (N, C, S) into mean, var: (C).
  virtual void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var);
  /// out = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c; x, out: (N, C, S) contiguous;
  /// mean, var: (C); weight, bias: (C) or undefined.
  virtual void batch_norm_forward(const Tensor& x, const Tensor& mean, const Tensor& var,
                                  const Tensor& weight, const Tensor& bias, double eps,
                                  const Tensor& out);
  /// Fused batch-norm backward over (N, C, S): with batch statistics (training)
  ///   dx = w invstd (g - mean(g) - xhat mean(g xhat)), else dx = w invstd g;
  /// dweight = sum(g xhat), dbias = sum(g). Any of grad_x, grad_weight, grad_bias may be
  /// undefined (not wanted); weight may be undefined (ones).
  virtual void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& mean,
                                   const Tensor& var, const Tensor& weight, double eps,
                                   bool training, const Tensor& grad_x, const Tensor& grad_weight,
                                   const Tensor& grad_bias);

  // ---- attention and the Transformer's norms (cpu_attention.cpp) ----
  /// Sizes of an attention call over (A, H) heads: q (A, H, T, D), k (A, H, S, D), v (A, H, S, Dv).
  struct AttentionParams {
    int64_t A, H, T, S, D, Dv;
    double scale;
    bool causal;  ///< key j > query i masked
  };
  /// Flash-style forward: out = softmax(q k^T * scale + bias) v and the row log-sum-exp lse
  /// (-inf and zero output on rows with no key). q, k, v: 4-d views with unit stride in the last
  /// dim and a row stride >= it; bias: an additive (A, H, T, S) view (any strides, 0 where
  /// broadcast) or undefined; out: (A, H, T, Dv) and lse: (A, H, T) contiguous float64.
  virtual void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                 const Tensor& bias, const AttentionParams& p, const Tensor& out,
                                 const Tensor& lse);
  /// FlashAttention-2 backward by recomputation: P = exp(q k^T * scale + bias - lse),
  /// dv = P^T g, dS = P * (g v^T - rowsum(g * out)), dq = scale dS k, dk = scale dS^T q.
  /// q, k, v, bias as in attention_forward; out, grad_out, lse contiguous; grad_q, grad_k,
  /// grad_v: contiguous (A, H, ., .), overwritten.
  virtual void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& bias, const Tensor& out, const Tensor& grad_out,
                                  const Tensor& lse, const AttentionParams& p, const Tensor& grad_q,
                                  const Tensor& grad_k, const Tensor& grad_v);
  /// Layer norm of the rows of contiguous x: (M, N): out = (x - mean) * rstd * w + b, saving
  /// mean and rstd = 1 / sqrt(var + eps): (M). weight, bias: (N) or undefined.
  virtual void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  double eps, const Tensor& out, const Tensor& mean,
                                  const Tensor& rstd);
  /// Layer-norm backward over (M, N) rows (Note [LayerNorm numerics]); any of grad_x,
  /// grad_weight, grad_bias may be undefined (not wanted); weight may be undefined (ones).
  virtual void layer_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& weight, const Tensor& grad_x,
                                   const Tensor& grad_weight, const Tensor& grad_bias);
  /// RMS norm of the rows of contiguous x: (M, N): out = x * rstd * w with
  /// rstd = 1 / sqrt(mean(x^2) + eps): (M) saved. weight: (N) or undefined.
  virtual void rms_norm_forward(const Tensor& x, const Tensor& weight, double eps,
                                const Tensor& out, const Tensor& rstd);
  /// RMS-norm backward: dx = rstd (g w - x rstd^2 mean(g w x)), dweight = sum over rows of
  /// g x rstd. grad_x / grad_weight may be undefined.
  virtual void rms_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& rstd,
                                 const Tensor& weight, const Tensor& grad_x,
                                 const Tensor& grad_weight);

  // ---- recommendation: embedding bags, FM interaction, row-sparse updates (cpu_recsys.cpp) ----
  /// Reduction of an embedding bag, as torch's mode numbers.
  enum class BagMode { Sum = 0, Mean = 1, Max = 2 };
  /// out[b] = reduce over i in [offsets[b], offsets[b+1]) of psw[i] * weight[indices[i]],
  /// skipping indices == padding_idx (not counted in a mean); empty bags give zeros.
  /// weight: (V, D) contiguous; indices: (N) int64 contiguous, validated in [0, V); offsets:
  /// (B + 1) int64, validated; psw: (N) or undefined (Sum only); out: (B, D) contiguous;
  /// argmax: (B, D) int64 (Max only: the index row chosen, -1 for an empty bag).
  virtual void embedding_bag_forward(const Tensor& weight, const Tensor& indices,
                                     const Tensor& offsets, const Tensor& psw, BagMode mode,
                                     int64_t padding_idx, const Tensor& out, const Tensor& argmax);
  /// The weight gradient of embedding_bag_forward, added into grad_weight: (V, D) contiguous
  /// (only the rows used are written; a scatter-add). grad_out: (B, D) contiguous.
  virtual void embedding_bag_backward(const Tensor& grad_out, const Tensor& indices,
                                      const Tensor& offsets, const Tensor& psw, BagMode mode,
                                      int64_t padding_idx, const Tensor& argmax,
                                      const Tensor& grad_weight);
  /// grad_psw[i] = <grad_out[bag(i)], weight[indices[i]]> (0 at padding), all contiguous.
  virtual void embedding_bag_psw_backward(const Tensor& grad_out, const Tensor& weight,
                                          const Tensor& indices, const Tensor& offsets,
                                          int64_t padding_idx, const Tensor& grad_psw);
  /// FM interaction of contiguous v: (B, F, K): out[b] = 0.5 sum_k (S[b,k]^2 - sum_f v[b,f,k]^2),
  /// S = sum_f v. out: (B) contiguous.
  virtual void fm_interaction_forward(const Tensor& v, const Tensor& out);
  /// grad_v[b,f,k] = g[b] (S[b,k] - v[b,f,k]); v, grad_v: (B, F, K), g: (B), contiguous.
  virtual void fm_interaction_backward(const Tensor& v, const Tensor& g, const Tensor& grad_v);
  /// Zeroes rows (1-d int64, valid, unique) of contiguous x viewed as (x.size(0), -1).
  virtual void zero_rows(const Tensor& x, const Tensor& rows);
  /// SparseAdam (torch.optim.SparseAdam, lazy Adam) on the given unique rows of contiguous
  /// param, grad, m, v (all rows when rows is undefined): with g = ±grad,
  /// m += (1 - beta1)(g - m); v += (1 - beta2)(g² - v);
  /// p += -(lr sqrt(1 - beta2^step) / (1 - beta1^step)) * (m / (sqrt(v) + eps)).
  virtual void sparse_adam_step(const Tensor& param, const Tensor& grad, const Tensor& m,
                                const Tensor& v, const Tensor& rows, double lr, double beta1,
                                double beta2, double eps, int64_t step, bool maximize);
  /// Adagrad's sparse path on unique rows (torch 1.13): g = ±grad; sum += g²;
  /// p += -clr * (g / (sqrt(sum) + eps)). No weight decay.
  virtual void adagrad_rows_step(const Tensor& param, const Tensor& grad, const Tensor& sum,
                                 const Tensor& rows, double clr, double eps, bool maximize);

 protected:
  [[noreturn]] void missing(const char* op) const;
};

/// The backend that owns a device's memory and kernels.
Backend& backend_for(Device device);
/// Registers the backend for a device type (the CPU backend registers itself).
void register_backend(DeviceType type, Backend* backend);

}  // namespace ember::backend

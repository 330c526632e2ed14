// Position encodings for Transformers: sinusoidal (fixed), learned (nn::Embedding) and rotary.
#pragma once

#include <tuple>

#include "ember/nn/module.h"

namespace ember::nn {

/// The fixed encoding of "Attention is all you need": a (T, C) table with
/// pe[t, 2i] = sin(t / 10000^(2i / C)) and pe[t, 2i + 1] = cos(t / 10000^(2i / C)).
/// Computed in double precision, returned as dtype.
Tensor sinusoidal_position_encoding(int64_t T, int64_t C, DType dtype = kFloat32);

/// Adds the sinusoidal table to its input: forward(x (B, T, C), offset) = x + pe[offset:offset+T].
/// The table (max_len, C) is the non-persistent buffer "pe" (not saved in state_dict).
/// Learned absolute positions need no special module: use nn::Embedding(max_len, C) on
/// arange(T) and add the result (GPT-2's "wpe").
class SinusoidalPositionalEncoding : public Module {
 public:
  SinusoidalPositionalEncoding(int64_t d_model, int64_t max_len = 5000);
  /// x: (B, T, C) or (T, C) -> same shape; requires offset + T <= max_len.
  Tensor forward(const Tensor& x, int64_t offset);
  Tensor forward(const Tensor& x) override { return forward(x, 0); }
  std::string extra_repr() const override;

  int64_t d_model, max_len;
  Tensor pe;  ///< (max_len, d_model)
};

/// Rotary position embedding (RoPE), GPT-NeoX / LLaMA (Hugging Face) convention: "rotate halves".
/// The last dim D of x is split into halves x1 = x[..., :D/2], x2 = x[..., D/2:], and
///   apply_rotary(x) = x * cos + rotate_half(x) * sin,  rotate_half(x) = cat(-x2, x1),
/// with cos/sin (T, D) = cos/sin(pos * inv_freq) repeated twice along D (see RotaryEmbedding).
/// (GPT-J / the original RoFormer rotate interleaved pairs (x0, x1), (x2, x3), ... instead; the two
/// differ by a fixed permutation of the weights.)
/// x: (*, T, D), e.g. (B, H, T, D); cos, sin: (T, D) or broadcastable to x. Differentiable (built
/// from ember ops).
Tensor apply_rotary(const Tensor& x, const Tensor& cos, const Tensor& sin);

/// Produces the cos/sin tables of rotary embeddings for positions [offset, offset + T):
/// angle[t, i] = (offset + t) * base^(-2i / dim) for i < dim / 2, repeated twice along the last
/// dim. The offset is the number of tokens already in a KV cache during generation.
class RotaryEmbedding : public Module {
 public:
  /// dim: the rotated head dim (even).
  explicit RotaryEmbedding(int64_t dim, double base = 10000.0);
  /// -> (cos (T, dim), sin (T, dim)) in dtype; angles computed in double precision.
  std::tuple<Tensor, Tensor> forward(int64_t T, int64_t offset = 0, DType dtype = kFloat32) const;
  /// q or k: (B, H, T, dim) rotated for positions [offset, offset + T).
  Tensor rotate(const Tensor& x, int64_t offset = 0) const;
  using Module::forward;
  std::string extra_repr() const override;

  int64_t dim;
  double base;
};

}  // namespace ember::nn

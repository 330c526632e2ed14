// CPU kernels of the Transformer: flash-style attention (online softmax over key blocks, BLAS for
// the block products, recomputing backward) and the row norms layer_norm and rms_norm.
#include <cblas.h>
#include <immintrin.h>

#include <array>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"
#include "backend/cpu/vec_math.h"
#include "ember/core/matmul_precision.h"

namespace ember::cpu {

namespace {

// Note [Flash attention on the CPU]
// Each task owns one (head, block of kQueryBlock queries) in the forward and one head in the
// backward. It streams over blocks of kKeyBlock keys: S = q k^T * scale (+ bias) in a small
// scratch block (one GEMM), the online softmax (running max m and sum l per row, the output
// rescaled by exp(m_old - m_new)), then out += P v (one GEMM). Only out and lse = m + log(l) are
// kept; the backward recomputes P strip by strip (FlashAttention-2, but in double). Causal key
// blocks past a query block's last row are skipped. The scratch stays in L1/L2, so the (T, S)
// probabilities are never written to memory. BLAS calls inside the OpenMP tasks run on one thread.
//
// Note [Attention backward numerics]: the backward runs in double whatever the input dtype:
// float32 q, k, v and dO are widened per head, the gradients are accumulated in double and rounded
// once at the end, and each strip's softmax is renormalised from its own double scores (its max
// and sum) rather than from the forward's lse, which carries the forward's float32 rounding. In
// dS = P * (dP - D) the difference cancels where dP ~ D: float32 rounding of dP = dO v^T, or a
// common relative error in the P of a row (from a float32 lse), left gradients off by 1e-5 to
// 3e-5 relative (so were libtorch's float32 ones). In double they match the float64 answer to
// float32 rounding, at about 2x the float32 backward's time (attention is ~1% of a GPT step).
// The forward keeps m and l in double too, so lse = m + log(l) loses nothing beyond the float32
// scores.
constexpr int64_t kQueryBlock = 64;
constexpr int64_t kKeyBlock = 128;

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, double alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, double beta, float* c,
          int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K),
              static_cast<float>(alpha), a, static_cast<int>(lda), b, static_cast<int>(ldb),
              static_cast<float>(beta), c, static_cast<int>(ldc));
}
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K),
              alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

// row[c] = exp(row[c] - m) for c < n; returns the sum.
double exp_sum(float* row, int64_t n, float m) {
  int64_t c = 0;
  double s = 0;
#if defined(__AVX2__) && defined(__FMA__)
  const __m256 mv = _mm256_set1_ps(m);
  __m256 acc = _mm256_setzero_ps();
  for (; c + 8 <= n; c += 8) {
    const __m256 e = vec::exp(_mm256_sub_ps(_mm256_loadu_ps(row + c), mv));
    _mm256_storeu_ps(row + c, e);
    acc = _mm256_add_ps(acc, e);
  }
  float part[8];
  _mm256_storeu_ps(part, acc);
  for (float p : part) s += p;
#endif
  for (; c < n; ++c) s += row[c] = std::exp(row[c] - m);
  return s;
}
double exp_sum(double* row, int64_t n, double m) {
  int64_t c = 0;
  double s = 0;
#if defined(__AVX2__) && defined(__FMA__)
  const __m256d mv = _mm256_set1_pd(m);
  __m256d acc = _mm256_setzero_pd();
  for (; c + 4 <= n; c += 4) {
    const __m256d e = vec::exp(_mm256_sub_pd(_mm256_loadu_pd(row + c), mv));
    _mm256_storeu_pd(row + c, e);
    acc = _mm256_add_pd(acc, e);
  }
  double part[4];
  _mm256_storeu_pd(part, acc);
  for (double p : part) s += p;
#endif
  for (; c < n; ++c) s += row[c] = std::exp(row[c] - m);
  return s;
}

template <class T>
T row_max(const T* row, int64_t n) {
  T mx = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t c = 0; c < n; ++c) mx = std::max(mx, row[c]);
  return mx;
}

// One block of scores: s (bq, bk; ld kKeyBlock) = q[i0..] k[j0..]^T * scale + bias, with keys
// j > i at -inf when causal.
template <class T>
void scores_block(const Tensor& q, const Tensor& k, const Tensor& bias,
                  const backend::Backend::AttentionParams& p, int64_t a, int64_t h, int64_t i0,
                  int64_t bq, int64_t j0, int64_t bk, T* s) {
  const T* pq = q.data_ptr<T>() + a * q.stride(0) + h * q.stride(1) + i0 * q.stride(2);
  const T* pk = k.data_ptr<T>() + a * k.stride(0) + h * k.stride(1) + j0 * k.stride(2);
  gemm(CblasNoTrans, CblasTrans, bq, bk, p.D, p.scale, pq, q.stride(2), pk, k.stride(2), 0.0, s,
       kKeyBlock);
  if (bias.defined()) {
    const T* pb = bias.data_ptr<T>() + a * bias.stride(0) + h * bias.stride(1);
    const int64_t st = bias.stride(2), ss = bias.stride(3);
    for (int64_t r = 0; r < bq; ++r) {
      const T* br = pb + (i0 + r) * st + j0 * ss;
      T* sr = s + r * kKeyBlock;
      if (ss == 1) {
#pragma omp simd
        for (int64_t c = 0; c < bk; ++c) sr[c] += br[c];
      } else {
        for (int64_t c = 0; c < bk; ++c) sr[c] += br[c * ss];
      }
    }
  }
  if (p.causal)
    for (int64_t r = 0; r < bq; ++r)
      for (int64_t c = std::max<int64_t>(0, i0 + r + 1 - j0); c < bk; ++c)
        s[r * kKeyBlock + c] = -std::numeric_limits<T>::infinity();
}

// Keys a query block [i0, i0 + bq) may see: all S, or [0, i0 + bq) when causal.
int64_t key_end(const backend::Backend::AttentionParams& p, int64_t i0, int64_t bq) {
  return p.causal ? std::min(p.S, i0 + bq) : p.S;
}

// Multiply-adds below which attention stays on one thread: waking the second OpenMP thread costs
// tens of microseconds (passive waits), more than a decoding step's attention over its cache
// (T = 1: 4 heads x 144 keys x 128 is 74k multiply-adds for the austen model, about 10 us).
// Measured with `gpt_bench gen austen` at 2 threads: 620-930 tokens/s when every call split
// (libtorch 650-1260), 1290-2090 with this grain (libtorch 1020-1370). Training shapes (64
// queries x 128 keys a task) still split.
constexpr int64_t kAttentionGrain = int64_t{1} << 19;

// Tasks per thread, for tasks of task_macs multiply-adds each, so that each thread gets
// kAttentionGrain.
int64_t attention_grain(int64_t task_macs) {
  return std::max<int64_t>(1, kAttentionGrain / std::max<int64_t>(1, task_macs));
}

template <class T>
void attention_forward_impl(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                            const backend::Backend::AttentionParams& p, const Tensor& out,
                            const Tensor& lse) {
  const int64_t qblocks = (p.T + kQueryBlock - 1) / kQueryBlock;
  const T ninf = -std::numeric_limits<T>::infinity();
  // A task is one query block of one head.
  const int64_t grain = attention_grain(std::min(kQueryBlock, p.T) * p.S * (p.D + p.Dv));
  parallel_for(0, p.A * p.H * qblocks, grain, [&](int64_t t0, int64_t t1) {
    std::vector<T> s(static_cast<size_t>(kQueryBlock * kKeyBlock));
    std::vector<double> m(kQueryBlock), l(kQueryBlock);
    for (int64_t task = t0; task < t1; ++task) {
      const int64_t ah = task / qblocks, a = ah / p.H, h = ah % p.H;
      const int64_t i0 = (task % qblocks) * kQueryBlock, bq = std::min(kQueryBlock, p.T - i0);
      T* o = out.data_ptr<T>() + (ah * p.T + i0) * p.Dv;  // (bq, Dv), the accumulator
      std::fill(o, o + bq * p.Dv, T(0));
      std::fill(m.begin(), m.end(), -std::numeric_limits<double>::infinity());
      std::fill(l.begin(), l.end(), 0.0);
      const int64_t kend = key_end(p, i0, bq);
      for (int64_t j0 = 0; j0 < kend; j0 += kKeyBlock) {
        const int64_t bk = std::min(kKeyBlock, kend - j0);
        scores_block<T>(q, k, bias, p, a, h, i0, bq, j0, bk, s.data());
        for (int64_t r = 0; r < bq; ++r) {
          T* sr = s.data() + r * kKeyBlock;
          const T m_new = std::max(static_cast<T>(m[r]), row_max(sr, bk));
          if (m_new == ninf) {  // no key for this row yet
            std::fill(sr, sr + bk, T(0));
            continue;
          }
          const double alpha = std::exp(m[r] - static_cast<double>(m_new));
          l[r] = l[r] * alpha + exp_sum(sr, bk, m_new);
          m[r] = m_new;
          if (alpha != 1.0) {
            T* orow = o + r * p.Dv;
            const T at = static_cast<T>(alpha);
#pragma omp simd
            for (int64_t c = 0; c < p.Dv; ++c) orow[c] *= at;
          }
        }
        const T* pv = v.data_ptr<T>() + a * v.stride(0) + h * v.stride(1) + j0 * v.stride(2);
        gemm(CblasNoTrans, CblasNoTrans, bq, p.Dv, bk, 1.0, s.data(), kKeyBlock, pv, v.stride(2),
             1.0, o, p.Dv);
      }
      double* pl = lse.data_ptr<double>() + ah * p.T + i0;
      for (int64_t r = 0; r < bq; ++r) {
        T* orow = o + r * p.Dv;
        if (l[r] == 0.0) {  // every key masked: zeros
          std::fill(orow, orow + p.Dv, T(0));
          pl[r] = -std::numeric_limits<double>::infinity();
          continue;
        }
        const T inv = static_cast<T>(1.0 / l[r]);
#pragma omp simd
        for (int64_t c = 0; c < p.Dv; ++c) orow[c] *= inv;
        pl[r] = m[r] + std::log(l[r]);
      }
    }
  });
}

// The backward works in double on strips of kQueryBlock query rows against all their keys
// (Note [Attention backward numerics]): the scores, P, dP and dS of a strip (bq, kend) live in
// per-thread scratch, so D = rowsum(P * dP) is summed exactly as the composite softmax backward
// does (rowsum(dO * O) equals it only up to rounding, which shows where dP - D cancels, e.g. a row
// that sees one key).

// Rows of a (n, cols) matrix with row stride ld in the compute type Acc: widened into buf
// (contiguous) when T is narrower, used in place when it is Acc. Returns the data; *ld_out its
// row stride.
template <class Acc, class T>
const Acc* as_acc(const T* src, int64_t n, int64_t cols, int64_t ld, std::vector<Acc>& buf,
                  int64_t* ld_out) {
  if constexpr (std::is_same_v<Acc, T>) {
    *ld_out = ld;
    return src;
  } else {
    buf.resize(static_cast<size_t>(n * cols));
    for (int64_t r = 0; r < n; ++r) {
      const T* s = src + r * ld;
      Acc* d = buf.data() + r * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) d[c] = s[c];
    }
    *ld_out = cols;
    return buf.data();
  }
}

// A zeroed accumulator of n elements for out: out itself when T is Acc, else buf.
template <class Acc, class T>
Acc* accumulator(T* out, int64_t n, std::vector<Acc>& buf) {
  if constexpr (std::is_same_v<Acc, T>) {
    std::fill(out, out + n, Acc(0));
    return out;
  } else {
    buf.assign(static_cast<size_t>(n), Acc(0));
    return buf.data();
  }
}
// out = acc rounded to T (nothing to do when acc is out).
template <class T, class Acc>
void store(T* out, const Acc* acc, int64_t n) {
  if constexpr (!std::is_same_v<T, Acc>) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(acc[i]);
  }
}

// Acc: double (Note [Attention backward numerics]), or float for float32 inputs at
// set_float32_matmul_precision("medium"), which trades those last digits for about half the time.
template <class T, class Acc>
void attention_backward_impl(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                             const Tensor& grad_out, const Tensor& lse,
                             const backend::Backend::AttentionParams& p, const Tensor& grad_q,
                             const Tensor& grad_k, const Tensor& grad_v) {
  const int64_t ld = std::max<int64_t>(1, p.S);
  // A task is one head: about twice the forward's products for each of its query blocks.
  const int64_t grain = attention_grain(2 * p.T * p.S * (p.D + p.Dv));
  parallel_for(0, p.A * p.H, grain, [&](int64_t t0, int64_t t1) {
    std::vector<Acc> pp(static_cast<size_t>(kQueryBlock * ld)),
        dp(static_cast<size_t>(kQueryBlock * ld));
    std::vector<Acc> kbuf, vbuf, qbuf, gbuf, dqbuf, dkbuf, dvbuf;
    for (int64_t ah = t0; ah < t1; ++ah) {
      const int64_t a = ah / p.H, h = ah % p.H;
      const double* pl = lse.data_ptr<double>() + ah * p.T;
      const T* pq = q.data_ptr<T>() + a * q.stride(0) + h * q.stride(1);
      const T* pg = grad_out.data_ptr<T>() + ah * p.T * p.Dv;
      int64_t ldk = 0, ldv = 0, ldq = 0, ldg = 0;
      const Acc* kd = as_acc<Acc>(k.data_ptr<T>() + a * k.stride(0) + h * k.stride(1), p.S, p.D,
                                  k.stride(2), kbuf, &ldk);
      const Acc* vd = as_acc<Acc>(v.data_ptr<T>() + a * v.stride(0) + h * v.stride(1), p.S, p.Dv,
                                  v.stride(2), vbuf, &ldv);
      T* dq = grad_q.data_ptr<T>() + ah * p.T * p.D;
      T* dk = grad_k.data_ptr<T>() + ah * p.S * p.D;
      T* dv = grad_v.data_ptr<T>() + ah * p.S * p.Dv;
      Acc* dkd = accumulator(dk, p.S * p.D, dkbuf);
      Acc* dvd = accumulator(dv, p.S * p.Dv, dvbuf);
      for (int64_t i0 = 0; i0 < p.T; i0 += kQueryBlock) {
        const int64_t bq = std::min(kQueryBlock, p.T - i0), kend = key_end(p, i0, bq);
        Acc* dqd = accumulator(dq + i0 * p.D, bq * p.D, dqbuf);
        if (kend == 0) {
          store(dq + i0 * p.D, dqd, bq * p.D);
          continue;
        }
        const Acc* qd = as_acc<Acc>(pq + i0 * q.stride(2), bq, p.D, q.stride(2), qbuf, &ldq);
        const Acc* gd = as_acc<Acc>(pg + i0 * p.Dv, bq, p.Dv, p.Dv, gbuf, &ldg);
        // P = softmax(q_i k^T * scale + bias) over the strip, normalised here in Acc.
        gemm(CblasNoTrans, CblasTrans, bq, kend, p.D, p.scale, qd, ldq, kd, ldk, 0.0, pp.data(),
             ld);
        for (int64_t r = 0; r < bq; ++r) {
          Acc* sr = pp.data() + r * ld;
          if (bias.defined()) {
            const T* br = bias.data_ptr<T>() + a * bias.stride(0) + h * bias.stride(1) +
                          (i0 + r) * bias.stride(2);
            const int64_t ss = bias.stride(3);
            for (int64_t c = 0; c < kend; ++c) sr[c] += static_cast<Acc>(br[c * ss]);
          }
          if (p.causal)
            for (int64_t c = std::max<int64_t>(0, i0 + r + 1); c < kend; ++c)
              sr[c] = -std::numeric_limits<Acc>::infinity();
          const Acc mx = row_max(sr, kend);
          if (pl[i0 + r] == -std::numeric_limits<double>::infinity() ||
              mx == -std::numeric_limits<Acc>::infinity()) {  // every key masked: P = 0
            std::fill(sr, sr + kend, Acc(0));
            continue;
          }
          const Acc inv = static_cast<Acc>(1.0 / exp_sum(sr, kend, mx));
#pragma omp simd
          for (int64_t c = 0; c < kend; ++c) sr[c] *= inv;
        }
        // dP = dO_i v^T;  dv += P^T dO_i
        gemm(CblasNoTrans, CblasTrans, bq, kend, p.Dv, 1.0, gd, ldg, vd, ldv, 0.0, dp.data(), ld);
        gemm(CblasTrans, CblasNoTrans, kend, p.Dv, bq, 1.0, pp.data(), ld, gd, ldg, 1.0, dvd, p.Dv);
        for (int64_t r = 0; r < bq; ++r) {  // dS = P * (dP - rowsum(P * dP)), into dp
          const Acc* pr = pp.data() + r * ld;
          Acc* dr = dp.data() + r * ld;
          Acc di = 0;
#pragma omp simd reduction(+ : di)
          for (int64_t c = 0; c < kend; ++c) di += pr[c] * dr[c];
#pragma omp simd
          for (int64_t c = 0; c < kend; ++c) dr[c] = pr[c] * (dr[c] - di);
        }
        // dq_i = scale dS k;  dk += scale dS^T q_i
        gemm(CblasNoTrans, CblasNoTrans, bq, p.D, kend, p.scale, dp.data(), ld, kd, ldk, 0.0, dqd,
             p.D);
        gemm(CblasTrans, CblasNoTrans, kend, p.D, bq, p.scale, dp.data(), ld, qd, ldq, 1.0, dkd,
             p.D);
        store(dq + i0 * p.D, dqd, bq * p.D);
      }
      store(dk, dkd, p.S * p.D);
      store(dv, dvd, p.S * p.Dv);
    }
  });
}

// ---- layer_norm and rms_norm over the rows of (M, N) ----

// Rows per task so that a task holds about kGrain elements.
int64_t row_grain(int64_t N) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(1, N));
}

// Note [Row-norm backward]: one pass over fixed chunks of rows (at least row_grain rows each, at
// most 64 chunks; the chunking and the summation order do not depend on the thread count, so
// results are bit-for-bit deterministic).
// Each chunk writes dx of its rows and adds its rows' terms of the column sums (dweight, dbias) to
// its own partial sums in double; the partials are then added in chunk order.
// row(r, acc) handles row r, adding to acc[s * N + c] for each of the nsums column sums.
template <class T, class F>
void rows_with_column_sums(int64_t M, int64_t N, int nsums, std::initializer_list<T*> outs,
                           const F& row) {
  constexpr int64_t kMaxChunks = 64;  // bounds the partial sums to kMaxChunks * nsums * N doubles
  const int64_t rows_per = std::max(row_grain(N), (M + kMaxChunks - 1) / kMaxChunks);
  const int64_t chunks = (M + rows_per - 1) / rows_per;
  const int64_t width = nsums * N;
  std::vector<double> partial(static_cast<size_t>(nsums > 0 ? chunks * width : 0));
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      double* acc = nsums > 0 ? partial.data() + ch * width : nullptr;
      for (int64_t r = ch * rows_per; r < std::min(M, (ch + 1) * rows_per); ++r) row(r, acc);
    }
  });
  if (nsums == 0) return;
  parallel_for(0, width, 1024, [&](int64_t i0, int64_t i1) {
    for (int64_t ch = 1; ch < chunks; ++ch) {
      const double* src = partial.data() + ch * width;
#pragma omp simd
      for (int64_t i = i0; i < i1; ++i) partial[static_cast<size_t>(i)] += src[i];
    }
  });
  int s = 0;
  for (T* out : outs) {
    if (!out) continue;
    const double* src = partial.data() + (s++) * N;
    for (int64_t c = 0; c < N; ++c) out[c] = static_cast<T>(src[c]);
  }
}

template <class T>
void layer_norm_forward_impl(const T* px, const T* pw, const T* pb, int64_t M, int64_t N,
                             double eps, T* po, T* pmean, T* prstd) {
  parallel_for(0, M, row_grain(N), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* x = px + r * N;
      // Statistics in x's type, as PyTorch's kernel and the composite formulas (Note [LayerNorm
      // numerics]): wider sums would be more accurate but no longer agree with PyTorch to a few
      // ulps where a gradient cancels.
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < N; ++c) s += x[c];
      const T mean = s / static_cast<T>(N);
      T q = 0;
#pragma omp simd reduction(+ : q)
      for (int64_t c = 0; c < N; ++c) q += (x[c] - mean) * (x[c] - mean);
      const T rstd = T(1) / std::sqrt(q / static_cast<T>(N) + static_cast<T>(eps));
      const T shift = -rstd * mean;
      pmean[r] = mean;
      prstd[r] = rstd;
      T* o = po + r * N;
      // Note [LayerNorm numerics]: y = (x * rstd + (-rstd * mean)) * weight + bias
      if (pw && pb) {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) o[c] = (x[c] * rstd + shift) * pw[c] + pb[c];
      } else if (pw) {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) o[c] = (x[c] * rstd + shift) * pw[c];
      } else {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) o[c] = x[c] * rstd + shift + (pb ? pb[c] : T(0));
      }
    }
  });
}

// Note [LayerNorm numerics]: per row ds = sum(g w x), db = sum(g w),
// b = (db * mean - ds) * rstd^3 / N, c = -b * mean - db * rstd / N, dx = rstd g w + b x + c;
// dweight += g (x rstd - rstd mean), dbias += g (Note [Row-norm backward]).
template <class T>
void layer_norm_backward_impl(const T* pg, const T* px, const T* pmean, const T* prstd, const T* pw,
                              int64_t M, int64_t N, T* pdx, T* pdw, T* pdb) {
  const int nsums = (pdw ? 1 : 0) + (pdb ? 1 : 0);
  rows_with_column_sums<T>(M, N, nsums, {pdw, pdb}, [&](int64_t r, double* acc) {
    const T* g = pg + r * N;
    const T* x = px + r * N;
    const T rt = prstd[r], shift = -prstd[r] * pmean[r];
    if (pdx) {
      // PyTorch's formulas and accumulator type (Note [LayerNorm numerics]): float sums for
      // float, so gradients agree to a few ulps where b * x + c cancels.
      T ds = 0, db = 0;
      if (pw) {
#pragma omp simd reduction(+ : ds, db)
        for (int64_t c = 0; c < N; ++c) {
          const T gw = g[c] * pw[c];
          ds += gw * x[c];
          db += gw;
        }
      } else {
#pragma omp simd reduction(+ : ds, db)
        for (int64_t c = 0; c < N; ++c) {
          ds += g[c] * x[c];
          db += g[c];
        }
      }
      const T mean = pmean[r], scale = T(1) / static_cast<T>(N);
      const T bt = (db * mean - ds) * rt * rt * rt * scale, ct = -bt * mean - db * rt * scale;
      T* dx = pdx + r * N;
      if (pw) {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) dx[c] = rt * g[c] * pw[c] + bt * x[c] + ct;
      } else {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) dx[c] = rt * g[c] + bt * x[c] + ct;
      }
    }
    if (pdw) {
#pragma omp simd
      for (int64_t c = 0; c < N; ++c) acc[c] += static_cast<double>(g[c] * (x[c] * rt + shift));
      acc += N;
    }
    if (pdb) {
#pragma omp simd
      for (int64_t c = 0; c < N; ++c) acc[c] += static_cast<double>(g[c]);
    }
  });
}

template <class T>
void rms_norm_forward_impl(const T* px, const T* pw, int64_t M, int64_t N, double eps, T* po,
                           T* prstd) {
  parallel_for(0, M, row_grain(N), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* x = px + r * N;
      double q = 0;
#pragma omp simd reduction(+ : q)
      for (int64_t c = 0; c < N; ++c) q += static_cast<double>(x[c]) * static_cast<double>(x[c]);
      const T rstd = static_cast<T>(1.0 / std::sqrt(q / static_cast<double>(N) + eps));
      prstd[r] = rstd;
      T* o = po + r * N;
      if (pw) {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) o[c] = x[c] * rstd * pw[c];
      } else {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) o[c] = x[c] * rstd;
      }
    }
  });
}

// dx = rstd g w - x rstd^3 sum(g w x) / N;  dweight = sum over rows of g x rstd
// (Note [Row-norm backward]).
template <class T>
void rms_norm_backward_impl(const T* pg, const T* px, const T* prstd, const T* pw, int64_t M,
                            int64_t N, T* pdx, T* pdw) {
  rows_with_column_sums<T>(M, N, pdw ? 1 : 0, {pdw}, [&](int64_t r, double* acc) {
    const T* g = pg + r * N;
    const T* x = px + r * N;
    const T rt = prstd[r];
    if (pdx) {
      double ds = 0;
      if (pw) {
#pragma omp simd reduction(+ : ds)
        for (int64_t c = 0; c < N; ++c)
          ds += static_cast<double>(g[c]) * static_cast<double>(pw[c]) * static_cast<double>(x[c]);
      } else {
#pragma omp simd reduction(+ : ds)
        for (int64_t c = 0; c < N; ++c) ds += static_cast<double>(g[c]) * static_cast<double>(x[c]);
      }
      const double rstd = prstd[r];
      const T k = static_cast<T>(-rstd * rstd * rstd * ds / static_cast<double>(N));
      T* dx = pdx + r * N;
      if (pw) {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) dx[c] = rt * g[c] * pw[c] + k * x[c];
      } else {
#pragma omp simd
        for (int64_t c = 0; c < N; ++c) dx[c] = rt * g[c] + k * x[c];
      }
    }
    if (pdw) {
#pragma omp simd
      for (int64_t c = 0; c < N; ++c) acc[c] += static_cast<double>(g[c] * (x[c] * rt));
    }
  });
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
template <class T>
T* out_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace

void CpuBackend::layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    double eps, const Tensor& out, const Tensor& mean,
                                    const Tensor& rstd) {
  EMBER_DISPATCH_FLOATING(x.dtype(), "layer_norm", [&] {
    layer_norm_forward_impl(x.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(weight),
                            ptr_or_null<scalar_t>(bias), x.size(0), x.size(1), eps,
                            out.data_ptr<scalar_t>(), mean.data_ptr<scalar_t>(),
                            rstd.data_ptr<scalar_t>());
  });
}

void CpuBackend::layer_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& mean,
                                     const Tensor& rstd, const Tensor& weight, const Tensor& grad_x,
                                     const Tensor& grad_weight, const Tensor& grad_bias) {
  EMBER_DISPATCH_FLOATING(x.dtype(), "layer_norm_backward", [&] {
    layer_norm_backward_impl(grad_out.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(),
                             mean.data_ptr<scalar_t>(), rstd.data_ptr<scalar_t>(),
                             ptr_or_null<scalar_t>(weight), x.size(0), x.size(1),
                             out_or_null<scalar_t>(grad_x), out_or_null<scalar_t>(grad_weight),
                             out_or_null<scalar_t>(grad_bias));
  });
}

void CpuBackend::rms_norm_forward(const Tensor& x, const Tensor& weight, double eps,
                                  const Tensor& out, const Tensor& rstd) {
  EMBER_DISPATCH_FLOATING(x.dtype(), "rms_norm", [&] {
    rms_norm_forward_impl(x.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(weight), x.size(0),
                          x.size(1), eps, out.data_ptr<scalar_t>(), rstd.data_ptr<scalar_t>());
  });
}

void CpuBackend::rms_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& rstd,
                                   const Tensor& weight, const Tensor& grad_x,
                                   const Tensor& grad_weight) {
  EMBER_DISPATCH_FLOATING(x.dtype(), "rms_norm_backward", [&] {
    rms_norm_backward_impl(grad_out.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(),
                           rstd.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(weight), x.size(0),
                           x.size(1), out_or_null<scalar_t>(grad_x),
                           out_or_null<scalar_t>(grad_weight));
  });
}

void CpuBackend::attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                   const Tensor& bias, const AttentionParams& p, const Tensor& out,
                                   const Tensor& lse) {
  EMBER_DISPATCH_FLOATING(q.dtype(), "scaled_dot_product_attention",
                          [&] { attention_forward_impl<scalar_t>(q, k, v, bias, p, out, lse); });
}

void CpuBackend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& bias, const Tensor& out, const Tensor& grad_out,
                                    const Tensor& lse, const AttentionParams& p,
                                    const Tensor& grad_q, const Tensor& grad_k,
                                    const Tensor& grad_v) {
  if (q.dtype() == kFloat32 && float32_matmul_precision() == MatmulPrecision::Medium) {
    attention_backward_impl<float, float>(q, k, v, bias, grad_out, lse, p, grad_q, grad_k, grad_v);
    return;
  }
  EMBER_DISPATCH_FLOATING(q.dtype(), "scaled_dot_product_attention_backward", [&] {
    attention_backward_impl<scalar_t, double>(q, k, v, bias, grad_out, lse, p, grad_q, grad_k,
                                              grad_v);
  });
}

}  // namespace ember::cpu

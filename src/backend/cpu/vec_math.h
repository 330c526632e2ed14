// Vectorised math for CPU kernels (AVX2 + FMA): exp (float and double), tanh and the
// tanh-approximated GELU.
#pragma once

#include <array>
#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define EMBER_VEC_MATH 1

namespace ember::cpu::vec {

/// e^x for 8 floats to about 2 ulp: x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor series
/// to r^7 (truncation below 1e-9), 2^n through the exponent bits (in two halves, so n = 128 does
/// not overflow them). Below -86.6 gives 0 (the true value is under 3e-38), above 88.72 +inf;
/// NaN stays NaN.
inline __m256 exp(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-86.6f), hi = _mm256_set1_ps(88.7228f);
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), xc);  // ln2, high bits
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860682030941723e-6f), r);     // ln2, the rest
  __m256 p = _mm256_set1_ps(1.0f / 5040);
  for (float c : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
  const __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(126)), 23);  // 2^(n - 1)
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), _mm256_set1_ps(2.0f));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

inline constexpr std::array<double, 14> kInvFactorial = [] {  // 1 / k!
  std::array<double, 14> f{};
  f[0] = 1.0;
  for (int k = 1; k < 14; ++k) f[k] = f[k - 1] / k;
  return f;
}();

// exp(x) for 4 doubles (x = n ln2 + r, |r| <= ln2 / 2, Taylor series to r^13: under 1e-16
// relative, about 1 ulp); exactly 0 below -708 (and for -inf).
inline __m256d exp(__m256d x) {
  const __m256d tiny = _mm256_cmp_pd(x, _mm256_set1_pd(-708.0), _CMP_LT_OQ);
  x = _mm256_min_pd(_mm256_set1_pd(709.0), _mm256_max_pd(_mm256_set1_pd(-708.0), x));  // NaN stays
  const __m256d fn = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634074)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(fn, _mm256_set1_pd(6.93147180369123816490e-01), x);
  r = _mm256_fnmadd_pd(fn, _mm256_set1_pd(1.90821492927058770002e-10), r);
  __m256d y = _mm256_set1_pd(kInvFactorial[13]);
  for (int k = 12; k >= 0; --k) y = _mm256_fmadd_pd(y, r, _mm256_set1_pd(kInvFactorial[k]));
  const __m256i n = _mm256_slli_epi64(
      _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(fn)), _mm256_set1_epi64x(1023)),
      52);
  return _mm256_andnot_pd(tiny, _mm256_mul_pd(y, _mm256_castsi256_pd(n)));
}

/// tanh for 8 floats to about 2 ulp: an odd Taylor polynomial to x^19 below |x| = 0.5 (its
/// truncation is under 1e-9 there), 1 - 2 / (1 + e^(2|x|)) with the sign restored above.
inline __m256 tanh(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 big = _mm256_sub_ps(
      one, _mm256_div_ps(_mm256_set1_ps(2.0f),
                         _mm256_add_ps(one, exp(_mm256_mul_ps(a, _mm256_set1_ps(2.0f))))));
  const __m256 a2 = _mm256_mul_ps(a, a);
  __m256 p = _mm256_set1_ps(-443861162.0f / 1856156927625.0f);
  for (float c :
       {6404582.0f / 10854718875.0f, -929569.0f / 638512875.0f, 21844.0f / 6081075.0f,
        -1382.0f / 155925.0f, 62.0f / 2835.0f, -17.0f / 315.0f, 2.0f / 15.0f, -1.0f / 3.0f})
    p = _mm256_fmadd_ps(p, a2, _mm256_set1_ps(c));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, a2), a, a);
  const __m256 t = _mm256_blendv_ps(big, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.5f), _CMP_LT_OQ));
  return _mm256_or_ps(_mm256_blendv_ps(t, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)), sign);
}

// GELU with the tanh approximation, written with a sigmoid: 0.5 (1 + tanh(u)) = s = 1 / (1 + e)
// with e = exp(-2 u), u = sqrt(2 / pi) (x + 0.044715 x^3); x s keeps full relative precision where
// 1 + tanh(u) cancels (x far below 0). Sets s and e.
// Note [GELU backward]: the gradient keeps PyTorch's tanh formula (gelu_tanh_backward below).
// The sigmoid form s (1 + 2 x e s u') would be closer to the float64 truth (2e-7 against 1e-6
// absolute near |x| = 5) and so differ from PyTorch by more than the 1e-5 parity tolerance.
inline void gelu_tanh_parts(__m256 x, __m256& s, __m256& e) {
  const __m256 x2 = _mm256_mul_ps(x, x);
  const __m256 u = _mm256_mul_ps(
      _mm256_mul_ps(x, _mm256_fmadd_ps(x2, _mm256_set1_ps(0.044715f), _mm256_set1_ps(1.0f))),
      _mm256_set1_ps(0.7978845608028654f));
  e = exp(_mm256_mul_ps(u, _mm256_set1_ps(-2.0f)));
  s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

/// out[i] = gelu_tanh(x[i]) for i < n rounded down to 8; returns how many were done.
inline int64_t gelu_tanh(const float* x, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    __m256 s, e;
    gelu_tanh_parts(v, s, e);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(v, s));
  }
  return i;
}

/// out[i] = g[i] * gelu_tanh'(x[i]) with PyTorch's formula (Note [GELU backward]):
/// t = tanh(u), 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2).
/// Same count rule as gelu_tanh.
inline int64_t gelu_tanh_backward(const float* g, const float* x, float* out, int64_t n) {
  const __m256 k = _mm256_set1_ps(0.7978845608028654f), half = _mm256_set1_ps(0.5f),
               one = _mm256_set1_ps(1.0f), c = _mm256_set1_ps(0.044715f),
               c3 = _mm256_set1_ps(3 * 0.044715f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i), v2 = _mm256_mul_ps(v, v);
    const __m256 t = tanh(_mm256_mul_ps(k, _mm256_fmadd_ps(_mm256_mul_ps(c, v2), v, v)));
    const __m256 left = _mm256_mul_ps(half, _mm256_add_ps(one, t));
    const __m256 right =
        _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_fnmadd_ps(t, t, one)),
                      _mm256_mul_ps(k, _mm256_fmadd_ps(c3, v2, one)));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(g + i), _mm256_add_ps(left, right)));
  }
  return i;
}

}  // namespace ember::cpu::vec

#endif

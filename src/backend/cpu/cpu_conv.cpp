// CPU 2-d convolution kernels: im2col / col2im + OpenBLAS GEMM, parallel over images.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"

namespace ember::cpu {

// Note [Convolution algorithm]
// Every conv kernel here is im2col (or col2im) plus one GEMM per image and group:
//   forward:         y_n[g]  (OCg, OH*OW) = W[g] (OCg, K) @ col(x_n[g]) (K, OH*OW), K = Cg*KH*KW
//   backward input:  col     (K, OH*OW)   = W[g]^T @ gy_n[g], then col2im adds it into gx_n[g]
//   backward weight: gW[g]  += gy_n[g] @ col(x_n[g])^T
// With at least as many images as threads, images are split across the OpenMP threads and each
// calls single-threaded BLAS (OpenBLAS's OpenMP build runs serially inside a parallel region, so
// nothing is oversubscribed); the column buffer of one image stays in L2 between im2col and the
// GEMM that reads it. The weight gradient is accumulated per thread and summed at the end. With
// fewer images than threads (batch-1 inference) the images run in turn and BLAS uses the threads.
// 1x1 stride-1 unpadded convs skip im2col: the image itself is the column matrix.
// Chunks of EMBER_CONV_CHUNK images (default 4) put their columns side by side for one wider
// GEMM. Measured with build/bench/conv_bench (OMP_WAIT_POLICY=PASSIVE, torch at 2 threads,
// 2 busy shared cores, so +-15% noise), ms per call, Ember vs libtorch:
//   conv1 1->32 28x28:  fwd 0.63 vs 7.5; fwd+bwd(w,b) 2.2 vs 4.2; fwd+bwd(x,w,b) 2.6 vs 11.8
//   conv2 32->64 14x14: fwd 6.2-6.6 vs 4.4-5.3 (70-75 vs 87-104 GFLOP/s);
//                       fwd+bwd(x,w,b) 19.7-21.6 vs 16.1-16.4
// Chunk sizes 1, 2, 4, 8 measured within noise of each other on conv2. conv2 is still ~0.75x of
// libtorch: NOT yet at the GEMM-speed target; Winograd F(2x2,3x3) and oneDNN were not tried yet.

namespace {

using ConvParams = backend::Backend::ConvParams;

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

bool is_pointwise(const ConvParams& p) {
  return p.KH == 1 && p.KW == 1 && p.SH == 1 && p.SW == 1 && p.PH == 0 && p.PW == 0;
}

// x: (Cg, H, W) -> col: (Cg*KH*KW, OH*OW) with row stride ld; out-of-image taps are zero.
template <class T>
void im2col(const T* x, T* col, int64_t Cg, const ConvParams& p, int64_t ld) {
  const int64_t OHW = ld;
  for (int64_t c = 0; c < Cg; ++c) {
    const T* xc = x + c * p.H * p.W;
    for (int64_t kh = 0; kh < p.KH; ++kh) {
      for (int64_t kw = 0; kw < p.KW; ++kw, col += OHW) {
        const int64_t dx = kw * p.DW - p.PW;
        // Output columns whose input column iw = ow*SW + dx lies in [0, W).
        const int64_t ow0 = std::clamp<int64_t>((-dx + p.SW - 1) / p.SW, 0, p.OW);
        const int64_t ow1 =
            std::clamp<int64_t>(dx >= p.W ? 0 : (p.W - dx + p.SW - 1) / p.SW, ow0, p.OW);
        for (int64_t oh = 0; oh < p.OH; ++oh) {
          T* row = col + oh * p.OW;
          const int64_t ih = oh * p.SH - p.PH + kh * p.DH;
          if (ih < 0 || ih >= p.H) {
            std::fill(row, row + p.OW, T(0));
            continue;
          }
          const T* xr = xc + ih * p.W + dx;
          std::fill(row, row + ow0, T(0));
          if (p.SW == 1) {
            std::memcpy(row + ow0, xr + ow0, (ow1 - ow0) * sizeof(T));
          } else {
            for (int64_t ow = ow0; ow < ow1; ++ow) row[ow] = xr[ow * p.SW];
          }
          std::fill(row + ow1, row + p.OW, T(0));
        }
      }
    }
  }
}

// col: (Cg*KH*KW, OH*OW) with row stride ld added into x: (Cg, H, W) (the adjoint of im2col).
template <class T>
void col2im(const T* col, T* x, int64_t Cg, const ConvParams& p, int64_t ld) {
  const int64_t OHW = ld;
  for (int64_t c = 0; c < Cg; ++c) {
    T* xc = x + c * p.H * p.W;
    for (int64_t kh = 0; kh < p.KH; ++kh) {
      for (int64_t kw = 0; kw < p.KW; ++kw, col += OHW) {
        const int64_t dx = kw * p.DW - p.PW;
        const int64_t ow0 = std::clamp<int64_t>((-dx + p.SW - 1) / p.SW, 0, p.OW);
        const int64_t ow1 =
            std::clamp<int64_t>(dx >= p.W ? 0 : (p.W - dx + p.SW - 1) / p.SW, ow0, p.OW);
        for (int64_t oh = 0; oh < p.OH; ++oh) {
          const int64_t ih = oh * p.SH - p.PH + kh * p.DH;
          if (ih < 0 || ih >= p.H) continue;
          const T* row = col + oh * p.OW;
          T* xr = xc + ih * p.W + dx;
          if (p.SW == 1) {
            for (int64_t ow = ow0; ow < ow1; ++ow) xr[ow] += row[ow];
          } else {
            for (int64_t ow = ow0; ow < ow1; ++ow) xr[ow * p.SW] += row[ow];
          }
        }
      }
    }
  }
}

// A per-thread scratch buffer reused across calls (no allocation in the steady state).
template <class T>
T* scratch(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Images per GEMM: the column buffers of kChunk images side by side make one wider GEMM, which
// runs closer to BLAS peak than one GEMM per image (Note [Convolution algorithm]).
// Winograd defaults, chosen by measurement (Note [Convolution algorithm]).
constexpr int64_t kWinogradMinChannels = 4;
constexpr int64_t kWinogradChunk = 4;

int64_t chunk_size() {
  static const int64_t c = [] {
    const char* e = std::getenv("EMBER_CONV_CHUNK");
    return e ? std::max<int64_t>(1, std::atoll(e)) : int64_t{4};
  }();
  return c;
}

// Runs f(n0, n1, thread) over chunks of images [n0, n1): chunks split across threads (serial
// BLAS inside), or in turn with threaded BLAS when there are fewer images than threads.
template <class F>
int for_each_chunk(int64_t N, int64_t B, const F& f) {
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (N < threads || threads == 1) {
    for (int64_t n = 0; n < N; n += B) f(n, std::min(N, n + B), 0);
    return 1;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int64_t per = (N + threads - 1) / threads, end = std::min(N, (t + 1) * per);
    for (int64_t n = t * per; n < end; n += B) f(n, std::min(end, n + B), t);
  }
  return threads;
}

int count_threads(int64_t N) {
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  return N < threads ? 1 : threads;
}

// ---- Winograd F(2x2, 3x3) (Note [Convolution algorithm]) ----

// Whether a conv takes the Winograd path: float32, 3x3, stride 1, dilation 1, one group, padding
// at most 2 (so the input-gradient conv, padded 2 - P, is one too), and enough channels on both
// sides for the 16 small GEMMs to pay for the transforms. EMBER_CONV_WINOGRAD=0 turns it off.
bool use_winograd(const ConvParams& p, int64_t c_in, int64_t c_out) {
  static const bool enabled = [] {
    const char* e = std::getenv("EMBER_CONV_WINOGRAD");
    return !(e && std::atoi(e) == 0);
  }();
  return enabled && p.KH == 3 && p.KW == 3 && p.SH == 1 && p.SW == 1 && p.DH == 1 && p.DW == 1 &&
         p.groups == 1 && p.PH <= 2 && p.PW <= 2 && c_in >= kWinogradMinChannels &&
         c_out >= kWinogradMinChannels;
}

// Images per Winograd chunk: their tiles side by side form the N dimension of the 16 GEMMs.
int64_t winograd_chunk() {
  static const int64_t c = [] {
    const char* e = std::getenv("EMBER_WINOGRAD_CHUNK");
    return e ? std::max<int64_t>(1, std::atoll(e)) : kWinogradChunk;
  }();
  return c;
}

// g: (3, 3) with element (i, j) at g[i*si + j*sj] -> u: 16 values at u[e*ld], u = G g G^T.
inline void winograd_kernel_tile(const float* g, int64_t si, int64_t sj, float* u, int64_t ld) {
  double t[4][3];  // G g
  for (int j = 0; j < 3; ++j) {
    const double g0 = g[j * sj], g1 = g[si + j * sj], g2 = g[2 * si + j * sj];
    t[0][j] = g0;
    t[1][j] = 0.5 * (g0 + g1 + g2);
    t[2][j] = 0.5 * (g0 - g1 + g2);
    t[3][j] = g2;
  }
  for (int i = 0; i < 4; ++i) {
    u[(i * 4 + 0) * ld] = static_cast<float>(t[i][0]);
    u[(i * 4 + 1) * ld] = static_cast<float>(0.5 * (t[i][0] + t[i][1] + t[i][2]));
    u[(i * 4 + 2) * ld] = static_cast<float>(0.5 * (t[i][0] - t[i][1] + t[i][2]));
    u[(i * 4 + 3) * ld] = static_cast<float>(t[i][2]);
  }
}

// w: (OC, C, 3, 3) -> u: (16, OC, C) for the forward conv, or with rotate, u: (16, C, OC) from
// the 180-degree rotated kernel (the conv that computes the input gradient).
void winograd_weights(const float* w, int64_t OC, int64_t C, bool rotate, float* u) {
  const int64_t ld = OC * C;
  parallel_for(0, OC, 8, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t c = 0; c < C; ++c) {
        const float* g = w + (o * C + c) * 9;
        if (rotate)
          winograd_kernel_tile(g + 8, -3, -1, u + c * OC + o, ld);
        else
          winograd_kernel_tile(g, 3, 1, u + o * C + c, ld);
      }
  });
}

// Geometry of one Winograd conv: x: (N, C, H, W) padded by (PH, PW) -> y: (N, OC, OH, OW), cut
// into TH x TW tiles of 2x2 outputs, each reading a 4x4 input patch.
struct WinoGeom {
  int64_t N, C, H, W, OC, OH, OW, PH, PW, TH, TW;
};

// x_n: (C, H, W) -> v: (16, C, ld) from column t0 on: v[e][c][t0 + th*TW + tw] = (B^T d B)[e] of
// the patch of tile (th, tw). pad: a (2*TH + 2, 2*TW + 2) buffer whose border is zero.
void winograd_input(const float* xn, const WinoGeom& g, float* pad, float* v, int64_t ld,
                    int64_t t0) {
  const int64_t PWd = 2 * g.TW + 2, es = g.C * ld;
  for (int64_t c = 0; c < g.C; ++c) {
    const float* xc = xn + c * g.H * g.W;
    for (int64_t h = 0; h < g.H; ++h)
      std::memcpy(pad + (h + g.PH) * PWd + g.PW, xc + h * g.W, g.W * sizeof(float));
    float* vc = v + c * ld + t0;
    for (int64_t th = 0; th < g.TH; ++th) {
      const float* r0 = pad + 2 * th * PWd;
      const float* r1 = r0 + PWd;
      const float* r2 = r1 + PWd;
      const float* r3 = r2 + PWd;
      float* vt = vc + th * g.TW;
      for (int64_t tw = 0; tw < g.TW; ++tw) {
        const int64_t j = 2 * tw;
        float t[4][4];  // B^T d
        for (int k = 0; k < 4; ++k) {
          t[0][k] = r0[j + k] - r2[j + k];
          t[1][k] = r1[j + k] + r2[j + k];
          t[2][k] = r2[j + k] - r1[j + k];
          t[3][k] = r1[j + k] - r3[j + k];
        }
        for (int i = 0; i < 4; ++i) {
          vt[(i * 4 + 0) * es + tw] = t[i][0] - t[i][2];
          vt[(i * 4 + 1) * es + tw] = t[i][1] + t[i][2];
          vt[(i * 4 + 2) * es + tw] = t[i][2] - t[i][1];
          vt[(i * 4 + 3) * es + tw] = t[i][1] - t[i][3];
        }
      }
    }
  }
}

// m: (16, OC, ld) from column t0 on -> y_n: (OC, OH, OW) = A^T m A (+ bias), cropped at the edge.
void winograd_output(const float* m, const WinoGeom& g, const float* bias, float* yn, int64_t ld,
                     int64_t t0) {
  const int64_t es = g.OC * ld;
  for (int64_t o = 0; o < g.OC; ++o) {
    const double b = bias ? bias[o] : 0.0;
    const float* mo = m + o * ld + t0;
    float* yo = yn + o * g.OH * g.OW;
    for (int64_t th = 0; th < g.TH; ++th) {
      const float* mt = mo + th * g.TW;
      const int64_t oh = 2 * th;
      const bool two_rows = oh + 1 < g.OH;
      float* y0 = yo + oh * g.OW;
      float* y1 = y0 + g.OW;
      for (int64_t tw = 0; tw < g.TW; ++tw) {
        double q[16];
        for (int e = 0; e < 16; ++e) q[e] = mt[e * es + tw];
        double s[2][4];  // A^T m
        for (int k = 0; k < 4; ++k) {
          s[0][k] = q[k] + q[4 + k] + q[8 + k];
          s[1][k] = q[4 + k] - q[8 + k] - q[12 + k];
        }
        const int64_t ow = 2 * tw;
        y0[ow] = static_cast<float>(s[0][0] + s[0][1] + s[0][2] + b);
        if (two_rows) y1[ow] = static_cast<float>(s[1][0] + s[1][1] + s[1][2] + b);
        if (ow + 1 < g.OW) {
          y0[ow + 1] = static_cast<float>(s[0][1] - s[0][2] - s[0][3] + b);
          if (two_rows) y1[ow + 1] = static_cast<float>(s[1][1] - s[1][2] - s[1][3] + b);
        }
      }
    }
  }
}

// y = conv(x, w) + bias by Winograd F(2x2, 3x3) with u: (16, OC, C) the transformed kernel.
// Per chunk of images: V = B^T d B for all tiles, 16 GEMMs M[e] (OC, T) = U[e] (OC, C) @ V[e]
// (C, T), then Y = A^T M A.
void winograd_conv(const float* x, const float* u, const float* bias, float* y, const WinoGeom& g) {
  const int64_t tiles = g.TH * g.TW, B = winograd_chunk();
  const int64_t pad_size = (2 * g.TH + 2) * (2 * g.TW + 2);
  for_each_chunk(g.N, B, [&](int64_t n0, int64_t n1, int) {
    const int64_t ld = (n1 - n0) * tiles;
    float* pad = scratch<float>(static_cast<size_t>(pad_size + 16 * (g.C + g.OC) * B * tiles));
    float* v = pad + pad_size;
    float* m = v + 16 * g.C * ld;
    std::fill(pad, pad + pad_size, 0.0f);
    for (int64_t n = n0; n < n1; ++n)
      winograd_input(x + n * g.C * g.H * g.W, g, pad, v, ld, (n - n0) * tiles);
    for (int64_t e = 0; e < 16; ++e)
      gemm(false, false, g.OC, ld, g.C, 1.0f, u + e * g.OC * g.C, g.C, v + e * g.C * ld, ld, 0.0f,
           m + e * g.OC * ld, ld);
    for (int64_t n = n0; n < n1; ++n)
      winograd_output(m, g, bias, y + n * g.OC * g.OH * g.OW, ld, (n - n0) * tiles);
  });
}

// The transformed kernel, reused across calls (no allocation in the steady state).
float* winograd_weight_buffer(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

void winograd_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                      const ConvParams& p) {
  float* u = winograd_weight_buffer(static_cast<size_t>(16 * p.OC * p.C));
  winograd_weights(w.data_ptr<float>(), p.OC, p.C, false, u);
  const WinoGeom g{p.N,           p.C, p.H, p.W, p.OC, p.OH, p.OW, p.PH, p.PW, (p.OH + 1) / 2,
                   (p.OW + 1) / 2};
  winograd_conv(x.data_ptr<float>(), u, bias.defined() ? bias.data_ptr<float>() : nullptr,
                y.data_ptr<float>(), g);
}

// gx = full correlation of gy with the rotated kernel, channels swapped: a stride-1 conv of gy
// (N, OC, OH, OW) padded by 2 - P giving (N, C, H, W).
void winograd_backward_input(const Tensor& gy, const Tensor& w, const Tensor& gx,
                             const ConvParams& p) {
  float* u = winograd_weight_buffer(static_cast<size_t>(16 * p.OC * p.C));
  winograd_weights(w.data_ptr<float>(), p.OC, p.C, true, u);
  const WinoGeom g{p.N, p.OC,     p.OH,     p.OW,          p.C,          p.H,
                   p.W, 2 - p.PH, 2 - p.PW, (p.H + 1) / 2, (p.W + 1) / 2};
  winograd_conv(gy.data_ptr<float>(), u, nullptr, gx.data_ptr<float>(), g);
}

template <class T>
void forward_kernel(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                    const ConvParams& p) {
  const int64_t G = p.groups, Cg = p.C / G, OCg = p.OC / G, K = Cg * p.KH * p.KW;
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW, B = chunk_size();
  const T* px = x.data_ptr<T>();
  const T* pw = w.data_ptr<T>();
  const T* pb = bias.defined() ? bias.data_ptr<T>() : nullptr;
  T* py = y.data_ptr<T>();
  const bool direct = is_pointwise(p);
  for_each_chunk(p.N, chunk_size(), [&](int64_t n0, int64_t n1, int) {
    const int64_t nb = n1 - n0, ld = nb * OHW;
    // col: (K, nb*OHW); out: (OCg, nb*OHW), scattered into the images of y.
    T* col = scratch<T>(static_cast<size_t>((direct ? 0 : K * B + OCg * B) * OHW));
    T* out = col + (direct ? 0 : K * B * OHW);
    for (int64_t g = 0; g < G; ++g) {
      if (direct || nb == 1) {
        for (int64_t n = n0; n < n1; ++n) {
          const T* xg = px + (n * p.C + g * Cg) * HW;
          T* yg = py + (n * p.OC + g * OCg) * OHW;
          if (!direct) im2col(xg, col, Cg, p, OHW);
          gemm(false, false, OCg, OHW, K, T(1), pw + g * OCg * K, K, direct ? xg : col, OHW, T(0),
               yg, OHW);
        }
      } else {
        for (int64_t n = n0; n < n1; ++n)
          im2col(px + (n * p.C + g * Cg) * HW, col + (n - n0) * OHW, Cg, p, ld);
        gemm(false, false, OCg, ld, K, T(1), pw + g * OCg * K, K, col, ld, T(0), out, ld);
        for (int64_t n = n0; n < n1; ++n)
          for (int64_t o = 0; o < OCg; ++o)
            std::memcpy(py + (n * p.OC + g * OCg + o) * OHW, out + o * ld + (n - n0) * OHW,
                        OHW * sizeof(T));
      }
      if (pb)
        for (int64_t n = n0; n < n1; ++n)
          for (int64_t o = 0; o < OCg; ++o) {
            T* yr = py + (n * p.OC + g * OCg + o) * OHW;
            const T v = pb[g * OCg + o];
            for (int64_t i = 0; i < OHW; ++i) yr[i] += v;
          }
    }
  });
}

template <class T>
void backward_input_kernel(const Tensor& gy, const Tensor& w, const Tensor& gx,
                           const ConvParams& p) {
  const int64_t G = p.groups, Cg = p.C / G, OCg = p.OC / G, K = Cg * p.KH * p.KW;
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  const T* pg = gy.data_ptr<T>();
  const T* pw = w.data_ptr<T>();
  T* px = gx.data_ptr<T>();
  const bool direct = is_pointwise(p);
  for_each_chunk(p.N, chunk_size(), [&](int64_t n0, int64_t n1, int) {
    for (int64_t n = n0; n < n1; ++n) {
      T* col = direct ? nullptr : scratch<T>(static_cast<size_t>(K * OHW));
      T* xn = px + n * p.C * HW;
      if (!direct) std::fill(xn, xn + p.C * HW, T(0));
      for (int64_t g = 0; g < G; ++g) {
        const T* gg = pg + (n * p.OC + g * OCg) * OHW;
        T* xg = xn + g * Cg * HW;
        gemm(true, false, K, OHW, OCg, T(1), pw + g * OCg * K, K, gg, OHW, T(0), direct ? xg : col,
             OHW);
        if (!direct) col2im(col, xg, Cg, p, OHW);
      }
    }
  });
}

template <class T>
void backward_weight_kernel(const Tensor& gy, const Tensor& x, const Tensor& gw,
                            const ConvParams& p) {
  const int64_t G = p.groups, Cg = p.C / G, OCg = p.OC / G, K = Cg * p.KH * p.KW;
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW, wsize = p.OC * K;
  const T* pg = gy.data_ptr<T>();
  const T* px = x.data_ptr<T>();
  T* pw = gw.data_ptr<T>();
  const bool direct = is_pointwise(p);
  const int threads = count_threads(p.N);
  // Thread 0 accumulates into gw itself, the others into partial sums added at the end.
  std::vector<T> partial(static_cast<size_t>((threads - 1) * wsize));
  std::fill(pw, pw + wsize, T(0));
  const int64_t B = chunk_size();
  for_each_chunk(p.N, chunk_size(), [&](int64_t n0, int64_t n1, int t) {
    const int64_t nb = n1 - n0, ld = nb * OHW;
    // col: (K, nb*OHW) and gyc: (OCg, nb*OHW), the chunk's images side by side.
    T* col = scratch<T>(static_cast<size_t>((K * B + OCg * B) * OHW));
    T* gyc = col + K * B * OHW;
    T* acc = t == 0 ? pw : partial.data() + (t - 1) * wsize;
    for (int64_t g = 0; g < G; ++g) {
      for (int64_t n = n0; n < n1; ++n) {
        const T* xg = px + (n * p.C + g * Cg) * HW;
        if (direct)
          for (int64_t c = 0; c < Cg; ++c)
            std::memcpy(col + c * ld + (n - n0) * OHW, xg + c * HW, OHW * sizeof(T));
        else
          im2col(xg, col + (n - n0) * OHW, Cg, p, ld);
        for (int64_t o = 0; o < OCg; ++o)
          std::memcpy(gyc + o * ld + (n - n0) * OHW, pg + (n * p.OC + g * OCg + o) * OHW,
                      OHW * sizeof(T));
      }
      gemm(false, true, OCg, K, ld, T(1), gyc, ld, col, ld, T(1), acc + g * OCg * K, K);
    }
  });
  for (int t = 1; t < threads; ++t)
    for (int64_t i = 0; i < wsize; ++i) pw[i] += partial[(t - 1) * wsize + i];
}

}  // namespace

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                                const Tensor& y, const ConvParams& p) {
  if (y.numel() == 0) return;
  if (y.dtype() == DType::Float32 && use_winograd(p, p.C, p.OC))
    return winograd_forward(x, w, bias, y, p);
  EMBER_DISPATCH_FLOATING(y.dtype(), "conv2d", [&] { forward_kernel<scalar_t>(x, w, bias, y, p); });
}

void CpuBackend::conv2d_backward_input(const Tensor& gy, const Tensor& w, const Tensor& gx,
                                       const ConvParams& p) {
  if (gx.numel() == 0) return;
  if (gy.numel() == 0 || w.numel() == 0) {
    fill(gx, 0);
    return;
  }
  if (gx.dtype() == DType::Float32 && use_winograd(p, p.OC, p.C))
    return winograd_backward_input(gy, w, gx, p);
  EMBER_DISPATCH_FLOATING(gx.dtype(), "conv2d_backward_input",
                          [&] { backward_input_kernel<scalar_t>(gy, w, gx, p); });
}

void CpuBackend::conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw,
                                        const ConvParams& p) {
  if (gw.numel() == 0) return;
  if (gy.numel() == 0) {
    fill(gw, 0);
    return;
  }
  EMBER_DISPATCH_FLOATING(gw.dtype(), "conv2d_backward_weight",
                          [&] { backward_weight_kernel<scalar_t>(gy, x, gw, p); });
}

}  // namespace ember::cpu

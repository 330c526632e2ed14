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
// Chunk sizes 1, 2, 4, 8 measured within noise of each other on conv2.
//
// Winograd F(2x2, 3x3): float32 3x3 stride-1 dilation-1 single-group convs with padding <= 2 and
// >= kWinogradMinChannels channels each way take this path in the forward and in the input
// gradient (a stride-1 conv of gy with the 180-degree rotated, in/out-swapped kernel, padding
// 2 - P). U = G g G^T per (oc, c) (16 values); per chunk of about kWinogradTiles tiles (whole
// images): V = B^T d B per (tile, c) into (16, C, T), 16 GEMMs M[e] (OC, T) = U[e] (OC, C) @
// V[e] (C, T), then Y = A^T M A (+ bias) written straight into y (edge tiles read a zero-padded
// patch and are cropped). Chunks split across threads as above. 2.25x fewer multiplies than
// im2col; float64, other shapes and the weight gradient keep im2col. The kernel and output
// transforms sum in double (the float32 error is ~2x im2col's, from the larger GEMM results
// that the output transform partly cancels); see the op-table rows conv2d winograd_*.
// Measured (2 shared cores, load ~4-5; 3 interleaved runs each of the old build and this one;
// libtorch/Ember ratio, median [range]):
//   conv_bench conv2 fwd:            0.68x [0.68-0.69] -> 1.13x [1.06-1.15] (6.8 -> 4.4 ms)
//   conv_bench conv2 fwd+bwd(x,w,b): 0.78x [0.77-0.89] -> 1.02x [0.96-1.04]
//   ember_bench cnn_train_step_b64:  1.46x [1.42-1.47] -> 1.82x [1.63-1.86] (35.9 -> 30.2 ms)
// On a quiet machine (make bench): conv2 fwd 1.23x, fwd+bwd(x,w,b) 0.98x libtorch; the CNN step
// at batch 64 1.28x libtorch and 1.42x PyTorch; a batch-128 epoch 1.22x and 1.62x (0.96x and 1.31x
// libtorch/PyTorch before Winograd).
// Kept. Chunks of 2-4 conv2 images measured alike; 8 was 10% and 16 45% slower (V and M leave
// L2). Remaining conv cost in the CNN step: the im2col weight gradient (sgemm_tn, ~15% of the
// step), then the Winograd transforms (~10%).

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
constexpr int64_t kWinogradTiles = 196;

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
// About kWinogradTiles tiles per chunk (at least one image), or EMBER_WINOGRAD_CHUNK images.
int64_t winograd_chunk(int64_t tiles) {
  static const int64_t forced = [] {
    const char* e = std::getenv("EMBER_WINOGRAD_CHUNK");
    return e ? std::max<int64_t>(1, std::atoll(e)) : int64_t{0};
  }();
  return forced > 0 ? forced : std::max<int64_t>(1, kWinogradTiles / tiles);
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

// Tiles per step of the transforms' vector loops.
constexpr int64_t kWinoBlock = 16;

// x_n: (C, H, W) -> v: (16, C, ld) from column t0 on: v[e][c][t0 + th*TW + tw] = (B^T d B)[e] of
// the patch of tile (th, tw). pad: a (2*TH + 2, 2*TW + 2) buffer whose border is zero (only the
// image's own positions are written).
void winograd_input(const float* xn, const WinoGeom& g, float* pad, float* v, int64_t ld,
                    int64_t t0) {
  const int64_t PWd = 2 * g.TW + 2, es = g.C * ld;
  for (int64_t c = 0; c < g.C; ++c) {
    const float* xc = xn + c * g.H * g.W;
    for (int64_t h = 0; h < g.H; ++h) {
      float* __restrict dst = pad + (h + g.PH) * PWd + g.PW;
      const float* __restrict src = xc + h * g.W;
      for (int64_t w = 0; w < g.W; ++w) dst[w] = src[w];
    }
    float* vc = v + c * ld + t0;
    for (int64_t th = 0; th < g.TH; ++th) {
      const float* r0 = pad + 2 * th * PWd;
      const float* r1 = r0 + PWd;
      const float* r2 = r1 + PWd;
      const float* r3 = r2 + PWd;
      for (int64_t b0 = 0; b0 < g.TW; b0 += kWinoBlock) {
        const int64_t nb = std::min(kWinoBlock, g.TW - b0), x0 = 2 * b0;
        float t[4][2 * kWinoBlock + 2];  // B^T d over the block's columns
        for (int64_t x = 0; x < 2 * nb + 2; ++x) {
          t[0][x] = r0[x0 + x] - r2[x0 + x];
          t[1][x] = r1[x0 + x] + r2[x0 + x];
          t[2][x] = r2[x0 + x] - r1[x0 + x];
          t[3][x] = r1[x0 + x] - r3[x0 + x];
        }
        float* vt = vc + th * g.TW + b0;
        for (int i = 0; i < 4; ++i) {
          const float* ti = t[i];
          float* __restrict v0 = vt + (i * 4) * es;
          float* __restrict v1 = v0 + es;
          float* __restrict v2 = v1 + es;
          float* __restrict v3 = v2 + es;
          for (int64_t k = 0; k < nb; ++k) {
            v0[k] = ti[2 * k] - ti[2 * k + 2];
            v1[k] = ti[2 * k + 1] + ti[2 * k + 2];
            v2[k] = ti[2 * k + 2] - ti[2 * k + 1];
            v3[k] = ti[2 * k + 1] - ti[2 * k + 3];
          }
        }
      }
    }
  }
}

// m: (16, OC, ld), the tiles of images [n0, n1) -> y: (N, OC, OH, OW) = A^T m A (+ bias), cropped
// at the edge. q: scratch of 20 * ld floats. The transform runs over all ld tiles at once (long
// vector loops), then scatters each tile's 2x2 outputs. Sums run in double: the transform adds up
// to nine GEMM results that partly cancel.
void winograd_output(const float* m, const WinoGeom& g, const float* bias, float* y, int64_t n0,
                     int64_t n1, int64_t ld, float* q) {
  double* s = reinterpret_cast<double*>(q + 4 * ld);  // (8, ld)
  const int64_t es = g.OC * ld, OW2 = g.OW / 2;
  float* __restrict q00 = q;
  float* __restrict q01 = q + ld;
  float* __restrict q10 = q + 2 * ld;
  float* __restrict q11 = q + 3 * ld;
  for (int64_t o = 0; o < g.OC; ++o) {
    const double bo = bias ? bias[o] : 0.0;
    const float* __restrict mo = m + o * ld;
    // Rows of A^T m: r0 = m0 + m1 + m2, r1 = m1 - m2 - m3 (mi: row i of the 4x4 tile).
    for (int j = 0; j < 4; ++j) {
      const float* __restrict a0 = mo + j * es;
      const float* __restrict a1 = a0 + 4 * es;
      const float* __restrict a2 = a1 + 4 * es;
      const float* __restrict a3 = a2 + 4 * es;
      double* __restrict s0 = s + j * ld;
      double* __restrict s1 = s + (4 + j) * ld;
      for (int64_t t = 0; t < ld; ++t) {
        s0[t] = double(a0[t]) + double(a1[t]) + double(a2[t]);
        s1[t] = double(a1[t]) - double(a2[t]) - double(a3[t]);
      }
    }
    for (int i = 0; i < 2; ++i) {
      const double* __restrict c0 = s + 4 * i * ld;
      const double* __restrict c1 = c0 + ld;
      const double* __restrict c2 = c1 + ld;
      const double* __restrict c3 = c2 + ld;
      float* __restrict e0 = i == 0 ? q00 : q10;
      float* __restrict e1 = i == 0 ? q01 : q11;
      for (int64_t t = 0; t < ld; ++t) {
        e0[t] = static_cast<float>(c0[t] + c1[t] + c2[t] + bo);
        e1[t] = static_cast<float>(c1[t] - c2[t] - c3[t] + bo);
      }
    }
    int64_t t = 0;
    for (int64_t n = n0; n < n1; ++n) {
      float* yo = y + (n * g.OC + o) * g.OH * g.OW;
      for (int64_t th = 0; th < g.TH; ++th, t += g.TW) {
        float* y0 = yo + 2 * th * g.OW;
        float* y1 = y0 + g.OW;
        const bool two_rows = 2 * th + 1 < g.OH;
        for (int64_t k = 0; k < OW2; ++k) {
          y0[2 * k] = q00[t + k];
          y0[2 * k + 1] = q01[t + k];
        }
        if (OW2 < g.TW) y0[2 * OW2] = q00[t + OW2];
        if (!two_rows) continue;
        for (int64_t k = 0; k < OW2; ++k) {
          y1[2 * k] = q10[t + k];
          y1[2 * k + 1] = q11[t + k];
        }
        if (OW2 < g.TW) y1[2 * OW2] = q10[t + OW2];
      }
    }
  }
}

// y = conv(x, w) + bias by Winograd F(2x2, 3x3) with u: (16, OC, C) the transformed kernel.
// Per chunk of images: V = B^T d B for all tiles, 16 GEMMs M[e] (OC, T) = U[e] (OC, C) @ V[e]
// (C, T), then Y = A^T M A.
void winograd_conv(const float* x, const float* u, const float* bias, float* y, const WinoGeom& g) {
  const int64_t tiles = g.TH * g.TW, B = winograd_chunk(tiles);
  const int64_t pad_size = ((2 * g.TH + 2) * (2 * g.TW + 2) + 15) / 16 * 16;  // keeps v aligned
  for_each_chunk(g.N, B, [&](int64_t n0, int64_t n1, int) {
    const int64_t ld = (n1 - n0) * tiles;
    float* pad =
        scratch<float>(static_cast<size_t>(pad_size + (16 * (g.C + g.OC) + 20) * B * tiles));
    float* v = pad + pad_size;
    float* m = v + 16 * g.C * ld;
    std::fill(pad, pad + pad_size, 0.0f);
    for (int64_t n = n0; n < n1; ++n)
      winograd_input(x + n * g.C * g.H * g.W, g, pad, v, ld, (n - n0) * tiles);
    for (int64_t e = 0; e < 16; ++e)
      gemm(false, false, g.OC, ld, g.C, 1.0f, u + e * g.OC * g.C, g.C, v + e * g.C * ld, ld, 0.0f,
           m + e * g.OC * ld, ld);
    winograd_output(m, g, bias, y, n0, n1, ld, m + 16 * g.OC * ld);
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

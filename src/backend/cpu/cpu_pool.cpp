// CPU pooling kernels over (P, H, W) planes: max (with indices), average and adaptive average,
// forward and backward, parallel over planes.
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"

namespace ember::cpu {

namespace {

using Window2d = backend::Backend::Window2d;

// Planes per task so that a task holds about kGrain elements.
int64_t plane_grain(int64_t plane_size) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(1, plane_size));
}

// One plane of 2x2, stride 2, unpadded, undilated max pooling: the CNN fast path. As torch, a
// later element replaces the max when greater or NaN.
template <class T>
void max_pool_2x2(const T* x, int64_t W, int64_t OH, int64_t OW, T* out, int64_t* idx) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    const T* r0 = x + 2 * oh * W;
    const T* r1 = r0 + W;
    T* o = out + oh * OW;
    int64_t* id = idx + oh * OW;
    const int64_t base = 2 * oh * W;
    for (int64_t ow = 0; ow < OW; ++ow) {
      const int64_t c = 2 * ow;
      T best = r0[c];
      int64_t bi = base + c;
      if (r0[c + 1] > best || std::isnan(r0[c + 1])) best = r0[c + 1], bi = base + c + 1;
      if (r1[c] > best || std::isnan(r1[c])) best = r1[c], bi = base + W + c;
      if (r1[c + 1] > best || std::isnan(r1[c + 1])) best = r1[c + 1], bi = base + W + c + 1;
      o[ow] = best;
      id[ow] = bi;
    }
  }
}

template <class T>
void max_pool_plane(const T* x, int64_t H, int64_t W, const Window2d& w, int64_t OH, int64_t OW,
                    T* out, int64_t* idx) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t h0 = oh * w.sh - w.ph;
    for (int64_t ow = 0; ow < OW; ++ow) {
      const int64_t w0 = ow * w.sw - w.pw;
      T best = -std::numeric_limits<T>::infinity();
      int64_t hf = h0, wf = w0;  // the first in-bounds element, as torch
      while (hf < 0) hf += w.dh;
      while (wf < 0) wf += w.dw;
      int64_t bi = hf * W + wf;
      for (int64_t i = 0; i < w.kh; ++i) {
        const int64_t h = h0 + i * w.dh;
        if (h < 0 || h >= H) continue;
        for (int64_t j = 0; j < w.kw; ++j) {
          const int64_t c = w0 + j * w.dw;
          if (c < 0 || c >= W) continue;
          const T v = x[h * W + c];
          if (v > best || std::isnan(v)) best = v, bi = h * W + c;
        }
      }
      out[oh * OW + ow] = best;
      idx[oh * OW + ow] = bi;
    }
  }
}

// Window [start, end) of output o of the adaptive pooling of n inputs into m outputs.
inline int64_t adaptive_start(int64_t o, int64_t n, int64_t m) {
  return (o * n) / m;
}
inline int64_t adaptive_end(int64_t o, int64_t n, int64_t m) {
  return ((o + 1) * n + m - 1) / m;
}

// Visits every (output index, clipped window, divisor) of an avg_pool2d plane.
template <class F>
void avg_windows(int64_t H, int64_t W, int64_t OH, int64_t OW, const Window2d& w,
                 bool count_include_pad, int64_t divisor, const F& f) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    int64_t h0 = oh * w.sh - w.ph, h1 = std::min(h0 + w.kh, H + w.ph);
    const int64_t ph = h1 - h0;
    h0 = std::max<int64_t>(h0, 0);
    h1 = std::min(h1, H);
    for (int64_t ow = 0; ow < OW; ++ow) {
      int64_t w0 = ow * w.sw - w.pw, w1 = std::min(w0 + w.kw, W + w.pw);
      const int64_t pool = ph * (w1 - w0);
      w0 = std::max<int64_t>(w0, 0);
      w1 = std::min(w1, W);
      const int64_t div = divisor > 0 ? divisor : count_include_pad ? pool : (h1 - h0) * (w1 - w0);
      f(oh * OW + ow, h0, h1, w0, w1, div);
    }
  }
}

}  // namespace

// x: (P, H, W) -> out, indices: (P, OH, OW)
void CpuBackend::max_pool2d(const Tensor& x, const Window2d& w, const Tensor& out,
                            const Tensor& indices) {
  const int64_t P = x.size(0), H = x.size(1), W = x.size(2);
  const int64_t OH = out.size(1), OW = out.size(2);
  const bool fast = w.kh == 2 && w.kw == 2 && w.sh == 2 && w.sw == 2 && w.ph == 0 && w.pw == 0 &&
                    w.dh == 1 && w.dw == 1 && 2 * OH <= H && 2 * OW <= W;
  EMBER_DISPATCH_FLOATING(x.dtype(), "max_pool2d", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    int64_t* pi = indices.data_ptr<int64_t>();
    parallel_for(0, P, plane_grain(H * W), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        if (fast)
          max_pool_2x2(px + p * H * W, W, OH, OW, po + p * OH * OW, pi + p * OH * OW);
        else
          max_pool_plane(px + p * H * W, H, W, w, OH, OW, po + p * OH * OW, pi + p * OH * OW);
      }
    });
  });
}

// grad_out, indices: (P, OH, OW) -> grad_in: (P, H, W)
void CpuBackend::max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                     const Tensor& grad_in) {
  const int64_t P = grad_in.size(0), HW = grad_in.size(1) * grad_in.size(2);
  const int64_t O = grad_out.size(1) * grad_out.size(2);
  EMBER_DISPATCH_FLOATING(grad_in.dtype(), "max_pool2d_backward", [&] {
    const scalar_t* pg = grad_out.data_ptr<scalar_t>();
    const int64_t* pi = indices.data_ptr<int64_t>();
    scalar_t* px = grad_in.data_ptr<scalar_t>();
    parallel_for(0, P, plane_grain(HW), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        scalar_t* gi = px + p * HW;
        std::fill(gi, gi + HW, scalar_t(0));
        const scalar_t* go = pg + p * O;
        const int64_t* id = pi + p * O;
        for (int64_t o = 0; o < O; ++o) gi[id[o]] += go[o];
      }
    });
  });
}

void CpuBackend::avg_pool2d(const Tensor& x, const Window2d& w, bool count_include_pad,
                            int64_t divisor, const Tensor& out) {
  const int64_t P = x.size(0), H = x.size(1), W = x.size(2);
  const int64_t OH = out.size(1), OW = out.size(2);
  EMBER_DISPATCH_FLOATING(x.dtype(), "avg_pool2d", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    parallel_for(0, P, plane_grain(H * W), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const scalar_t* xp = px + p * H * W;
        scalar_t* op = po + p * OH * OW;
        avg_windows(H, W, OH, OW, w, count_include_pad, divisor,
                    [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t div) {
                      scalar_t s = 0;
                      for (int64_t h = h0; h < h1; ++h)
                        for (int64_t c = w0; c < w1; ++c) s += xp[h * W + c];
                      op[o] = s / static_cast<scalar_t>(div);
                    });
      }
    });
  });
}

void CpuBackend::avg_pool2d_backward(const Tensor& grad_out, const Window2d& w,
                                     bool count_include_pad, int64_t divisor,
                                     const Tensor& grad_in) {
  const int64_t P = grad_in.size(0), H = grad_in.size(1), W = grad_in.size(2);
  const int64_t OH = grad_out.size(1), OW = grad_out.size(2);
  EMBER_DISPATCH_FLOATING(grad_in.dtype(), "avg_pool2d_backward", [&] {
    const scalar_t* pg = grad_out.data_ptr<scalar_t>();
    scalar_t* px = grad_in.data_ptr<scalar_t>();
    parallel_for(0, P, plane_grain(H * W), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        scalar_t* gi = px + p * H * W;
        const scalar_t* go = pg + p * OH * OW;
        std::fill(gi, gi + H * W, scalar_t(0));
        avg_windows(H, W, OH, OW, w, count_include_pad, divisor,
                    [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t div) {
                      const scalar_t g = go[o] / static_cast<scalar_t>(div);
                      for (int64_t h = h0; h < h1; ++h)
                        for (int64_t c = w0; c < w1; ++c) gi[h * W + c] += g;
                    });
      }
    });
  });
}

void CpuBackend::adaptive_avg_pool2d(const Tensor& x, const Tensor& out) {
  const int64_t P = x.size(0), H = x.size(1), W = x.size(2);
  const int64_t OH = out.size(1), OW = out.size(2);
  EMBER_DISPATCH_FLOATING(x.dtype(), "adaptive_avg_pool2d", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    parallel_for(0, P, plane_grain(H * W), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const scalar_t* xp = px + p * H * W;
        for (int64_t oh = 0; oh < OH; ++oh) {
          const int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
          for (int64_t ow = 0; ow < OW; ++ow) {
            const int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
            scalar_t s = 0;
            for (int64_t h = h0; h < h1; ++h)
              for (int64_t c = w0; c < w1; ++c) s += xp[h * W + c];
            po[(p * OH + oh) * OW + ow] = s / static_cast<scalar_t>((h1 - h0) * (w1 - w0));
          }
        }
      }
    });
  });
}

void CpuBackend::adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in) {
  const int64_t P = grad_in.size(0), H = grad_in.size(1), W = grad_in.size(2);
  const int64_t OH = grad_out.size(1), OW = grad_out.size(2);
  EMBER_DISPATCH_FLOATING(grad_in.dtype(), "adaptive_avg_pool2d_backward", [&] {
    const scalar_t* pg = grad_out.data_ptr<scalar_t>();
    scalar_t* px = grad_in.data_ptr<scalar_t>();
    parallel_for(0, P, plane_grain(H * W), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        scalar_t* gi = px + p * H * W;
        std::fill(gi, gi + H * W, scalar_t(0));
        for (int64_t oh = 0; oh < OH; ++oh) {
          const int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
          for (int64_t ow = 0; ow < OW; ++ow) {
            const int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
            const scalar_t g =
                pg[(p * OH + oh) * OW + ow] / static_cast<scalar_t>((h1 - h0) * (w1 - w0));
            for (int64_t h = h0; h < h1; ++h)
              for (int64_t c = w0; c < w1; ++c) gi[h * W + c] += g;
          }
        }
      }
    });
  });
}

}  // namespace ember::cpu

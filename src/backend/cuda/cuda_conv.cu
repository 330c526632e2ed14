// CUDA 2-d convolution by im2col + cuBLASLt GEMM (per group, chunks of images), with the input
// gradient by GEMM + col2im (a gather, no atomics) and the weight gradient by GEMM.
#include <algorithm>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_common.cuh"
#include "ember/autograd/grad_mode.h"

namespace ember::cuda {

namespace {
using ConvParams = backend::Backend::ConvParams;

// cols: (C, KH, KW, nb, OH, OW) = (groups, C/groups * KH * KW, nb * OH * OW) of images n0..n0+nb.
template <class T>
__global__ void im2col_kernel(const T* x, T* cols, ConvParams p, int64_t n0, int64_t nb) {
  const int64_t total = p.C * p.KH * p.KW * nb * p.OH * p.OW;
  EMBER_CUDA_KERNEL_LOOP(i, total) {
    int64_t r = i;
    const int64_t ow = r % p.OW;
    r /= p.OW;
    const int64_t oh = r % p.OH;
    r /= p.OH;
    const int64_t n = r % nb;
    r /= nb;
    const int64_t kw = r % p.KW;
    r /= p.KW;
    const int64_t kh = r % p.KH;
    const int64_t c = r / p.KH;
    const int64_t ih = oh * p.SH - p.PH + kh * p.DH, iw = ow * p.SW - p.PW + kw * p.DW;
    cols[i] = (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W)
                  ? x[(((n0 + n) * p.C + c) * p.H + ih) * p.W + iw]
                  : T(0);
  }
}

// gx[n0 + n, c, ih, iw] = sum of the column entries that im2col read from (ih, iw).
template <class T>
__global__ void col2im_kernel(const T* cols, T* gx, ConvParams p, int64_t n0, int64_t nb) {
  const int64_t total = nb * p.C * p.H * p.W;
  const int64_t L = nb * p.OH * p.OW;
  EMBER_CUDA_KERNEL_LOOP(i, total) {
    int64_t r = i;
    const int64_t iw = r % p.W;
    r /= p.W;
    const int64_t ih = r % p.H;
    r /= p.H;
    const int64_t c = r % p.C;
    const int64_t n = r / p.C;
    T acc = 0;
    for (int64_t kh = 0; kh < p.KH; ++kh) {
      const int64_t hn = ih + p.PH - kh * p.DH;
      if (hn < 0 || hn % p.SH != 0 || hn / p.SH >= p.OH) continue;
      const int64_t oh = hn / p.SH;
      for (int64_t kw = 0; kw < p.KW; ++kw) {
        const int64_t wn = iw + p.PW - kw * p.DW;
        if (wn < 0 || wn % p.SW != 0 || wn / p.SW >= p.OW) continue;
        const int64_t ow = wn / p.SW;
        acc += cols[((c * p.KH + kh) * p.KW + kw) * L + (n * p.OH + oh) * p.OW + ow];
      }
    }
    gx[n0 * p.C * p.H * p.W + i] = acc;  // i already counts the images before n
  }
}

// Images per chunk so that the column buffer stays under about 512 MiB.
int64_t images_per_chunk(const ConvParams& p, size_t elem) {
  const int64_t per_image = std::max<int64_t>(1, p.C * p.KH * p.KW * p.OH * p.OW);
  const int64_t budget = static_cast<int64_t>((size_t(512) << 20) / elem);
  return std::clamp<int64_t>(budget / per_image, 1, std::max<int64_t>(p.N, 1));
}

template <class T>
void launch_im2col(const Tensor& x, const Tensor& cols, const ConvParams& p, int64_t n0, int64_t nb,
                   cudaStream_t s) {
  const int64_t total = p.C * p.KH * p.KW * nb * p.OH * p.OW;
  im2col_kernel<T><<<detail::blocks_for(total), detail::kThreads, 0, s>>>(
      static_cast<const T*>(x.raw_data()), static_cast<T*>(cols.raw_data()), p, n0, nb);
  EMBER_CUDA_CHECK_LAUNCH("im2col_kernel");
}
}  // namespace

void CudaBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                                 const Tensor& y, const ConvParams& p) {
  KernelContext ctx({&x, &w, &bias, &y}, "conv2d");
  if (y.numel() == 0) return;
  NoGradGuard no_grad;
  const int64_t G = p.groups, OCg = p.OC / G, CK = p.C / G * p.KH * p.KW, S = p.OH * p.OW;
  const int64_t chunk = images_per_chunk(p, y.element_size());
  const Tensor wg = w.view({G, OCg, CK});
  for (int64_t n0 = 0; n0 < p.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, p.N - n0), L = nb * S;
    Tensor cols = ::ember::detail::make_tensor({G, CK, L}, y.dtype(), y.device());
    EMBER_DISPATCH_FLOATING(y.dtype(), "conv2d",
                            [&] { launch_im2col<scalar_t>(x, cols, p, n0, nb, ctx.stream); });
    Tensor out = ::ember::detail::make_tensor({G, OCg, L}, y.dtype(), y.device());
    for (int64_t g = 0; g < G; ++g)
      gemm(wg.select(0, g).unsqueeze(0), cols.select(0, g).unsqueeze(0),
           out.select(0, g).unsqueeze(0), 1.0, 0.0);
    // out: (OC, nb, S) -> y[n0 : n0 + nb]: (nb, OC, S)
    const Tensor dst = y.narrow(0, n0, nb).view({nb, p.OC, S});
    copy(out.view({p.OC, nb, S}).permute({1, 0, 2}), dst);
    if (bias.defined())
      binary(math::BinaryOp::Add, dst, bias.view({1, p.OC, 1}).expand({nb, p.OC, S}), dst, 1.0);
  }
}

void CudaBackend::conv2d_backward_input(const Tensor& gy, const Tensor& w, const Tensor& gx,
                                        const ConvParams& p) {
  KernelContext ctx({&gy, &w, &gx}, "conv2d_backward_input");
  if (gx.numel() == 0) return;
  if (gy.numel() == 0 || w.numel() == 0) {
    fill(gx, 0);
    return;
  }
  NoGradGuard no_grad;
  const int64_t G = p.groups, OCg = p.OC / G, CK = p.C / G * p.KH * p.KW, S = p.OH * p.OW;
  const int64_t chunk = images_per_chunk(p, gx.element_size());
  const Tensor wgt = w.view({G, OCg, CK}).transpose(1, 2);  // (G, CK, OCg)
  for (int64_t n0 = 0; n0 < p.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, p.N - n0), L = nb * S;
    // gy[n0 : n0 + nb]: (nb, OC, S) -> (OC, nb, S) = (G, OCg, L)
    Tensor gyp = ::ember::detail::make_tensor({p.OC, nb, S}, gy.dtype(), gy.device());
    copy(gy.narrow(0, n0, nb).view({nb, p.OC, S}).permute({1, 0, 2}), gyp);
    const Tensor gyg = gyp.view({G, OCg, L});
    Tensor gcols = ::ember::detail::make_tensor({G, CK, L}, gx.dtype(), gx.device());
    for (int64_t g = 0; g < G; ++g)
      gemm(wgt.select(0, g).unsqueeze(0), gyg.select(0, g).unsqueeze(0),
           gcols.select(0, g).unsqueeze(0), 1.0, 0.0);
    const int64_t total = nb * p.C * p.H * p.W;
    EMBER_DISPATCH_FLOATING(gx.dtype(), "conv2d_backward_input", [&] {
      col2im_kernel<scalar_t><<<detail::blocks_for(total), detail::kThreads, 0, ctx.stream>>>(
          static_cast<const scalar_t*>(gcols.raw_data()), static_cast<scalar_t*>(gx.raw_data()), p,
          n0, nb);
      EMBER_CUDA_CHECK_LAUNCH("col2im_kernel");
    });
  }
}

void CudaBackend::conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Tensor& gw,
                                         const ConvParams& p) {
  KernelContext ctx({&gy, &x, &gw}, "conv2d_backward_weight");
  if (gw.numel() == 0) return;
  if (gy.numel() == 0) {
    fill(gw, 0);
    return;
  }
  NoGradGuard no_grad;
  const int64_t G = p.groups, OCg = p.OC / G, CK = p.C / G * p.KH * p.KW, S = p.OH * p.OW;
  const int64_t chunk = images_per_chunk(p, gw.element_size());
  const Tensor gwg = gw.view({G, OCg, CK});
  for (int64_t n0 = 0; n0 < p.N; n0 += chunk) {
    const int64_t nb = std::min(chunk, p.N - n0), L = nb * S;
    Tensor cols = ::ember::detail::make_tensor({G, CK, L}, gw.dtype(), gw.device());
    EMBER_DISPATCH_FLOATING(gw.dtype(), "conv2d_backward_weight",
                            [&] { launch_im2col<scalar_t>(x, cols, p, n0, nb, ctx.stream); });
    Tensor gyp = ::ember::detail::make_tensor({p.OC, nb, S}, gy.dtype(), gy.device());
    copy(gy.narrow(0, n0, nb).view({nb, p.OC, S}).permute({1, 0, 2}), gyp);
    const Tensor gyg = gyp.view({G, OCg, L});
    for (int64_t g = 0; g < G; ++g)  // gw_g (+)= gy_g (OCg, L) @ cols_g^T (L, CK)
      gemm(gyg.select(0, g).unsqueeze(0), cols.select(0, g).transpose(0, 1).unsqueeze(0),
           gwg.select(0, g).unsqueeze(0), 1.0, n0 == 0 ? 0.0 : 1.0);
  }
}

}  // namespace ember::cuda

// CUDA GEMM and the fully connected layer through cuBLASLt (fp32, tf32, bf16; fp64), bias epilogue.
#include <cublasLt.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_runtime.h"
#include "ember/core/cuda.h"
#include "ember/core/matmul_precision.h"

#define EMBER_CUBLAS_CHECK(call)                                                            \
  do {                                                                                      \
    const cublasStatus_t ember_st_ = (call);                                                \
    if (ember_st_ != CUBLAS_STATUS_SUCCESS) [[unlikely]]                                    \
      EMBER_THROW(::ember::DeviceError, "cuBLASLt error in ", #call, " at ", __FILE__, ":", \
                  __LINE__, ": ", cublasLtGetStatusName(ember_st_), ": ",                   \
                  cublasLtGetStatusString(ember_st_));                                      \
  } while (0)

namespace ember::cuda {

namespace {
constexpr size_t kWorkspaceBytes = size_t(32) << 20;

// One cuBLASLt handle and workspace per device, created on first use and kept for the process.
struct LtDevice {
  cublasLtHandle_t handle = nullptr;
  Tensor workspace;
};
LtDevice& lt_device(int device) {
  static std::mutex mu;
  static std::vector<LtDevice> devices;
  std::lock_guard<std::mutex> lock(mu);
  if (devices.empty()) devices.resize(static_cast<size_t>(detail::visible_devices()));
  LtDevice& d = devices.at(static_cast<size_t>(device));
  if (d.handle == nullptr) {
    EMBER_CUBLAS_CHECK(cublasLtCreate(&d.handle));
    d.workspace = ::ember::detail::make_tensor({static_cast<int64_t>(kWorkspaceBytes)}, kBool,
                                               Device::cuda(device));
  }
  return d;
}

// A row-major operand as cuBLASLt (column-major) sees it: see Note [Row-major GEMM on cuBLASLt].
struct Operand {
  cublasOperation_t op;
  int64_t rows, cols, ld;  // of the column-major matrix in memory
};
// m: a (rows, cols) row-major view with unit stride in one of its last two dims.
Operand operand(const Tensor& m, const char* name) {
  const int64_t rows = m.size(-2), cols = m.size(-1);
  const int64_t rs = m.stride(-2), cs = m.stride(-1);
  if ((cs == 1 || cols == 1) && (rs >= std::max<int64_t>(1, cols) || rows == 1))
    return {CUBLAS_OP_N, cols, rows, rows == 1 ? std::max<int64_t>(1, cols) : rs};
  if ((rs == 1 || rows == 1) && (cs >= std::max<int64_t>(1, rows) || cols == 1))
    return {CUBLAS_OP_T, rows, cols, cols == 1 ? std::max<int64_t>(1, rows) : cs};
  EMBER_THROW(Error, "gemm on CUDA: operand ", name, " of shape ", m.shape_str(), " with strides ",
              ::ember::detail::shape_to_string(m.strides()), " is not BLAS-compatible");
}

uint32_t alignment_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  uint32_t align = 256;
  while (align > 1 && a % align != 0) align /= 2;
  return align;
}

struct Types {
  cudaDataType_t data, scale;
  cublasComputeType_t compute;
};
Types types_for(DType dt) {
  switch (dt) {
    case DType::Float64:
      return {CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F};
    case DType::BFloat16:
      return {CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F};
    case DType::Float32: {
      const MatmulPrecision p = float32_matmul_precision();
      const cublasComputeType_t c = p == MatmulPrecision::High     ? CUBLAS_COMPUTE_32F_FAST_TF32
                                    : p == MatmulPrecision::Medium ? CUBLAS_COMPUTE_32F_FAST_16BF
                                                                   : CUBLAS_COMPUTE_32F;
      return {CUDA_R_32F, CUDA_R_32F, c};
    }
    default:
      EMBER_THROW(DTypeError, "matmul on CUDA: not implemented for dtype ", dt,
                  " (expected float32, float64 or bfloat16)");
  }
}

// Owns the cuBLASLt descriptors of one call.
struct LtCall {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~LtCall() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (lc) cublasLtMatrixLayoutDestroy(lc);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

void set_batch(cublasLtMatrixLayout_t l, int32_t batch, int64_t stride) {
  EMBER_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch,
                                                      sizeof(batch)));
  EMBER_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(
      l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
}

// Note [Row-major GEMM on cuBLASLt]: cuBLASLt is column-major. A row-major (M, N) matrix in
// memory is its (N, M) transpose in column-major, so out = a @ b is computed as
// out^T = b^T a^T: cuBLASLt's first operand is b, its second a, and D is (N, M) with ld = N.
// out: (batch, M, N) with row stride N; a: (M, K) and b: (K, N) per batch (batch strides sa, sb,
// so = M N); bias: (N) added to every row (epilogue) or null.
void lt_matmul(const Tensor& a, const Tensor& b, const Tensor& out, int64_t batch, int64_t sa,
               int64_t sb, double alpha, double beta, const void* bias, cudaStream_t stream) {
  const int64_t M = out.size(-2), N = out.size(-1), K = a.size(-1);
  const Types ty = types_for(out.dtype());
  const Operand oa = operand(a, "a"), ob = operand(b, "b");
  LtCall call;
  EMBER_CUBLAS_CHECK(cublasLtMatmulDescCreate(&call.desc, ty.compute, ty.scale));
  EMBER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(call.desc, CUBLASLT_MATMUL_DESC_TRANSA, &ob.op,
                                                    sizeof(ob.op)));
  EMBER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(call.desc, CUBLASLT_MATMUL_DESC_TRANSB, &oa.op,
                                                    sizeof(oa.op)));
  if (bias != nullptr) {
    const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    EMBER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(call.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                      &epi, sizeof(epi)));
    EMBER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(call.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                      &bias, sizeof(bias)));
  }
  EMBER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&call.la, ty.data, static_cast<uint64_t>(ob.rows),
                                                static_cast<uint64_t>(ob.cols), ob.ld));
  EMBER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&call.lb, ty.data, static_cast<uint64_t>(oa.rows),
                                                static_cast<uint64_t>(oa.cols), oa.ld));
  EMBER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&call.lc, ty.data, static_cast<uint64_t>(N),
                                                static_cast<uint64_t>(M), N));
  if (batch > 1) {
    EMBER_CHECK(batch <= INT32_MAX, "matmul on CUDA: batch ", batch, " is too large");
    set_batch(call.la, static_cast<int32_t>(batch), sb);
    set_batch(call.lb, static_cast<int32_t>(batch), sa);
    set_batch(call.lc, static_cast<int32_t>(batch), M * N);
  }
  const int device = out.device().index;
  LtDevice& lt = lt_device(device);
  EMBER_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&call.pref));
  const uint64_t ws = kWorkspaceBytes;
  EMBER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
      call.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  const uint32_t al_a = alignment_of(b.raw_data()), al_b = alignment_of(a.raw_data()),
                 al_c = alignment_of(out.raw_data());
  EMBER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
      call.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a, sizeof(al_a)));
  EMBER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
      call.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b, sizeof(al_b)));
  EMBER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
      call.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c, sizeof(al_c)));
  EMBER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
      call.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_c, sizeof(al_c)));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  EMBER_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(lt.handle, call.desc, call.la, call.lb, call.lc,
                                                    call.lc, call.pref, 1, &result, &found));
  EMBER_CHECK_T(DeviceError, found > 0, "matmul on CUDA: cuBLASLt has no algorithm for (", M, ", ",
                K, ") @ (", K, ", ", N, ") x", batch, " in ", out.dtype());
  const float af = static_cast<float>(alpha), bf = static_cast<float>(beta);
  const void* pa = ty.scale == CUDA_R_64F ? static_cast<const void*>(&alpha) : &af;
  const void* pb = ty.scale == CUDA_R_64F ? static_cast<const void*>(&beta) : &bf;
  EMBER_CUBLAS_CHECK(cublasLtMatmul(lt.handle, call.desc, pa, b.raw_data(), call.la, a.raw_data(),
                                    call.lb, pb, out.raw_data(), call.lc, out.raw_data(), call.lc,
                                    &result.algo, lt.workspace.raw_data(), kWorkspaceBytes,
                                    stream));
}

detail::DeviceGuard guard_for(const Tensor& out, std::initializer_list<const Tensor*> ins,
                              const char* op) {
  detail::check_device(out.device(), op);
  for (const Tensor* t : ins)
    EMBER_CHECK_T(DeviceError, !t->defined() || t->device() == out.device(), op,
                  ": expected every tensor on ", out.device(), ", got one on ", t->device());
  return detail::DeviceGuard(out.device().index);
}
}  // namespace

void CudaBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha,
                       double beta) {
  const detail::DeviceGuard guard = guard_for(out, {&a, &b}, "matmul");
  cudaStream_t stream = detail::stream(out.device().index);
  const int64_t batch = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
  if (batch == 0 || M == 0 || N == 0) return;
  if (K == 0) {  // out = beta * out
    if (beta == 0) {
      fill(out, 0);
    } else {
      unary(math::UnaryOp::MulScalar, out, out, beta, 0);
    }
    return;
  }
  const int64_t sa = a.stride(0), sb = b.stride(0);
  if (batch == 1 || (sa != 0 && sb != 0)) {
    lt_matmul(a, b, out, batch, sa, sb, alpha, beta, nullptr, stream);
    return;
  }
  for (int64_t i = 0; i < batch; ++i)  // a broadcast operand (batch stride 0): one call per batch
    lt_matmul(a.select(0, i), b.select(0, i), out.select(0, i), 1, 0, 0, alpha, beta, nullptr,
              stream);
}

void CudaBackend::linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out) {
  const detail::DeviceGuard guard = guard_for(out, {&x, &w, &bias}, "linear");
  cudaStream_t stream = detail::stream(out.device().index);
  const int64_t N = out.size(0), M = out.size(1), K = x.size(1);
  if (N == 0 || M == 0) return;
  const Tensor wt = w.t();  // (K, M) view: unit stride along K
  if (K == 0) {
    if (bias.defined()) {
      copy(bias.unsqueeze(0).expand({N, M}), out);
    } else {
      fill(out, 0);
    }
    return;
  }
  // fp64 has no bias epilogue: out = bias rows, then out += x @ w^T.
  if (bias.defined() && out.dtype() == kFloat64) {
    copy(bias.unsqueeze(0).expand({N, M}), out);
    lt_matmul(x, wt, out, 1, 0, 0, 1.0, 1.0, nullptr, stream);
    return;
  }
  lt_matmul(x, wt, out, 1, 0, 0, 1.0, 0.0, bias.defined() ? bias.raw_data() : nullptr, stream);
}

}  // namespace ember::cuda

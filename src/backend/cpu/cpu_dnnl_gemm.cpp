// dnnl_gemm: oneDNN's matmul (brgemm JIT kernels), float32 or bfloat16 x bfloat16 -> float32.
#include "backend/cpu/dnnl_gemm.h"

#ifdef EMBER_WITH_DNNL
#include <immintrin.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "backend/cpu/parallel.h"
#include "ember/core/dtype.h"
#endif

namespace ember::cpu {

#ifdef EMBER_WITH_DNNL
// Note [GEMM libraries]
// Float32 GEMMs of at least kDnnlMinWork = 2^25 multiply-adds (cpu_linalg.cpp) run through
// oneDNN's matmul; smaller ones, float64 and matrix-vector products through OpenBLAS. Both reach
// the cores' FMA rate on large squares, but on the GPT and DeepFM layer shapes oneDNN's brgemm
// kernels were 5-8% faster (205-222 against 192-206 GFLOP/s at 2 threads, one process), which
// made the austen_char training step 4% and the DeepFM step 3.5% shorter. Small products are
// another matter: with OMP_WAIT_POLICY=PASSIVE a oneDNN call costs ~40 us of thread wake-ups
// (64x64x64: 49 us against OpenBLAS's 6 us, which runs it on one thread), and the two break even
// near 2^25 multiply-adds (512x256x256: 355 against 366 us); with OpenMP's default waits oneDNN
// is ahead from 2^18 (303 against 357 us there).
//
// With set_float32_matmul_precision("medium") both operands are first rounded to bfloat16
// (nearest even, VCVTNEPS2BF16) into per-thread scratch buffers, and the matmul multiplies
// bfloat16 pairs with VDPBF16PS, summing in float32: about twice the float32 rate (~400 GFLOP/s
// here), from kBf16MinWork = 2^22 multiply-adds, where the halved product time pays for the
// wake-ups even with passive waits.
// Rounding is one pass over each operand, O(MK + KN) against the O(MNK) product. The result
// is torch.matmul(a.bfloat16().float(), b.bfloat16().float()) up to the order of the float32
// sums. CPUs without AVX512-BF16 have no bfloat16 dot product, so they stay at float32.
//
// A oneDNN primitive takes 0.2-0.6 ms to create (it JIT-compiles its kernel), so one is kept per
// shape: a training run has a few dozen. Shapes that keep changing (decoding with a growing
// length) would fill the cache, so it is emptied when it reaches kMaxPrimitives.

namespace {

constexpr size_t kMaxPrimitives = 512;

bool cpu_has_bf16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16");
}

// dst (rows, cols), packed, = src (rows, cols) with leading dim ld, rounded to bfloat16.
__attribute__((target("avx512f,avx512bf16"))) void round_rows(const float* src, int64_t ld,
                                                              uint16_t* dst, int64_t cols,
                                                              int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* s = src + r * ld;
    uint16_t* d = dst + r * cols;
    int64_t c = 0;
    for (; c + 16 <= cols; c += 16) {
      const __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(s + c));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + c), reinterpret_cast<const __m256i&>(v));
    }
    for (; c < cols; ++c) d[c] = BFloat16(s[c]).bits;
  }
}

// A growable bfloat16 scratch buffer per calling thread (which: 0 for a, 1 for b).
uint16_t* scratch(int which, int64_t n) {
  thread_local std::unique_ptr<uint16_t[]> buf[2];
  thread_local int64_t cap[2] = {0, 0};
  if (n > cap[which]) {
    buf[which] = std::make_unique<uint16_t[]>(static_cast<size_t>(n));
    cap[which] = n;
  }
  return buf[which].get();
}

// A float32 matrix as stored (rows, cols, leading dim) and its packed bfloat16 copy.
struct Operand {
  const float* src;
  int64_t rows, cols, ld;
  uint16_t* dst = nullptr;
};

// Rounds both operands in one parallel region over their rows together: every region wakes the
// pool's threads, which costs more than rounding a small weight matrix.
void round_operands(Operand& a, Operand& b) {
  a.dst = scratch(0, a.rows * a.cols);
  b.dst = scratch(1, b.rows * b.cols);
  const int64_t elements = a.rows * a.cols + b.rows * b.cols;
  const int64_t rows = a.rows + b.rows;
  const int64_t grain =
      elements < 4 * kGrain ? rows : std::max<int64_t>(1, rows * kGrain / elements);
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    if (r0 < a.rows) round_rows(a.src, a.ld, a.dst, a.cols, r0, std::min(r1, a.rows));
    if (r1 > a.rows)
      round_rows(b.src, b.ld, b.dst, b.cols, std::max<int64_t>(0, r0 - a.rows), r1 - a.rows);
  });
}

// Everything a primitive depends on. bf16 operands are packed (ld = their row length); float32
// ones are used in place, with their leading dims.
struct Key {
  bool bf16, ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  float alpha, beta;
  bool operator==(const Key& o) const {
    return bf16 == o.bf16 && ta == o.ta && tb == o.tb && M == o.M && N == o.N && K == o.K &&
           lda == o.lda && ldb == o.ldb && ldc == o.ldc &&
           std::memcmp(&alpha, &o.alpha, sizeof alpha) == 0 &&
           std::memcmp(&beta, &o.beta, sizeof beta) == 0;
  }
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = (size_t{k.bf16} << 2) | (size_t{k.ta} << 1) | size_t{k.tb};
    for (int64_t v : {k.M, k.N, k.K, k.lda, k.ldb, k.ldc})
      h = h * 1000003u ^ std::hash<int64_t>()(v);
    return h ^ std::hash<float>()(k.alpha) * 31u ^ std::hash<float>()(k.beta);
  }
};

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

// a: (M, K), stored as such or as its transpose (K, M), with row stride lda.
dnnl::memory::desc a_desc(const Key& k) {
  return {{k.M, k.K}, k.bf16 ? dt::bf16 : dt::f32, k.ta ? dims{1, k.lda} : dims{k.lda, 1}};
}
dnnl::memory::desc b_desc(const Key& k) {
  return {{k.K, k.N}, k.bf16 ? dt::bf16 : dt::f32, k.tb ? dims{1, k.ldb} : dims{k.ldb, 1}};
}
dnnl::memory::desc c_desc(const Key& k) {
  return {{k.M, k.N}, dt::f32, dims{k.ldc, 1}};
}

struct Dnnl {
  const bool has_bf16 = cpu_has_bf16();
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::mutex mu;
  // nullptr: oneDNN has no kernel for this key (reported once). Shared, so that emptying the
  // cache cannot pull a primitive from under a call running on another thread.
  std::unordered_map<Key, std::shared_ptr<const dnnl::matmul>, KeyHash> primitives;

  std::shared_ptr<const dnnl::matmul> primitive(const Key& k) {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = primitives.find(k); it != primitives.end()) return it->second;
    if (primitives.size() >= kMaxPrimitives) primitives.clear();
    std::shared_ptr<const dnnl::matmul>& slot = primitives[k];
    dnnl::primitive_attr attr;
    if (k.alpha != 1.f) attr.set_output_scales(0, {k.alpha});
    if (k.beta != 0.f) {
      dnnl::post_ops ops;
      ops.append_sum(k.beta);
      attr.set_post_ops(ops);
    }
    try {
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_desc(k), b_desc(k), c_desc(k)),
                                            attr, engine);
      if (std::strncmp(pd.impl_info_str(), "ref", 3) == 0)  // a reference loop: not a BLAS
        throw dnnl::error(dnnl_unimplemented, "only a reference implementation");
      slot = std::make_shared<const dnnl::matmul>(pd);
      return slot;
    } catch (const dnnl::error& e) {
      std::fprintf(stderr,
                   "ember: warning: oneDNN has no %s matmul for (%lld x %lld) @ (%lld x %lld) "
                   "(%s); using OpenBLAS\n",
                   k.bf16 ? "bfloat16" : "float32", static_cast<long long>(k.M),
                   static_cast<long long>(k.K), static_cast<long long>(k.K),
                   static_cast<long long>(k.N), e.what());
      return nullptr;
    }
  }
};

Dnnl& dnnl_state() {
  static Dnnl d;
  return d;
}

}  // namespace

bool dnnl_gemm(bool bf16, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  Dnnl& d = dnnl_state();
  bf16 = bf16 && d.has_bf16;
  Operand a16{a, ta ? K : M, ta ? M : K, lda}, b16{b, tb ? N : K, tb ? K : N, ldb};
  const Key k{bf16, ta,    tb,  M, N, K, bf16 ? a16.cols : lda, bf16 ? b16.cols : ldb,
              ldc,  alpha, beta};
  const std::shared_ptr<const dnnl::matmul> mm = d.primitive(k);
  if (!mm) return false;
  void* pa = const_cast<float*>(a);
  void* pb = const_cast<float*>(b);
  if (bf16) {
    round_operands(a16, b16);
    pa = a16.dst;
    pb = b16.dst;
  }
  dnnl::memory am(a_desc(k), d.engine, pa), bm(b_desc(k), d.engine, pb), cm(c_desc(k), d.engine, c);
  dnnl::stream s(d.engine);
  mm->execute(s, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  s.wait();
  return true;
}

bool bf16_gemm_available() {
  return dnnl_state().has_bf16;
}

#else  // built without oneDNN: every GEMM stays on OpenBLAS, in float32

bool dnnl_gemm(bool, bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
               const float*, int64_t, float, float*, int64_t) {
  return false;
}
bool bf16_gemm_available() {
  return false;
}

#endif

}  // namespace ember::cpu

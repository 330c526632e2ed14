// Float32 matmul precision, as torch.set_float32_matmul_precision; read by every backend's GEMM.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ember {

/// How float32 matrix products (linear, matmul and their backward) may be computed:
///  - "highest" (default): float32 products.
///  - "high": TF32 tensor cores on CUDA; float32 on the CPU.
///  - "medium": operands rounded to bfloat16, products summed in float32 (bf16 tensor cores on
///    CUDA; AVX512-BF16 through oneDNN on CPUs that have it, float32 on others). About twice the
///    GEMM rate; each product carries bfloat16's 8-bit mantissa (relative error ~2^-9 per operand).
/// Throws ValueError on any other name. Tensors stay float32, and so do convolutions and the
/// attention kernel, whose backward on the CPU then runs in float32 instead of double.
void set_float32_matmul_precision(std::string_view precision);
std::string get_float32_matmul_precision();

enum class MatmulPrecision { Highest, High, Medium };
MatmulPrecision float32_matmul_precision();

/// The accepted names, in MatmulPrecision order: "highest", "high", "medium" (for config and
/// command-line validation).
const std::vector<std::string>& float32_matmul_precision_names();

}  // namespace ember

// Model summary: per-layer output shapes, parameters and FLOPs, and the memory training needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/io/json.h"
#include "ember/nn/module.h"

namespace ember::train {

/// One leaf module of the model, in forward order.
struct LayerRow {
  std::string name;                   ///< dotted child name, e.g. "0" or "3.1"
  std::string type;                   ///< "Linear", "ReLU", ...
  std::vector<int64_t> output_shape;  ///< per sample (without the batch dim)
  int64_t params = 0, trainable = 0;  ///< parameter elements of this module
  int64_t flops = 0;                  ///< forward, per sample
};

/// Note [Summary conventions]: FLOPs count one multiply and one add as two. Per sample, forward:
///   Linear: (2 in + 1) out per output row (2 in out without bias); an (L, in) input has L rows
///   activations (ReLU, GELU, Tanh, Softmax, ...): 1 per output element
///   Conv2d: (2 (in / groups) kH kW + 1) per output element (no + 1 without bias)
///   MaxPool2d, AvgPool2d: kH kW per output element; AdaptiveAvgPool2d: 1 per output element
///   BasicBlock: its convolutions and norms (all of the block's output shape), 2 ReLUs and the sum
///   BatchNorm1d/2d, LayerNorm, GroupNorm: 5 per output element
///   Dropout, Identity, Flatten, Embedding and unknown modules: 0.
/// Memory, in bytes of the actual dtypes: parameters; gradients (trainable parameters); optimizer
/// state = trainable bytes times 2 (adam, adamw), 1 (sgd with momentum, rmsprop, adagrad), 2
/// (rmsprop with momentum), 0 (sgd without momentum, none); activations = the sum over layers of
/// their output elements × batch × element size (what backward keeps); total = all four.
struct ModelSummary {
  std::vector<LayerRow> layers;
  int64_t total_params = 0, trainable_params = 0;
  int64_t flops_per_sample = 0;  ///< forward
  int64_t batch_size = 0;
  std::string optimizer;
  int64_t param_bytes = 0, grad_bytes = 0, optimizer_bytes = 0, activation_bytes = 0;
  int64_t total_train_bytes = 0;
  int64_t gpu_bytes = 0;  ///< total_train_bytes plus the CUDA context and cuBLAS workspaces
};

/// Walks the leaf modules of model (a Sequential, nested Sequentials flattened; any other module
/// is one row) in order, running each on a zero batch of shape (2, input_shape...) and input_dtype
/// (int64 for the token ids of text models; their FLOPs count the Linear layers at every position
/// and leave out attention's T x T products) in
/// eval and no-grad mode to find output shapes (the model's training flags and state are left as
/// they were). optimizer_name: sgd, adam, adamw, rmsprop, adagrad or none; momentum matters for
/// sgd and rmsprop. Throws ValueError for an unknown optimizer or batch_size < 1.
ModelSummary summarize(nn::Module& model, const std::vector<int64_t>& input_shape,
                       int64_t batch_size, const std::string& optimizer_name, double momentum = 0,
                       DType input_dtype = kFloat32);

/// A Keras-like table (name (type), output shape, params, FLOPs) with thousands separators, then
/// the totals and the training memory in human units (B, KiB, MiB, GiB).
std::string format_summary(const ModelSummary& summary);

/// The summary as a JSON object (layers array, then every total), for `ember summary --json`.
json::Value summary_to_json(const ModelSummary& summary);

/// "1,234,567"
std::string with_thousands(int64_t n);
/// "512 B", "2.00 KiB", "1.50 MiB"
std::string human_bytes(int64_t bytes);

}  // namespace ember::train

// Model summary: walk the leaf modules on a dummy batch, count parameters, FLOPs and memory.
#include "ember/train/summary.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "ember/autograd/grad_mode.h"
#include "ember/models/ctr.h"
#include "ember/nn/containers.h"
#include "ember/nn/conv.h"
#include "ember/nn/layers.h"
#include "ember/nn/pooling.h"
#include "ember/ops/creation.h"

namespace ember::train {

namespace {

const std::set<std::string> kElementwise = {"ReLU",    "LeakyReLU", "ELU",  "GELU",
                                            "SiLU",    "Sigmoid",   "Tanh", "Softplus",
                                            "Softmax", "LogSoftmax"};
const std::set<std::string> kNorms = {"BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"};

// The leaves in forward order: Sequentials are opened, everything else is one leaf.
void collect_leaves(const std::string& prefix, nn::Module& m,
                    std::vector<std::pair<std::string, nn::Module*>>& out) {
  if (dynamic_cast<nn::Sequential*>(&m) != nullptr) {
    for (const auto& [name, child] : m.named_children())
      collect_leaves(prefix.empty() ? name : prefix + "." + name, *child, out);
    return;
  }
  out.emplace_back(prefix.empty() ? m.type_name() : prefix, &m);
}

int64_t window(const Shape& kernel) {
  return kernel.size() == 1 ? kernel[0] * kernel[0] : kernel[0] * kernel[1];
}

// Forward FLOPs per sample of module m producing `out` (per-sample elements out_elems).
int64_t layer_flops(nn::Module& m, int64_t out_elems) {
  if (auto* lin = dynamic_cast<nn::Linear*>(&m)) {
    if (lin->out_features == 0) return 0;
    const int64_t rows = out_elems / lin->out_features;
    const int64_t per_row =
        2 * lin->in_features * lin->out_features + (lin->bias.defined() ? lin->out_features : 0);
    return rows * per_row;
  }
  if (auto* conv = dynamic_cast<nn::Conv2d*>(&m)) {
    // each output element: a dot product over (in / groups) x kH x kW inputs, plus the bias
    const int64_t k = conv->weight.numel() / conv->out_channels;
    return out_elems * (2 * k + (conv->bias.defined() ? 1 : 0));
  }
  if (auto* pool = dynamic_cast<nn::MaxPool2d*>(&m))
    return out_elems * window(pool->kernel_size);  // compares
  if (auto* pool = dynamic_cast<nn::AvgPool2d*>(&m)) return out_elems * window(pool->kernel_size);
  if (m.type_name() == "AdaptiveAvgPool2d") return out_elems;  // about one add per input
  if (m.type_name() == "BasicBlock") {
    // Every layer inside a basic block (convolutions, norms, the 1x1 downsample) outputs the
    // block's shape; add its two ReLUs and the residual sum.
    int64_t total = 3 * out_elems;
    for (const auto& [name, child] : m.named_modules())
      if (child.get() != &m && dynamic_cast<nn::Sequential*>(child.get()) == nullptr)
        total += layer_flops(*child, out_elems);
    return total;
  }
  if (kElementwise.count(m.type_name())) return out_elems;
  if (kNorms.count(m.type_name())) return 5 * out_elems;
  return 0;
}

// A composite model as one row (GPT, BERT and the bag of words on token ids; the CTR models on
// fields): its Linear layers applied at each of the sample's `tokens` positions (1 for the CTR
// models), 2 FLOPs a weight, and their outputs as the activations kept for the backward pass.
// For the CTR models add the field lookups (2 FLOPs per slot and weight read) and FM's pairwise
// term (3 F k); the pooled embeddings e: (F, k) are their activations. Attention's T x T
// products, the transformers' embedding lookups and the elementwise work are left out, so both
// are lower bounds (the Linear layers dominate at these sizes).
struct TokenModelCost {
  int64_t flops = 0, activations = 0;  // per sample: FLOPs, elements
};
TokenModelCost token_model_cost(nn::Module& m, int64_t tokens) {
  TokenModelCost c;
  for (const auto& [name, child] : m.named_modules())
    if (auto* lin = dynamic_cast<nn::Linear*>(child.get())) {
      c.flops += tokens * 2 * lin->in_features * lin->out_features;
      c.activations += tokens * lin->out_features;
    }
  if (auto* ctr = dynamic_cast<models::CTRModel*>(&m)) {
    const models::CTRConfig& cfg = ctr->config;
    int64_t fields = 0;  // F: the fields with embeddings
    for (const data::FieldSlot& s : cfg.slots) {
      c.flops += 2 * s.n_slots;  // first order
      if (cfg.type == "logistic" || !cfg.embeds(s.name)) continue;
      c.flops += 2 * s.n_slots * cfg.embed_dim;
      ++fields;
    }
    if (cfg.type == "fm" || cfg.type == "deepfm") c.flops += 3 * fields * cfg.embed_dim;
    c.activations += fields * cfg.embed_dim;
  }
  return c;
}

int64_t bytes_of(const std::vector<Tensor>& ts, bool trainable_only) {
  int64_t n = 0;
  for (const Tensor& t : ts)
    if (!trainable_only || t.requires_grad())
      n += t.numel() * static_cast<int64_t>(t.element_size());
  return n;
}

// Optimizer state buffers per trainable parameter element.
int64_t state_slots(const std::string& optimizer, double momentum) {
  if (optimizer == "adam" || optimizer == "adamw" || optimizer == "sparse_adam") return 2;
  if (optimizer == "sgd") return momentum > 0 ? 1 : 0;
  if (optimizer == "rmsprop") return momentum > 0 ? 2 : 1;
  if (optimizer == "adagrad") return 1;
  if (optimizer == "none") return 0;
  EMBER_THROW(ValueError, "summarize: unknown optimizer '", optimizer,
              "'; expected sgd, adam, adamw, rmsprop, adagrad or none");
}

std::string shape_text(const std::vector<int64_t>& per_sample) {
  std::string s = "(None";
  for (int64_t d : per_sample) s += ", " + std::to_string(d);
  return s + ")";
}

std::string pad(const std::string& s, size_t width, bool right) {
  if (s.size() >= width) return s;
  const std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

}  // namespace

ModelSummary summarize(nn::Module& model, const std::vector<int64_t>& input_shape,
                       int64_t batch_size, const std::string& optimizer_name, double momentum,
                       DType input_dtype) {
  EMBER_CHECK(batch_size >= 1, "summarize: batch_size must be >= 1, got ", batch_size);
  ModelSummary s;
  s.batch_size = batch_size;
  s.optimizer = optimizer_name;
  const int64_t slots = state_slots(optimizer_name, momentum);

  std::vector<std::pair<std::string, nn::Module*>> leaves;
  collect_leaves("", model, leaves);

  // Eval mode so that the dummy batch leaves running statistics alone; flags restored after.
  std::vector<std::pair<nn::ModulePtr, bool>> modes;
  for (const auto& [name, m] : model.named_modules()) modes.emplace_back(m, m->is_training());
  model.eval();
  try {
    NoGradGuard no_grad;
    Shape shape = {2};
    shape.insert(shape.end(), input_shape.begin(), input_shape.end());
    Tensor x = zeros(shape, input_dtype);
    const int64_t x_tokens = x.numel() / 2;  // positions per sample of a token model
    for (const auto& [name, m] : leaves) {
      x = m->forward(x);
      LayerRow row;
      row.name = name;
      row.type = m->type_name();
      row.output_shape.assign(x.shape().begin() + (x.dim() > 0 ? 1 : 0), x.shape().end());
      const int64_t elems = x.dim() > 0 ? x.numel() / x.size(0) : x.numel();
      row.params = m->num_parameters();
      row.trainable = m->num_parameters(true);
      const bool token_model =
          leaves.size() == 1 && (input_dtype == kInt64 || layer_flops(*m, elems) == 0);
      const TokenModelCost cost = token_model
                                      ? token_model_cost(*m, input_dtype == kInt64 ? x_tokens : 1)
                                      : TokenModelCost{};
      row.flops = token_model ? cost.flops : layer_flops(*m, elems);
      s.flops_per_sample += row.flops;
      s.activation_bytes += (token_model ? cost.activations : elems) * batch_size *
                            static_cast<int64_t>(x.element_size());
      s.layers.push_back(std::move(row));
    }
  } catch (...) {
    for (const auto& [m, on] : modes) m->train(on);
    throw;
  }
  for (const auto& [m, on] : modes) m->train(on);  // pre-order: parents first, then children

  const std::vector<Tensor> params = model.parameters();
  s.total_params = model.num_parameters();
  s.trainable_params = model.num_parameters(true);
  s.param_bytes = bytes_of(params, false);
  s.grad_bytes = bytes_of(params, true);
  s.optimizer_bytes = slots * s.grad_bytes;
  s.total_train_bytes = s.param_bytes + s.grad_bytes + s.optimizer_bytes + s.activation_bytes;
  // A CUDA context takes roughly 0.5 GiB of device memory; cuBLASLt's workspace is 32 MiB.
  s.gpu_bytes = s.total_train_bytes + (int64_t{512} << 20) + (int64_t{32} << 20);
  return s;
}

std::string with_thousands(int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string human_bytes(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

std::string format_summary(const ModelSummary& s) {
  std::vector<std::vector<std::string>> cells = {
      {"Layer (type)", "Output Shape", "Param #", "FLOPs"}};
  for (const LayerRow& r : s.layers)
    cells.push_back({r.name + " (" + r.type + ")", shape_text(r.output_shape),
                     with_thousands(r.params), with_thousands(r.flops)});
  std::vector<size_t> width(4, 0);
  for (const auto& row : cells)
    for (size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], row[c].size());
  const size_t gap = 4;
  const size_t total_width = width[0] + width[1] + width[2] + width[3] + 3 * gap;
  auto line = [&](const std::vector<std::string>& row) {
    return pad(row[0], width[0] + gap, false) + pad(row[1], width[1], false) +
           pad(row[2], width[2] + gap, true) + pad(row[3], width[3] + gap, true) + "\n";
  };
  const std::string rule(total_width, '=');
  std::string out = line(cells[0]) + rule + "\n";
  for (size_t i = 1; i < cells.size(); ++i) out += line(cells[i]);
  out += rule + "\n";

  const int64_t frozen = s.total_params - s.trainable_params;
  const int64_t frozen_bytes = s.param_bytes - s.grad_bytes;
  out +=
      "Total params: " + with_thousands(s.total_params) + " (" + human_bytes(s.param_bytes) + ")\n";
  out += "Trainable params: " + with_thousands(s.trainable_params) + " (" +
         human_bytes(s.grad_bytes) + ")\n";
  out +=
      "Non-trainable params: " + with_thousands(frozen) + " (" + human_bytes(frozen_bytes) + ")\n";
  out += "Forward FLOPs per sample: " + with_thousands(s.flops_per_sample) + "\n";
  out += "Forward FLOPs per batch of " + std::to_string(s.batch_size) + ": " +
         with_thousands(s.flops_per_sample * s.batch_size) + "\n";
  out += "\nTraining memory (batch size " + std::to_string(s.batch_size) + ", optimizer " +
         s.optimizer + "):\n";
  const std::vector<std::pair<std::string, int64_t>> mem = {{"parameters", s.param_bytes},
                                                            {"gradients", s.grad_bytes},
                                                            {"optimizer state", s.optimizer_bytes},
                                                            {"activations", s.activation_bytes},
                                                            {"total", s.total_train_bytes}};
  for (const auto& [what, bytes] : mem)
    out += "  " + pad(what, 17, false) + pad(human_bytes(bytes), 12, true) + "\n";
  out += "GPU memory needed (--device cuda): about " + human_bytes(s.gpu_bytes) +
         " (the total plus the CUDA context and cuBLAS workspaces)\n";
  return out;
}

json::Value summary_to_json(const ModelSummary& s) {
  json::Value layers = json::Value::array();
  for (const LayerRow& r : s.layers) {
    json::Value shape = json::Value::array();
    for (int64_t d : r.output_shape) shape.push_back(d);
    json::Value row = json::Value::object();
    row["name"] = r.name;
    row["type"] = r.type;
    row["output_shape"] = shape;
    row["params"] = r.params;
    row["trainable"] = r.trainable;
    row["flops"] = r.flops;
    layers.push_back(row);
  }
  json::Value out = json::Value::object();
  out["layers"] = layers;
  out["total_params"] = s.total_params;
  out["trainable_params"] = s.trainable_params;
  out["flops_per_sample"] = s.flops_per_sample;
  out["batch_size"] = s.batch_size;
  out["optimizer"] = s.optimizer;
  out["param_bytes"] = s.param_bytes;
  out["grad_bytes"] = s.grad_bytes;
  out["optimizer_bytes"] = s.optimizer_bytes;
  out["activation_bytes"] = s.activation_bytes;
  out["total_train_bytes"] = s.total_train_bytes;
  out["gpu_bytes"] = s.gpu_bytes;
  return out;
}

}  // namespace ember::train

// DeepFM benchmark: training steps (batch 1024) of examples/movielens_deepfm.toml's model, Ember
// (models::CTRModel + optim::Adam, the step of `ember train`) and libtorch (the same model written
// here with torch::nn, torch::optim::Adam) interleaved in one process.
// Usage: deepfm_bench [DIR] [--reps R] [--steps N] [--only ember|libtorch]
//   DIR: the output of `ember prepare` (its layout and the first training rows); without it,
//   MovieLens-shaped fields with random ids (as bench/movielens_deepfm.py --bench).
// Prints tab-separated rows "TRAIN<TAB>impl<TAB>median s/step<TAB>min<TAB>max<TAB>samples/s",
// "RATIO<TAB>ember/libtorch<TAB>ratio", "AGREE<TAB>what<TAB>max |logit difference|" and
// "MEM<TAB>impl<TAB>table bytes<TAB>grad bytes<TAB>Adam state bytes" (the embedding tables
// linear.weight and embedding.weight only).
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ember/data/fields.h"
#include "ember/ember.h"
#include "ember/io/json.h"
#include "ember/io/safetensors.h"
#include "ember/models/ctr.h"
#include "ember/optim/adam.h"
#include "interleaved.h"

namespace {

constexpr int64_t kBatch = 1024;
constexpr int64_t kEmbed = 10;
constexpr int kBatches = 8;  // distinct batches cycled through

using ember::data::FieldSlot;

// ---- the data: a field layout and kBatches batches of x: (B, 2, S), y: (B) ----

struct Data {
  std::vector<FieldSlot> slots;
  int64_t num_ids = 0;
  std::vector<ember::Tensor> ex, ey;
  std::vector<torch::Tensor> tx, ty;
};

int64_t num_slots(const std::vector<FieldSlot>& slots) {
  return slots.back().first_slot + slots.back().n_slots;
}

// As synthetic_layout() in bench/movielens_deepfm.py: userId (671), movieId (9,066), year (5-year
// buckets), genres (multi, up to 10 of 20, mean-pooled); each field also has its OOV id.
void synthetic_layout(Data& d) {
  const struct {
    const char* name;
    int64_t ids, n_slots;
  } fields[] = {
      {"userId", 1 + 671, 1}, {"movieId", 1 + 9066, 1}, {"year", 27, 1}, {"genres", 1 + 20, 10}};
  int64_t slot = 0, id = 1;
  for (const auto& f : fields) {
    d.slots.push_back(
        {f.name, slot, f.n_slots, id, id + f.ids, f.n_slots > 1 ? std::string("mean") : "sum"});
    slot += f.n_slots;
    id += f.ids;
  }
  d.num_ids = id;
}

// x: (B, 2, S) with uniform ids (multi fields: 1-3 values, then padding), y: (B) 0/1.
void add_batch(Data& d, std::vector<float> x, std::vector<float> y) {
  const int64_t S = num_slots(d.slots);
  d.ex.push_back(ember::from_vector(x, {kBatch, 2, S}));
  d.ey.push_back(ember::from_vector(y, {kBatch}));
  d.tx.push_back(bench::to_torch(d.ex.back()));
  d.ty.push_back(bench::to_torch(d.ey.back()));
}

void synthetic_batches(Data& d) {
  std::mt19937_64 rng(1234);
  const int64_t S = num_slots(d.slots);
  for (int b = 0; b < kBatches; ++b) {
    std::vector<float> x(kBatch * 2 * S, 0.0F), y(kBatch);
    for (int64_t i = 0; i < kBatch; ++i) {
      float* ids = &x[i * 2 * S];
      float* values = ids + S;
      for (const FieldSlot& s : d.slots) {
        std::uniform_int_distribution<int64_t> pick(s.id_begin + 1, s.id_end - 1);
        const int64_t used = s.n_slots == 1 ? 1 : std::uniform_int_distribution<int64_t>(1, 3)(rng);
        for (int64_t k = 0; k < used; ++k) {
          ids[s.first_slot + k] = static_cast<float>(pick(rng));
          values[s.first_slot + k] = 1.0F;
        }
      }
      y[i] = static_cast<float>(rng() & 1);
    }
    add_batch(d, std::move(x), std::move(y));
  }
}

// DIR/preprocess.json's layout and the first kBatches batches of DIR/data.safetensors' train.x.
void load_prepared(Data& d, const std::string& dir) {
  const ember::data::FieldEncoder enc = ember::data::FieldEncoder::from_json(
      ember::json::parse_file(dir + "/preprocess.json")["fields"]);
  d.slots = enc.slots();
  d.num_ids = enc.num_ids();
  auto t = ember::io::load_safetensors_map(dir + "/data.safetensors", /*mmap=*/false);
  const ember::Tensor x = t.at("train.x").contiguous();
  const ember::Tensor y = t.at("train.y").to(ember::kFloat32).contiguous();
  const int64_t S = num_slots(d.slots);
  if (x.dim() != 3 || x.size(1) != 2 || x.size(2) != S || x.size(0) < kBatches * kBatch)
    throw std::runtime_error(dir + ": train.x must be (N >= " + std::to_string(kBatches * kBatch) +
                             ", 2, " + std::to_string(S) + "), got " + x.shape_str());
  const float* px = x.data_ptr<float>();
  const float* py = y.data_ptr<float>();
  for (int b = 0; b < kBatches; ++b)
    add_batch(d, std::vector<float>(px + b * kBatch * 2 * S, px + (b + 1) * kBatch * 2 * S),
              std::vector<float>(py + b * kBatch, py + (b + 1) * kBatch));
}

// ---- the libtorch DeepFM (models::CTRModel type deepfm) ----

struct TorchDeepFM : torch::nn::Module {
  TorchDeepFM(const std::vector<FieldSlot>& slots, int64_t num_ids)
      : slots(slots),
        linear(register_module("linear", torch::nn::Embedding(num_ids, 1))),
        bias(register_parameter("bias", torch::zeros({1}))),
        embedding(register_module("embedding", torch::nn::Embedding(num_ids, kEmbed))) {
    std::vector<int64_t> single;
    for (const FieldSlot& s : slots)
      if (s.n_slots == 1) single.push_back(s.first_slot);
    single_index = torch::tensor(single, torch::kInt64);
    const auto fields = static_cast<int64_t>(slots.size());
    dnn =
        register_module("dnn", torch::nn::Sequential(torch::nn::Linear(fields * kEmbed, 400),
                                                     torch::nn::ReLU(), torch::nn::Linear(400, 400),
                                                     torch::nn::ReLU(), torch::nn::Linear(400, 400),
                                                     torch::nn::ReLU(), torch::nn::Linear(400, 1)));
    torch::NoGradGuard ng;
    linear->weight.zero_();
    embedding->weight.normal_(0.0, 0.01);
  }

  // table: (num_ids, d); ids, values: (B, S) -> (B, F, d), single-slot fields first.
  torch::Tensor pool(const torch::Tensor& table, const torch::Tensor& ids,
                     const torch::Tensor& values) {
    namespace F = torch::nn::functional;
    const int64_t B = ids.size(0), d = table.size(1);
    std::vector<torch::Tensor> parts;
    if (single_index.numel() > 0) {
      const torch::Tensor i = ids.index_select(1, single_index).reshape({-1, 1});
      const torch::Tensor v = values.index_select(1, single_index).reshape({-1, 1});
      parts.push_back(
          F::embedding_bag(i, table,
                           F::EmbeddingBagFuncOptions().mode(torch::kSum).per_sample_weights(v))
              .view({B, single_index.numel(), d}));
    }
    for (const FieldSlot& s : slots) {
      if (s.n_slots == 1) continue;
      const torch::Tensor i = ids.narrow(1, s.first_slot, s.n_slots);
      auto o = F::EmbeddingBagFuncOptions().padding_idx(0);
      if (s.pooling == "mean")
        o.mode(torch::kMean);
      else
        o.mode(torch::kSum).per_sample_weights(values.narrow(1, s.first_slot, s.n_slots));
      parts.push_back(F::embedding_bag(i, table, o).unsqueeze(1));
    }
    return parts.size() == 1 ? parts[0] : torch::cat(parts, 1);
  }

  torch::Tensor forward(const torch::Tensor& x) {  // x: (B, 2, S) -> (B, 1)
    const torch::Tensor ids = x.select(1, 0).to(torch::kInt64);
    const torch::Tensor values = x.select(1, 1).contiguous();
    torch::Tensor logit = pool(linear->weight, ids, values).sum(1) + bias;
    const torch::Tensor e = pool(embedding->weight, ids, values);  // (B, F, k)
    logit = logit + 0.5 * (e.sum(1).pow(2) - e.pow(2).sum(1)).sum(1, /*keepdim=*/true);
    return logit + dnn->forward(e.flatten(1));
  }

  std::vector<FieldSlot> slots;
  torch::Tensor single_index;
  torch::nn::Embedding linear;
  torch::Tensor bias;
  torch::nn::Embedding embedding;
  torch::nn::Sequential dnn{nullptr};
};

// ---- the training steps ----

struct EmberTrainer {
  std::shared_ptr<ember::models::CTRModel> model;
  std::unique_ptr<ember::optim::Adam> opt;
  explicit EmberTrainer(const Data& d) {
    ember::manual_seed(0);
    model = std::make_shared<ember::models::CTRModel>(
        ember::models::CTRConfig{.type = "deepfm", .slots = d.slots, .num_ids = d.num_ids});
    opt = std::make_unique<ember::optim::Adam>(model->parameters(),
                                               ember::optim::AdamOptions{.lr = 1e-3});
  }
  void step(const ember::Tensor& x, const ember::Tensor& y) {
    opt->zero_grad();
    const ember::Tensor logits = model->forward(x);
    ember::Tensor loss =
        ember::nn::functional::binary_cross_entropy_with_logits(logits, y.unsqueeze(1));
    loss.backward();
    opt->step();
  }
  // Bytes of the tables, their gradients and their Adam buffers.
  std::vector<int64_t> bytes() const {
    std::vector<int64_t> b(3, 0);
    for (const ember::Tensor& p : {model->linear->weight, model->embedding->weight}) {
      b[0] += p.numel() * 4;
      if (p.grad().defined()) b[1] += p.grad().numel() * 4;
      for (const std::string& n : opt->state_names()) {
        const ember::Tensor s = opt->state_buffer(p, n);
        if (s.defined()) b[2] += s.numel() * static_cast<int64_t>(s.element_size());
      }
    }
    return b;
  }
};

struct TorchTrainer {
  std::shared_ptr<TorchDeepFM> model;
  std::unique_ptr<torch::optim::Adam> opt;
  explicit TorchTrainer(const Data& d) {
    torch::manual_seed(0);
    model = std::make_shared<TorchDeepFM>(d.slots, d.num_ids);
    opt =
        std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  }
  bool bf16 = false;  // forward under CPU autocast to bfloat16, as torch.autocast("cpu")
  void step(const torch::Tensor& x, const torch::Tensor& y) {
    opt->zero_grad();
    at::autocast::set_cpu_enabled(bf16);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    const torch::Tensor logits = model->forward(x).to(torch::kFloat32);
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    torch::nn::functional::binary_cross_entropy_with_logits(logits, y.unsqueeze(1)).backward();
    opt->step();
  }
  std::vector<int64_t> bytes() const {
    std::vector<int64_t> b(3, 0);
    for (const torch::Tensor& p : {model->linear->weight, model->embedding->weight}) {
      b[0] += p.nbytes();
      if (p.grad().defined()) b[1] += p.grad().nbytes();
      const auto it = opt->state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (it == opt->state().end()) continue;
      const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
      b[2] += s.exp_avg().nbytes() + s.exp_avg_sq().nbytes();
      if (s.max_exp_avg_sq().defined()) b[2] += s.max_exp_avg_sq().nbytes();
    }
    return b;
  }
};

// Max |logit difference| / max |logit| of the two models on a batch after copying Ember's weights
// into the libtorch model (random weights; the parameter names are the same): a check that both
// compute the same DeepFM.
double max_logit_difference(const Data& d) {
  EmberTrainer e(d);
  TorchTrainer t(d);
  torch::NoGradGuard ng;
  auto params = t.model->named_parameters();
  for (const auto& [name, p] : e.model->named_parameters()) {
    ember::nn::init::normal_(p, 0.0, 0.1);  // all parts non-trivial (first-order weights are 0)
    if (params.find(name) == nullptr) throw std::runtime_error("libtorch model has no " + name);
    params[name].copy_(bench::to_torch(p));
  }
  const torch::Tensor ours = bench::to_torch(e.model->forward(d.ex[0]));
  const torch::Tensor theirs = t.model->forward(d.tx[0]);
  return (ours - theirs).abs().max().item<double>() / theirs.abs().max().item<double>();
}

struct Stats {
  double median, min, max;
};
Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

void print_train(const char* impl, const std::vector<double>& per_step) {
  const Stats s = stats_of(per_step);
  std::printf("TRAIN\t%s\t%.6f\t%.6f\t%.6f\t%.0f\n", impl, s.median, s.min, s.max,
              static_cast<double>(kBatch) / s.median);
  std::fflush(stdout);
}

void print_mem(const char* impl, const std::vector<int64_t>& b) {
  std::printf("MEM\t%s\t%lld\t%lld\t%lld\n", impl, static_cast<long long>(b[0]),
              static_cast<long long>(b[1]), static_cast<long long>(b[2]));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string dir, only;
    int reps = 7, steps = 50;
    bool bf16 = false;  // Ember at set_float32_matmul_precision("medium"), libtorch autocast
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--bf16") {
        bf16 = true;
      } else if ((a == "--reps" || a == "--steps" || a == "--only") && i + 1 < argc) {
        const std::string v = argv[++i];
        if (a == "--only")
          only = v;
        else
          (a == "--reps" ? reps : steps) = std::max(1, std::atoi(v.c_str()));
      } else if (!a.empty() && a[0] != '-' && dir.empty()) {
        dir = a;
      } else {
        std::fprintf(stderr,
                     "usage: deepfm_bench [DIR] [--reps R] [--steps N] "
                     "[--only ember|libtorch] [--bf16]\n");
        return 2;
      }
    }
    if (!only.empty() && only != "ember" && only != "libtorch") {
      std::fprintf(stderr, "deepfm_bench: --only takes ember or libtorch, got '%s'\n",
                   only.c_str());
      return 2;
    }
    Data d;
    if (dir.empty()) {
      synthetic_layout(d);
      synthetic_batches(d);
    } else {
      load_prepared(d, dir);
    }
    std::printf("# DeepFM batch %lld: %zu fields, %lld slots, %lld ids (%s); %d x %d steps each\n",
                static_cast<long long>(kBatch), d.slots.size(),
                static_cast<long long>(num_slots(d.slots)), static_cast<long long>(d.num_ids),
                dir.empty() ? "random ids" : dir.c_str(), reps, steps);
    std::printf("AGREE\tmax |logit difference| / max |logit|, same weights\t%.3g\n",
                max_logit_difference(d));
    EmberTrainer e(d);
    TorchTrainer t(d);
    t.bf16 = bf16;
    if (bf16) ember::set_float32_matmul_precision("medium");
    int ie = 0, it = 0;
    const auto ember_step = [&] {
      e.step(d.ex[ie % kBatches], d.ey[ie % kBatches]);
      ++ie;
    };
    const auto torch_step = [&] {
      t.step(d.tx[it % kBatches], d.ty[it % kBatches]);
      ++it;
    };
    std::vector<double> te, tt;
    for (int w = 0; w < 5; ++w) {  // warm-up: caches, allocator pools, Adam state
      if (only != "libtorch") ember_step();
      if (only != "ember") torch_step();
    }
    for (int r = 0; r < reps; ++r) {
      if (only != "libtorch") te.push_back(bench::seconds_of(ember_step, steps));
      if (only != "ember") tt.push_back(bench::seconds_of(torch_step, steps));
    }
    if (only != "libtorch") print_train(bf16 ? "ember-bf16" : "ember", te);
    if (only != "ember") print_train(bf16 ? "libtorch-bf16" : "libtorch", tt);
    if (only.empty())
      std::printf("RATIO\tember/libtorch\t%.3f\n", stats_of(tt).median / stats_of(te).median);
    print_mem("ember", e.bytes());
    print_mem("libtorch", t.bytes());
    std::fflush(stdout);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "deepfm_bench: %s\n", ex.what());
    return 1;
  }
  return 0;
}

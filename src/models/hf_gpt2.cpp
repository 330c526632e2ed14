// Hugging Face GPT-2 import and export (Note [Hugging Face GPT-2 layout] in ember/models/hf.h).
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/core/strings.h"
#include "ember/io/file.h"
#include "ember/io/json.h"
#include "ember/io/safetensors.h"
#include "ember/models/hf.h"
#include "ember/nn/init.h"
#include "models/hf_config.h"

namespace ember::models {

namespace fs = std::filesystem;

namespace {

using hf::bool_key;
using hf::int_key;
using hf::member;
using hf::number_key;
using hf::shape_string;

constexpr const char* kBody = "transformer.";  // GPT2LMHeadModel's prefix of the GPT2Model part

// The projections HF implements as Conv1D, whose weights are (in, out).
bool is_conv1d_weight(const std::string& name) {
  return name.ends_with("attn.c_attn.weight") || name.ends_with("attn.c_proj.weight") ||
         name.ends_with("mlp.c_fc.weight") || name.ends_with("mlp.c_proj.weight");
}

// HF's causal-mask buffers: state, not weights.
bool is_mask_buffer(const std::string& name) {
  return name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias");
}

// ---- config.json ----

GPTConfig read_config(const std::string& path) {
  const json::Value cfg = json::parse_file(path);
  EMBER_CHECK_T(ConfigError, cfg.is_object(), path, ": expected a JSON object");
  if (const json::Value* t = member(cfg, "model_type"))
    EMBER_CHECK_T(ConfigError, t->is_string() && t->as_string() == "gpt2", path, ": model_type is ",
                  t->dump(), "; only \"gpt2\" is supported");
  GPTConfig c;
  c.n_layer = int_key(cfg, "n_layer", path);
  c.n_head = int_key(cfg, "n_head", path);
  c.n_embd = int_key(cfg, "n_embd", path);
  c.vocab_size = int_key(cfg, "vocab_size", path);
  c.block_size = int_key(cfg, "n_positions", path, std::nullopt, 1, "n_ctx");
  c.layer_norm_eps = number_key(cfg, "layer_norm_epsilon", 1e-5, path);
  c.dropout = number_key(cfg, "resid_pdrop", 0.1, path);
  c.tie_weights = bool_key(cfg, "tie_word_embeddings", true, path);
  c.bias = true;
  EMBER_CHECK_T(ConfigError, c.n_embd % c.n_head == 0, path, ": n_embd = ", c.n_embd,
                " is not a multiple of n_head = ", c.n_head);
  EMBER_CHECK_T(ConfigError, c.layer_norm_eps > 0, path, ": layer_norm_epsilon must be > 0, got ",
                c.layer_norm_eps);
  EMBER_CHECK_T(ConfigError, c.dropout >= 0 && c.dropout < 1, path,
                ": resid_pdrop must be in [0, 1), got ", c.dropout);

  // Options of HF's GPT-2 that Ember's GPT does not implement.
  if (const json::Value* a = member(cfg, "activation_function"))
    EMBER_CHECK_T(ConfigError, a->is_string() && a->as_string() == "gelu_new", path,
                  ": activation_function is ", a->dump(),
                  "; Ember's GPT implements only \"gelu_new\" (GELU, tanh approximation)");
  if (const json::Value* n = member(cfg, "n_inner"))
    EMBER_CHECK_T(ConfigError, n->is_int() && n->as_int() == 4 * c.n_embd, path, ": n_inner is ",
                  n->dump(), "; Ember's GPT needs null or 4 * n_embd = ", 4 * c.n_embd);
  EMBER_CHECK_T(ConfigError, !bool_key(cfg, "add_cross_attention", false, path), path,
                ": add_cross_attention = true is not supported");
  EMBER_CHECK_T(ConfigError, !bool_key(cfg, "scale_attn_by_inverse_layer_idx", false, path), path,
                ": scale_attn_by_inverse_layer_idx = true is not supported");
  EMBER_CHECK_T(ConfigError, bool_key(cfg, "scale_attn_weights", true, path), path,
                ": scale_attn_weights = false is not supported");
  return c;
}

std::string config_summary(const GPTConfig& c) {
  return "n_layer = " + std::to_string(c.n_layer) + ", n_head = " + std::to_string(c.n_head) +
         ", n_embd = " + std::to_string(c.n_embd) +
         ", vocab_size = " + std::to_string(c.vocab_size) +
         ", n_positions = " + std::to_string(c.block_size);
}

// ---- tensors ----

// Fills the tensors of a fresh GPT(cfg) from the HF file. Every name, shape and dtype is checked
// before any data is read; then the tensors are read one at a time (the file is read, not
// mapped) and copied into the model's own, Conv1D weights transposed on the way, so that at most
// one tensor of the file is in memory besides the model.
void load_tensors(const io::SafeTensorsFile& f, GPT& model, const std::string& config_path) {
  const GPTConfig& cfg = model.config;
  const std::string& path = f.path();
  const std::vector<std::string> keys = f.keys();
  const bool prefixed = std::any_of(keys.begin(), keys.end(),
                                    [](const std::string& k) { return k.starts_with(kBody); });
  const std::string prefix = prefixed ? kBody : "";
  const nn::StateDict ours = model.state_dict();          // views of the model's tensors
  std::vector<std::pair<std::string, std::string>> plan;  // (our name, the file's name)
  std::set<std::string> used;
  std::vector<std::string> missing;
  for (const auto& [name, t] : ours) {
    if (name == "lm_head.weight" && cfg.tie_weights) continue;  // wte's tensor
    const std::string hf = name.starts_with(kBody)
                               ? prefix + name.substr(std::char_traits<char>::length(kBody))
                               : name;
    if (!f.contains(hf)) {
      missing.push_back(hf);
      continue;
    }
    used.insert(hf);
    const io::SafeTensorInfo& info = f.info(hf);
    Shape expected = t.shape();
    if (is_conv1d_weight(name)) std::swap(expected[0], expected[1]);
    EMBER_CHECK_SHAPE(info.shape == expected, path, ": tensor \"", hf, "\" has shape ",
                      shape_string(info.shape), ", expected ", shape_string(expected), " for ",
                      config_path, " (", config_summary(cfg), ")");
    EMBER_CHECK_DTYPE(info.dtype == kFloat32 || info.dtype == kFloat64 || info.dtype == kBFloat16,
                      path, ": tensor \"", hf, "\" has dtype ", info.dtype,
                      ", expected a floating type (F32, F64 or BF16)");
    plan.emplace_back(name, hf);
  }
  std::vector<std::string> unexpected;
  for (const std::string& k : keys) {
    if (used.count(k) || is_mask_buffer(k)) continue;
    if (k == "lm_head.weight" && cfg.tie_weights) continue;  // HF also ties it to wte on load
    unexpected.push_back(k);
  }
  if (!missing.empty() || !unexpected.empty())
    EMBER_THROW(IOError, path, ": does not hold a GPT-2 of ", config_path, " (",
                config_summary(cfg), ")",
                missing.empty() ? std::string() : "; missing tensors: " + join(missing),
                unexpected.empty() ? std::string() : "; unexpected tensors: " + join(unexpected));
  NoGradGuard no_grad;
  for (const auto& [name, hf] : plan) {
    const Tensor t = f.get(hf);
    Tensor dst = *ours.find(name);
    dst.copy_(is_conv1d_weight(name) ? t.transpose(0, 1) : t);
  }
}

std::unique_ptr<data::Tokenizer> read_tokenizer(const fs::path& d) {
  auto file = [&](const char* n) { return fs::is_regular_file(d / n); };
  if (file("encoder.json") && file("vocab.bpe"))
    return std::make_unique<data::BpeTokenizer>(
        data::BpeTokenizer::from_files((d / "encoder.json").string(), (d / "vocab.bpe").string()));
  if (file("vocab.json") && file("merges.txt"))
    return std::make_unique<data::BpeTokenizer>(
        data::BpeTokenizer::from_files((d / "vocab.json").string(), (d / "merges.txt").string()));
  if (file("tokenizer.json")) {
    // Ember's character tokenizer, or Hugging Face's tokenizers format (not read here).
    const json::Value t = json::parse_file((d / "tokenizer.json").string());
    const json::Value* type = t.is_object() ? t.find("type") : nullptr;
    if (type != nullptr && type->is_string() && type->as_string() == "char")
      return std::make_unique<data::CharTokenizer>(
          data::CharTokenizer::from_file((d / "tokenizer.json").string()));
  }
  return nullptr;
}

}  // namespace

bool is_hf_model_dir(const std::string& dir) {
  const fs::path d(dir);
  return fs::is_regular_file(d / "config.json") && fs::is_regular_file(d / "model.safetensors") &&
         !fs::exists(d / "run.json");
}

HFGPT2 load_hf_gpt2(const std::string& dir) {
  const fs::path d(dir);
  const hf::ModelFiles files = hf::model_files(dir, "load_hf_gpt2");
  const std::string& config_path = files.config;
  const std::string& weights_path = files.weights;
  HFGPT2 out;
  out.config = read_config(config_path);
  {
    nn::init::NoInitGuard no_init;  // every tensor comes from the file (lm_head: tied to wte)
    out.model = std::make_shared<GPT>(out.config);
  }
  load_tensors(io::SafeTensorsFile(weights_path, /*mmap=*/false), *out.model, config_path);
  out.model->eval();
  out.tokenizer = read_tokenizer(d);
  if (out.tokenizer)
    EMBER_CHECK_T(ConfigError, out.tokenizer->vocab_size() <= out.config.vocab_size,
                  "load_hf_gpt2: the tokenizer in ", dir, " has ", out.tokenizer->vocab_size(),
                  " tokens, more than the model's vocab_size = ", out.config.vocab_size);
  return out;
}

void save_hf_gpt2(const GPT& model, const data::Tokenizer* tok, const std::string& dir) {
  const GPTConfig& c = model.config;
  EMBER_CHECK_T(ConfigError, c.bias,
                "save_hf_gpt2: Hugging Face GPT-2 always has biases; this "
                "GPT has bias = false");
  if (tok != nullptr)
    EMBER_CHECK_T(ValueError, tok->vocab_size() <= c.vocab_size, "save_hf_gpt2: the tokenizer has ",
                  tok->vocab_size(), " tokens, more than the model's vocab_size = ", c.vocab_size);
  fs::create_directories(dir);
  const fs::path d(dir);

  // model.safetensors: HF names and layout, float32 unless the model is float64 or bfloat16.
  io::NamedTensors tensors;
  DType dtype = kFloat32;
  {
    NoGradGuard no_grad;
    for (const auto& [name, t] : model.state_dict()) {
      if (name == "lm_head.weight" && c.tie_weights) continue;
      dtype = t.dtype();
      tensors.emplace_back(name, is_conv1d_weight(name) ? t.transpose(0, 1).contiguous() : t);
    }
  }
  io::save_safetensors((d / "model.safetensors").string(), tensors, {{"format", "pt"}});

  // The tokenizer.
  int64_t eos = -1;
  json::Value ember_note;
  if (const auto* bpe = dynamic_cast<const data::BpeTokenizer*>(tok)) {
    bpe->save(dir);
    io::write_file_atomic((d / "vocab.json").string(),
                          io::read_file((d / "encoder.json").string()));
    io::write_file_atomic((d / "merges.txt").string(), io::read_file((d / "vocab.bpe").string()));
    json::Value tc = json::Value::object();
    tc["tokenizer_class"] = "GPT2Tokenizer";
    tc["model_max_length"] = c.block_size;
    tc["add_prefix_space"] = false;
    for (const auto& [text, id] : bpe->special_tokens())
      if (text == "<|endoftext|>") eos = id;
    for (const char* key : {"bos_token", "eos_token", "unk_token"})
      tc[key] = eos >= 0 ? json::Value("<|endoftext|>") : json::Value();
    json::write_file((d / "tokenizer_config.json").string(), tc);
  } else if (tok != nullptr) {
    tok->save(dir);
    ember_note =
        "tokenizer.json is Ember's " + tok->kind() +
        " tokenizer (load it with ember::data::load_tokenizer); transformers cannot read it";
  }

  json::Value cfg = json::Value::object();
  cfg["architectures"] = json::Array{"GPT2LMHeadModel"};
  cfg["model_type"] = "gpt2";
  cfg["activation_function"] = "gelu_new";
  cfg["attn_pdrop"] = c.dropout;
  cfg["embd_pdrop"] = c.dropout;
  cfg["resid_pdrop"] = c.dropout;
  cfg["bos_token_id"] = eos >= 0 ? json::Value(eos) : json::Value();
  cfg["eos_token_id"] = eos >= 0 ? json::Value(eos) : json::Value();
  cfg["initializer_range"] = 0.02;
  cfg["layer_norm_epsilon"] = c.layer_norm_eps;
  cfg["n_ctx"] = c.block_size;
  cfg["n_embd"] = c.n_embd;
  cfg["n_head"] = c.n_head;
  cfg["n_inner"] = nullptr;
  cfg["n_layer"] = c.n_layer;
  cfg["n_positions"] = c.block_size;
  cfg["scale_attn_weights"] = true;
  cfg["tie_word_embeddings"] = c.tie_weights;
  cfg["torch_dtype"] = dtype == kFloat64 ? "float64" : dtype == kBFloat16 ? "bfloat16" : "float32";
  cfg["use_cache"] = true;
  cfg["vocab_size"] = c.vocab_size;
  if (!ember_note.is_null()) cfg["ember_tokenizer"] = ember_note;
  json::write_file((d / "config.json").string(), cfg);
}

}  // namespace ember::models

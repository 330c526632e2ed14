// Hugging Face BERT import and export (Note [Hugging Face BERT layout] in ember/models/hf.h).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <set>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/core/strings.h"
#include "ember/io/json.h"
#include "ember/io/safetensors.h"
#include "ember/models/hf.h"
#include "models/hf_config.h"

namespace ember::models {

namespace fs = std::filesystem;

namespace {

using hf::bool_key;
using hf::int_key;
using hf::member;
using hf::number_key;
using hf::shape_string;

constexpr const char* kBert = "bert.";  // the BertModel part of BertForSequenceClassification

// ---- config.json ----

BertConfig read_config(const std::string& path) {
  const json::Value cfg = json::parse_file(path);
  EMBER_CHECK_T(ConfigError, cfg.is_object(), path, ": expected a JSON object");
  if (const json::Value* t = member(cfg, "model_type"))
    EMBER_CHECK_T(ConfigError, t->is_string() && t->as_string() == "bert", path, ": model_type is ",
                  t->dump(), "; only \"bert\" is supported");
  BertConfig c;  // HF's defaults for absent keys
  c.vocab_size = int_key(cfg, "vocab_size", path, c.vocab_size);
  c.hidden_size = int_key(cfg, "hidden_size", path, c.hidden_size);
  c.num_hidden_layers = int_key(cfg, "num_hidden_layers", path, c.num_hidden_layers);
  c.num_attention_heads = int_key(cfg, "num_attention_heads", path, c.num_attention_heads);
  c.intermediate_size = int_key(cfg, "intermediate_size", path, c.intermediate_size);
  c.max_position_embeddings =
      int_key(cfg, "max_position_embeddings", path, c.max_position_embeddings);
  c.type_vocab_size = int_key(cfg, "type_vocab_size", path, c.type_vocab_size);
  c.pad_token_id = int_key(cfg, "pad_token_id", path, c.pad_token_id, 0);
  c.hidden_dropout_prob = number_key(cfg, "hidden_dropout_prob", c.hidden_dropout_prob, path);
  c.attention_probs_dropout_prob =
      number_key(cfg, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, path);
  c.layer_norm_eps = number_key(cfg, "layer_norm_eps", c.layer_norm_eps, path);
  c.initializer_range = number_key(cfg, "initializer_range", c.initializer_range, path);
  if (member(cfg, "classifier_dropout") != nullptr)
    c.classifier_dropout = number_key(cfg, "classifier_dropout", 0.0, path);
  if (const json::Value* a = member(cfg, "hidden_act")) {
    const std::string act = a->is_string() ? a->as_string() : a->dump();
    EMBER_CHECK_T(ConfigError,
                  act == "gelu" || act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "relu",
                  path, ": hidden_act is ", a->dump(),
                  "; Ember's BERT implements \"gelu\", \"gelu_new\" (or \"gelu_pytorch_tanh\") "
                  "and \"relu\"");
    c.hidden_act = act == "gelu_pytorch_tanh" ? "gelu_new" : act;
  }
  // num_labels: the size of id2label (what PretrainedConfig derives it from), else "num_labels".
  if (const json::Value* labels = member(cfg, "id2label")) {
    EMBER_CHECK_T(ConfigError, labels->is_object() && labels->size() >= 1, path,
                  ": \"id2label\" must be a non-empty object, got ", labels->dump());
    c.num_labels = static_cast<int64_t>(labels->size());
    for (int64_t i = 0; i < c.num_labels; ++i) {
      const json::Value* name = labels->find(std::to_string(i));
      EMBER_CHECK_T(ConfigError, name != nullptr && name->is_string(), path,
                    ": \"id2label\" must map \"0\" ... \"", c.num_labels - 1,
                    "\" to label names, got ", labels->dump());
      c.id2label.push_back(name->as_string());
    }
    // HF's default names are what an empty id2label means.
    bool defaults = true;
    for (int64_t i = 0; i < c.num_labels; ++i)
      defaults = defaults && c.id2label[static_cast<size_t>(i)] == "LABEL_" + std::to_string(i);
    if (defaults) c.id2label.clear();
  } else {
    c.num_labels = int_key(cfg, "num_labels", path, 2);
  }

  // Options of HF's BERT that Ember's BertModel does not implement.
  if (const json::Value* p = member(cfg, "position_embedding_type"))
    EMBER_CHECK_T(ConfigError, p->is_string() && p->as_string() == "absolute", path,
                  ": position_embedding_type is ", p->dump(),
                  "; Ember's BERT implements only \"absolute\" position embeddings");
  EMBER_CHECK_T(ConfigError, !bool_key(cfg, "is_decoder", false, path), path,
                ": is_decoder = true is not supported (BERT as an encoder only)");
  EMBER_CHECK_T(ConfigError, !bool_key(cfg, "add_cross_attention", false, path), path,
                ": add_cross_attention = true is not supported");

  EMBER_CHECK_T(ConfigError, c.hidden_size % c.num_attention_heads == 0, path,
                ": hidden_size = ", c.hidden_size,
                " is not a multiple of num_attention_heads = ", c.num_attention_heads);
  EMBER_CHECK_T(ConfigError, c.pad_token_id < c.vocab_size, path,
                ": pad_token_id = ", c.pad_token_id, " is not below vocab_size = ", c.vocab_size);
  EMBER_CHECK_T(ConfigError, c.layer_norm_eps > 0, path, ": layer_norm_eps must be > 0, got ",
                c.layer_norm_eps);
  for (const auto& [key, p] : {std::pair{"hidden_dropout_prob", c.hidden_dropout_prob},
                               {"attention_probs_dropout_prob", c.attention_probs_dropout_prob},
                               {"classifier_dropout", c.classifier_dropout.value_or(0.0)}})
    EMBER_CHECK_T(ConfigError, p >= 0 && p < 1, path, ": ", key, " must be in [0, 1), got ", p);
  return c;
}

std::string config_summary(const BertConfig& c) {
  return "vocab_size = " + std::to_string(c.vocab_size) +
         ", hidden_size = " + std::to_string(c.hidden_size) +
         ", num_hidden_layers = " + std::to_string(c.num_hidden_layers) +
         ", intermediate_size = " + std::to_string(c.intermediate_size) +
         ", max_position_embeddings = " + std::to_string(c.max_position_embeddings) +
         ", type_vocab_size = " + std::to_string(c.type_vocab_size) +
         ", num_labels = " + std::to_string(c.num_labels);
}

// ---- tensors ----

// HF's older LayerNorm names: gamma for weight, beta for bias.
std::string legacy_name(const std::string& hf) {
  if (hf.ends_with("LayerNorm.weight")) return hf.substr(0, hf.size() - 6) + "gamma";
  if (hf.ends_with("LayerNorm.bias")) return hf.substr(0, hf.size() - 4) + "beta";
  return "";
}

// Buffers of HF's BertEmbeddings, not weights.
bool is_skipped(const std::string& name, const std::string& prefix) {
  return name == prefix + "embeddings.position_ids" || name == prefix + "embeddings.token_type_ids";
}

// The groups a checkpoint may lack as a whole; they then keep their fresh initialisation.
bool is_optional_group(const std::string& name) {
  return name.starts_with("classifier.") || name.starts_with("bert.pooler.");
}

// Ember's state dict of model (freshly initialised), filled from the HF file.
nn::StateDict read_tensors(const io::SafeTensorsFile& f, const BertForSequenceClassification& model,
                           const std::string& config_path) {
  const BertConfig& cfg = model.config;
  const std::string& path = f.path();
  const std::vector<std::string> keys = f.keys();
  const bool prefixed = std::any_of(keys.begin(), keys.end(),
                                    [](const std::string& k) { return k.starts_with(kBert); });
  const std::string prefix = prefixed ? kBert : "";
  auto hf_name = [&](const std::string& ours) {
    return ours.starts_with(kBert) ? prefix + ours.substr(std::char_traits<char>::length(kBert))
                                   : ours;
  };
  nn::StateDict sd;
  std::set<std::string> used;
  std::vector<std::pair<std::string, Tensor>> absent;  // (Ember name, fresh tensor)
  for (const auto& [name, ours] : model.state_dict()) {
    std::string hf = hf_name(name);
    if (!f.contains(hf) && f.contains(legacy_name(hf))) hf = legacy_name(hf);
    if (!f.contains(hf)) {
      absent.emplace_back(name, ours);
      continue;
    }
    used.insert(hf);
    const io::SafeTensorInfo& info = f.info(hf);
    EMBER_CHECK_SHAPE(info.shape == ours.shape(), path, ": tensor \"", hf, "\" has shape ",
                      shape_string(info.shape), ", expected ", shape_string(ours.shape()), " for ",
                      config_path, " (", config_summary(cfg), ")");
    EMBER_CHECK_DTYPE(info.dtype == kFloat32 || info.dtype == kFloat64 || info.dtype == kBFloat16,
                      path, ": tensor \"", hf, "\" has dtype ", info.dtype,
                      ", expected a floating type (F32, F64 or BF16)");
    sd.insert(name, f.get(hf).to(kFloat32).contiguous());
  }
  // A group (classifier, pooler) absent as a whole keeps its initialisation, as in HF.
  std::vector<std::string> missing, fresh;
  for (const auto& [name, t] : absent) {
    const std::string group = name.substr(0, name.rfind('.') + 1);
    const bool whole_group = is_optional_group(name) &&
                             std::none_of(used.begin(), used.end(), [&](const std::string& k) {
                               return k.starts_with(hf_name(group));
                             });
    if (whole_group) {
      fresh.push_back(name);
      sd.insert(name, t);
    } else {
      missing.push_back(hf_name(name));
    }
  }
  std::vector<std::string> unexpected, ignored;
  for (const std::string& k : keys) {
    if (used.count(k)) continue;
    if (k.starts_with("cls."))  // BertForPreTraining's heads, unused by a classifier
      ignored.push_back(k);
    else if (!is_skipped(k, prefix))
      unexpected.push_back(k);
  }
  if (!missing.empty() || !unexpected.empty())
    EMBER_THROW(IOError, path, ": does not hold a BERT of ", config_path, " (", config_summary(cfg),
                ")", missing.empty() ? std::string() : "; missing tensors: " + join(missing),
                unexpected.empty() ? std::string() : "; unexpected tensors: " + join(unexpected));
  if (!fresh.empty())
    std::cerr << "ember: warning: " << path << " has no " << join(fresh)
              << "; they are freshly initialised (train the model before using its outputs)\n";
  if (!ignored.empty())
    std::cerr << "ember: warning: " << path << ": ignoring " << ignored.size()
              << " tensors of BERT's pre-training heads (cls.*)\n";
  return sd;
}

}  // namespace

BertConfig read_hf_bert_config(const std::string& config_json) {
  EMBER_CHECK_IO(fs::is_regular_file(config_json), "read_hf_bert_config: ", config_json,
                 " not found");
  return read_config(config_json);
}

HFBert load_hf_bert(const std::string& dir) {
  const fs::path d(dir);
  const hf::ModelFiles files = hf::model_files(dir, "load_hf_bert");
  const std::string& config_path = files.config;
  const std::string& weights_path = files.weights;
  HFBert out;
  out.config = read_config(config_path);
  out.model = std::make_shared<BertForSequenceClassification>(out.config);
  const io::SafeTensorsFile f(weights_path);
  out.model->load_state_dict(read_tensors(f, *out.model, config_path));
  out.model->eval();
  if (fs::is_regular_file(d / "vocab.txt")) {
    bool lower = true;
    const fs::path tc = d / "tokenizer_config.json";
    if (fs::is_regular_file(tc))
      lower = bool_key(json::parse_file(tc.string()), "do_lower_case", true, tc.string());
    out.tokenizer = std::make_unique<data::WordPieceTokenizer>(
        data::WordPieceTokenizer::from_file((d / "vocab.txt").string(), lower));
    EMBER_CHECK_T(ConfigError, out.tokenizer->vocab_size() <= out.config.vocab_size,
                  "load_hf_bert: the vocab.txt in ", dir, " has ", out.tokenizer->vocab_size(),
                  " tokens, more than the model's vocab_size = ", out.config.vocab_size);
  }
  return out;
}

void save_hf_bert(const BertForSequenceClassification& model, const std::string& dir,
                  const data::WordPieceTokenizer* tok) {
  const BertConfig& c = model.config;
  if (tok != nullptr)
    EMBER_CHECK_T(ValueError, tok->vocab_size() <= c.vocab_size, "save_hf_bert: the tokenizer has ",
                  tok->vocab_size(), " tokens, more than the model's vocab_size = ", c.vocab_size);
  fs::create_directories(dir);
  const fs::path d(dir);

  // model.safetensors: HF's names ("bert." prefix), float32.
  io::NamedTensors tensors;
  {
    NoGradGuard no_grad;
    for (const auto& [name, t] : model.state_dict())
      tensors.emplace_back(name, t.to(kFloat32).contiguous());
  }
  io::save_safetensors((d / "model.safetensors").string(), tensors, {{"format", "pt"}});

  json::Value cfg = json::Value::object();
  cfg["architectures"] = json::Array{"BertForSequenceClassification"};
  cfg["model_type"] = "bert";
  cfg["attention_probs_dropout_prob"] = c.attention_probs_dropout_prob;
  cfg["classifier_dropout"] =
      c.classifier_dropout ? json::Value(*c.classifier_dropout) : json::Value();
  cfg["hidden_act"] = c.hidden_act;
  cfg["hidden_dropout_prob"] = c.hidden_dropout_prob;
  cfg["hidden_size"] = c.hidden_size;
  json::Value id2label = json::Value::object(), label2id = json::Value::object();
  for (int64_t i = 0; i < c.num_labels; ++i) {
    const std::string label = static_cast<int64_t>(c.id2label.size()) == c.num_labels
                                  ? c.id2label[static_cast<size_t>(i)]
                                  : "LABEL_" + std::to_string(i);
    id2label[std::to_string(i)] = label;
    label2id[label] = i;
  }
  cfg["id2label"] = id2label;
  cfg["initializer_range"] = c.initializer_range;
  cfg["intermediate_size"] = c.intermediate_size;
  cfg["label2id"] = label2id;
  cfg["layer_norm_eps"] = c.layer_norm_eps;
  cfg["max_position_embeddings"] = c.max_position_embeddings;
  cfg["num_attention_heads"] = c.num_attention_heads;
  cfg["num_hidden_layers"] = c.num_hidden_layers;
  cfg["pad_token_id"] = c.pad_token_id;
  cfg["position_embedding_type"] = "absolute";
  cfg["torch_dtype"] = "float32";
  cfg["type_vocab_size"] = c.type_vocab_size;
  cfg["use_cache"] = true;
  cfg["vocab_size"] = c.vocab_size;
  json::write_file((d / "config.json").string(), cfg);

  if (tok != nullptr) {
    tok->save(dir);
    json::Value tc = json::Value::object();
    tc["tokenizer_class"] = "BertTokenizer";
    tc["do_lower_case"] = tok->do_lower_case();
    tc["model_max_length"] = c.max_position_embeddings;
    for (const char* key : {"cls_token", "sep_token", "pad_token", "unk_token", "mask_token"}) {
      std::string name = key;
      name = "[" + name.substr(0, name.find('_')) + "]";
      for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      tc[key] = name;
    }
    json::write_file((d / "tokenizer_config.json").string(), tc);
  }
}

}  // namespace ember::models

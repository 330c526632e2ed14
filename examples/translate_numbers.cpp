// Translation with an encoder-decoder Transformer: numbers (0 to 999,999,999) to English words and
// back ("4071" <-> "four thousand seventy-one"), with greedy and beam-search decoding evaluated
// on 1,000 held-out numbers per direction.
#include <ember/data/number_words.h>
#include <ember/ember.h>
#include <ember/io/safetensors.h>
#include <ember/io/state_dict.h>
#include <ember/models/seq2seq.h>
#include <ember/train/progress.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

using namespace ember;
using data::NumberWordsTask;
using data::TranslationDirection;

namespace {

constexpr int64_t kMaxTokens = 24;  // longest target: 17 word tokens + <eos>; sources one more

struct RunOptions {
  int64_t steps = 1200, batch = 64, d_model = 128, layers = 2, heads = 4, ff = 512;
  double lr = 2e-3, dropout = 0.0, length_penalty = 1.0, clip = 1.0;
  int64_t warmup = 100, beam = 4, eval_every = 300, seed = 1, test_size = 1000, examples = 3;
  std::string out = "runs/translate_numbers";
  bool eval_only = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::map<std::string, std::string> config_metadata(const models::Seq2SeqConfig& c) {
  return {{"format", "ember.seq2seq.v1"},
          {"vocab_size", std::to_string(c.src_vocab_size)},
          {"d_model", std::to_string(c.d_model)},
          {"nhead", std::to_string(c.nhead)},
          {"num_encoder_layers", std::to_string(c.num_encoder_layers)},
          {"num_decoder_layers", std::to_string(c.num_decoder_layers)},
          {"dim_feedforward", std::to_string(c.dim_feedforward)},
          {"max_len", std::to_string(c.max_len)},
          {"norm_first", c.norm_first ? "true" : "false"}};
}

models::Seq2SeqConfig config_from_metadata(const std::map<std::string, std::string>& m,
                                           const std::string& path) {
  auto get = [&](const char* key) {
    const auto it = m.find(key);
    EMBER_CHECK_T(IOError, it != m.end(), path, ": no '", key,
                  "' in the safetensors metadata (not written by translate_numbers?)");
    return it->second;
  };
  models::Seq2SeqConfig c;
  c.src_vocab_size = c.tgt_vocab_size = std::stoll(get("vocab_size"));
  c.d_model = std::stoll(get("d_model"));
  c.nhead = std::stoll(get("nhead"));
  c.num_encoder_layers = std::stoll(get("num_encoder_layers"));
  c.num_decoder_layers = std::stoll(get("num_decoder_layers"));
  c.dim_feedforward = std::stoll(get("dim_feedforward"));
  c.max_len = std::stoll(get("max_len"));
  c.norm_first = get("norm_first") == "true";
  return c;
}

// Decodes the numbers in direction d (greedy when beam == 0) and returns the predicted texts.
std::vector<std::string> translate(models::Seq2SeqTransformer& model, const NumberWordsTask& task,
                                   const std::vector<int64_t>& numbers, TranslationDirection d,
                                   int64_t beam, double length_penalty) {
  std::vector<std::string> out;
  const size_t chunk = 250;
  for (size_t start = 0; start < numbers.size(); start += chunk) {
    std::vector<std::vector<int64_t>> src;
    for (size_t i = start; i < std::min(numbers.size(), start + chunk); ++i)
      src.push_back(task.source(numbers[i], d));
    const Tensor src_t = NumberWordsTask::pad_batch(src);
    if (beam == 0) {
      for (const auto& toks : models::greedy_decode(model, src_t, kMaxTokens - 1))
        out.push_back(task.detokenize(toks));
    } else {
      for (const auto& h : models::beam_search(model, src_t, beam, kMaxTokens - 1, length_penalty))
        out.push_back(task.detokenize(h.tokens));
    }
  }
  return out;
}

double exact_match(const NumberWordsTask& task, const std::vector<int64_t>& numbers,
                   TranslationDirection d, const std::vector<std::string>& predicted) {
  int64_t ok = 0;
  for (size_t i = 0; i < numbers.size(); ++i) ok += predicted[i] == task.target_text(numbers[i], d);
  return static_cast<double>(ok) / static_cast<double>(numbers.size());
}

void train(models::Seq2SeqTransformer& model, const NumberWordsTask& task, const RunOptions& o) {
  optim::AdamW opt(model.parameters(), {.lr = o.lr, .betas = {0.9, 0.98}, .weight_decay = 0.01});
  optim::CosineAnnealingWarmup sched(opt, o.warmup, o.steps, o.lr * 0.02);
  Generator gen(static_cast<uint64_t>(o.seed) * 7919 + 17);
  // A validation set from the training distribution (never the held-out test numbers).
  std::vector<int64_t> val;
  for (int i = 0; i < 200; ++i) val.push_back(task.sample_train_number(gen));
  train::Progress progress(train::detect_progress_mode(stderr, false), o.steps, 1, 100);
  model.train();
  for (int64_t step = 1; step <= o.steps; ++step) {
    std::vector<int64_t> numbers;
    std::vector<TranslationDirection> dirs;
    for (int64_t i = 0; i < o.batch; ++i) {
      numbers.push_back(task.sample_train_number(gen));
      dirs.push_back(i % 2 ? TranslationDirection::ToNumber : TranslationDirection::ToWords);
    }
    const data::Seq2SeqBatch b = task.make_batch(numbers, dirs);
    const Tensor logits = model.forward(b.src, b.tgt_in);  // (B, T, V)
    const Tensor loss =
        nn::functional::cross_entropy(logits.reshape({-1, task.vocab_size()}),
                                      b.tgt_out.reshape({-1}), Tensor(), NumberWordsTask::kPad);
    opt.zero_grad();
    loss.backward();
    optim::clip_grad_norm_(model.parameters(), o.clip);
    opt.step();
    sched.step();
    progress.update(step, 1, loss.item());
    if (o.eval_every > 0 && (step % o.eval_every == 0 || step == o.steps)) {
      double acc = 0;
      for (auto d : {TranslationDirection::ToWords, TranslationDirection::ToNumber})
        acc += exact_match(task, val, d, translate(model, task, val, d, 0, 0)) / 2;
      model.train();
      progress.set_metric("val_exact", acc);
      char line[128];
      std::snprintf(line, sizeof line, "step %lld  loss %.4f  val exact match (greedy) %.3f",
                    static_cast<long long>(step), loss.item(), acc);
      progress.message(line);
    }
  }
  progress.finish();
}

void evaluate(models::Seq2SeqTransformer& model, const NumberWordsTask& task, const RunOptions& o) {
  std::printf("\nexact match on %lld held-out numbers per direction\n",
              static_cast<long long>(o.test_size));
  std::printf("%-10s %10s %10s %10s\n", "direction", "greedy", "beam", "seconds");
  std::vector<std::pair<std::string, std::string>> shown, wrong;
  for (auto d : {TranslationDirection::ToWords, TranslationDirection::ToNumber}) {
    const auto& nums = task.test_numbers(d);
    const auto t0 = std::chrono::steady_clock::now();
    const auto greedy = translate(model, task, nums, d, 0, 0);
    const auto beam = translate(model, task, nums, d, o.beam, o.length_penalty);
    std::printf("%-10s %10.4f %10.4f %10.1f\n", data::direction_name(d),
                exact_match(task, nums, d, greedy), exact_match(task, nums, d, beam),
                seconds_since(t0));
    for (size_t i = 0; i < nums.size(); ++i) {
      const std::string src = task.target_text(nums[i], d == TranslationDirection::ToWords
                                                            ? TranslationDirection::ToNumber
                                                            : TranslationDirection::ToWords);
      if (static_cast<int64_t>(i) < o.examples) shown.emplace_back(src, beam[i]);
      if (beam[i] != task.target_text(nums[i], d) && wrong.size() < 8)
        wrong.emplace_back(src, beam[i] + "   (expected " + task.target_text(nums[i], d) + ")");
    }
  }
  std::printf("(beam size %lld, length penalty %.2f)\n\nexamples (beam):\n",
              static_cast<long long>(o.beam), o.length_penalty);
  for (const auto& [s, p] : shown) std::printf("  %s\n    -> %s\n", s.c_str(), p.c_str());
  if (!wrong.empty()) std::printf("\nsome errors (beam):\n");
  for (const auto& [s, p] : wrong) std::printf("  %s\n    -> %s\n", s.c_str(), p.c_str());
}

int run(const RunOptions& o) {
  const NumberWordsTask task(2024, o.test_size);
  const std::string path = o.out + "/model.safetensors";
  const auto t0 = std::chrono::steady_clock::now();
  manual_seed(static_cast<uint64_t>(o.seed));
  models::Seq2SeqConfig cfg;
  if (o.eval_only) {
    cfg = config_from_metadata(io::read_safetensors_metadata(path), path);
  } else {
    cfg.src_vocab_size = cfg.tgt_vocab_size = task.vocab_size();
    cfg.d_model = o.d_model;
    cfg.nhead = o.heads;
    cfg.num_encoder_layers = cfg.num_decoder_layers = o.layers;
    cfg.dim_feedforward = o.ff;
    cfg.dropout = o.dropout;
    cfg.max_len = kMaxTokens + 2;
  }
  cfg.pad_id = NumberWordsTask::kPad;
  cfg.bos_id = NumberWordsTask::kBos;
  cfg.eos_id = NumberWordsTask::kEos;
  models::Seq2SeqTransformer model(cfg);
  std::printf(
      "model: %s, %lld parameters; one model for both directions (the first source token "
      "says which)\n",
      model.extra_repr().c_str(), static_cast<long long>(model.num_parameters()));
  if (o.eval_only) {
    io::load_state_dict(model, path);
    std::printf("loaded %s\n", path.c_str());
  } else {
    std::printf("training %lld steps of %lld sequences (half each direction)\n",
                static_cast<long long>(o.steps), static_cast<long long>(o.batch));
    train(model, task, o);
    std::printf("trained in %.1f s\n", seconds_since(t0));
    std::filesystem::create_directories(o.out);
    io::save_state_dict(model, path, config_metadata(cfg));
    std::printf("saved %s\n", path.c_str());
  }
  const auto t1 = std::chrono::steady_clock::now();
  evaluate(model, task, o);
  std::printf("\nevaluated in %.1f s; total wall time %.1f s\n", seconds_since(t1),
              seconds_since(t0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  RunOptions o;
  CLI::App app{"Train a seq2seq Transformer to translate numbers to English words and back"};
  app.add_option("--steps", o.steps, "training steps")->capture_default_str();
  app.add_option("--batch", o.batch, "sequences per step (half each direction)")
      ->capture_default_str();
  app.add_option("--d-model", o.d_model, "model width")->capture_default_str();
  app.add_option("--layers", o.layers, "encoder layers (and as many decoder layers)")
      ->capture_default_str();
  app.add_option("--heads", o.heads, "attention heads")->capture_default_str();
  app.add_option("--ff", o.ff, "feed-forward width")->capture_default_str();
  app.add_option("--dropout", o.dropout, "dropout")->capture_default_str();
  app.add_option("--lr", o.lr, "peak learning rate (AdamW, warmup then cosine)")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "warmup steps")->capture_default_str();
  app.add_option("--beam", o.beam, "beam size of the beam-search evaluation")
      ->capture_default_str();
  app.add_option("--length-penalty", o.length_penalty, "beam score = log p / length^this")
      ->capture_default_str();
  app.add_option("--eval-every", o.eval_every, "validation every N steps (0: never)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "random seed (initialisation, batches)")->capture_default_str();
  app.add_option("--test-size", o.test_size, "held-out numbers per direction")
      ->capture_default_str();
  app.add_option("--examples", o.examples, "examples to print per direction")
      ->capture_default_str();
  app.add_option("--out", o.out, "directory for model.safetensors")->capture_default_str();
  app.add_flag("--eval-only", o.eval_only, "load the model from --out and only evaluate");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the usage error
    return code == 0 ? 0 : 2;
  }
  try {
    EMBER_CHECK_T(ConfigError, o.steps >= 1 && o.batch >= 2 && o.beam >= 1 && o.test_size >= 1,
                  "translate_numbers: --steps, --batch (>= 2), --beam and --test-size must be "
                  ">= 1");
    return run(o);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

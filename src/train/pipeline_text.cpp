// Text data for language models: a corpus, its tokenizer, and windows of next-token targets.
#include <cmath>

#include "ember/data/text.h"
#include "ember/data/tokenizer.h"
#include "ember/ops/creation.h"
#include "ember/train/pipeline.h"

namespace ember::train {

namespace {

// Non-overlapping windows of ids[from, to): x[i] = ids[from + i T, + T), y[i] = x[i] shifted by
// one token. x, y: (N, T) int64.
SplitData windows(const std::vector<int64_t>& ids, size_t from, size_t to, int64_t T) {
  SplitData s;
  const auto n = to > from ? static_cast<int64_t>((to - from - 1) / static_cast<size_t>(T)) : 0;
  if (n == 0) return s;
  std::vector<int64_t> x(static_cast<size_t>(n * T)), y(static_cast<size_t>(n * T));
  for (int64_t i = 0; i < n * T; ++i) {
    x[static_cast<size_t>(i)] = ids[from + static_cast<size_t>(i)];
    y[static_cast<size_t>(i)] = ids[from + static_cast<size_t>(i) + 1];
  }
  s.x = from_vector(x).view({n, T});
  s.y = from_vector(y).view({n, T});
  for (int64_t i = 0; i < n; ++i) s.rows.push_back(i);
  return s;
}

}  // namespace

PreparedData prepare_text_data(const TrainConfig& cfg,
                               std::shared_ptr<const data::Tokenizer> tokenizer) {
  const std::string text = data::read_text(cfg.data.path);
  std::shared_ptr<const data::Tokenizer> tok =
      tokenizer ? tokenizer
      : cfg.data.tokenizer == "char"
          ? std::shared_ptr<const data::Tokenizer>(
                std::make_shared<data::CharTokenizer>(data::CharTokenizer::build(text)))
          : std::shared_ptr<const data::Tokenizer>(data::load_tokenizer(cfg.data.tokenizer));
  const std::vector<int64_t> ids = tok->encode(text);
  const int64_t T = cfg.model.block_size;
  const size_t n_val =
      static_cast<size_t>(std::llround(static_cast<double>(ids.size()) * cfg.data.val_fraction));
  const size_t n_train = ids.size() - n_val;

  PreparedData d{{},      {},     data::Preprocessor::for_text(tok->vocab_size(), T), {}, {}, {},
                 nullptr, nullptr};
  d.table.source = cfg.data.path;
  d.tokenizer = tok;
  d.train = windows(ids, 0, n_train, T);
  d.val = windows(ids, n_train, ids.size(), T);
  EMBER_CHECK_T(ConfigError, d.train.size() > 0, cfg.data.path, ": ", n_train,
                " training tokens do not fill one window of model.block_size = ", T, " + 1");
  EMBER_CHECK_T(ConfigError, n_val == 0 || d.val.size() > 0, cfg.data.path, ": ", n_val,
                " validation tokens (data.val_fraction = ", cfg.data.val_fraction,
                ") do not fill one window of model.block_size = ", T, " + 1");
  return d;
}

}  // namespace ember::train

// Text data: a corpus and its tokenizer, cut into windows of next-token targets (language models)
// or into passages labelled with their file (text classification).
#include <cmath>
#include <cstdio>

#include "core/utf8.h"
#include "ember/core/generator.h"
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

// The tokenizer of data.tokenizer: a character vocabulary of all the text (only its alphabet, so
// no character is unknown later), a BPE learned from the training text, or a saved one.
std::shared_ptr<const data::Tokenizer> make_tokenizer(const DataConfig& cfg,
                                                      std::string_view train_text,
                                                      std::string_view all_text) {
  if (cfg.tokenizer == "char")
    return std::make_shared<data::CharTokenizer>(data::CharTokenizer::build(all_text));
  if (cfg.tokenizer == "bpe")
    return std::make_shared<data::BpeTokenizer>(
        data::BpeTokenizer::train(train_text, cfg.vocab_size));
  return data::load_tokenizer(cfg.tokenizer);
}

// The largest UTF-8 character boundary <= fraction * text.size().
size_t cut_at(const std::string& text, double fraction) {
  const auto i = static_cast<size_t>(std::llround(static_cast<double>(text.size()) * fraction));
  return std::min(detail::utf8_char_start(text, i), text.size());
}

// Passages of one split and their class, as classifier inputs: [CLS] then the passage's tokens
// (cut after block_size - 1 of them), padded with [PAD]. x: (N, T) int64, y: (N) int64.
struct PassageRows {
  std::vector<int64_t> ids, labels;
  int64_t cut = 0;  // passages with more tokens than fit
  void add(const data::Tokenizer& tok, const std::string& passage, int64_t label, int64_t T) {
    const int64_t pad = tok.vocab_size(), cls = pad + 1;
    const std::vector<int64_t> t = tok.encode(passage);
    const auto n = std::min<int64_t>(static_cast<int64_t>(t.size()), T - 1);
    cut += static_cast<int64_t>(t.size()) > T - 1 ? 1 : 0;
    ids.push_back(cls);
    ids.insert(ids.end(), t.begin(), t.begin() + n);
    ids.insert(ids.end(), static_cast<size_t>(T - 1 - n), pad);
    labels.push_back(label);
  }
  SplitData split(int64_t T) const {
    SplitData s;
    const auto n = static_cast<int64_t>(labels.size());
    if (n == 0) return s;
    s.x = from_vector(ids).view({n, T});
    s.y = from_vector(labels);
    for (int64_t i = 0; i < n; ++i) s.rows.push_back(i);
    return s;
  }
};

// BERT's masked-language-model inputs (Devlin et al., 2018): 15% of the tokens of each row
// ([CLS] and [PAD] never) are chosen; 80% of those become [MASK], 10% a random token and 10% stay.
// y holds the chosen tokens and -100 (ignored by the loss) elsewhere.
void mask_tokens(SplitData& s, int64_t V, Generator& gen) {
  if (s.size() == 0) return;
  std::vector<int64_t> x = s.x.contiguous().to_vector<int64_t>();
  std::vector<int64_t> y(x.size(), -100);
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] >= V || gen.next_double() >= 0.15) continue;  // a special token, or not chosen
    y[i] = x[i];
    const double r = gen.next_double();
    if (r < 0.8)
      x[i] = V + 2;  // [MASK]
    else if (r < 0.9)
      x[i] = static_cast<int64_t>(gen.next_double() * static_cast<double>(V));
  }
  s.x = from_vector(x).view(s.x.shape());
  s.y = from_vector(y).view(s.x.shape());
}

}  // namespace

PreparedData prepare_text_classes_data(const TrainConfig& cfg,
                                       std::shared_ptr<const data::Tokenizer> tokenizer) {
  const DataConfig& dc = cfg.data;
  std::vector<data::TextFile> files = data::read_text_files(dc.path);
  EMBER_CHECK_T(ConfigError, files.size() >= 2, dc.path, ": data.format = \"text_classes\" needs ",
                "one .txt file per class and at least two classes; found ", files.size(), " file");
  const double train_end = dc.split[0], val_end = dc.split[0] + dc.split[1];
  std::string train_text, all_text;
  std::vector<std::string> classes;
  for (data::TextFile& f : files) {
    f.text = data::collapse_whitespace(f.text);
    train_text += f.text.substr(0, cut_at(f.text, train_end)) + "\n";
    all_text += f.text + "\n";
    classes.push_back(f.name);
  }
  const std::shared_ptr<const data::Tokenizer> tok =
      tokenizer ? tokenizer : make_tokenizer(dc, train_text, all_text);
  const int64_t T = cfg.model.block_size;
  const auto chars = static_cast<size_t>(dc.passage_chars);
  const auto stride =
      static_cast<size_t>(dc.passage_stride > 0 ? dc.passage_stride : dc.passage_chars);
  PassageRows train, val, test;
  for (size_t c = 0; c < files.size(); ++c) {
    const std::string& text = files[c].text;
    const size_t a = cut_at(text, train_end), b = cut_at(text, val_end);
    const auto label = static_cast<int64_t>(c);
    for (const std::string& p : data::passages(text, 0, a, chars, stride))
      train.add(*tok, p, label, T);
    for (const std::string& p : data::passages(text, a, b, chars, chars))
      val.add(*tok, p, label, T);
    for (const std::string& p : data::passages(text, b, text.size(), chars, chars))
      test.add(*tok, p, label, T);
  }
  const int64_t cut = train.cut + val.cut + test.cut;
  if (cut > 0)
    std::fprintf(stderr,
                 "note: %lld passages have more than model.block_size - 1 = %lld tokens and "
                 "were cut to fit\n",
                 static_cast<long long>(cut), static_cast<long long>(T - 1));
  const int64_t vocab = tok->vocab_size() + 3;  // + [PAD], [CLS], [MASK]
  PreparedData d{{},      {},     data::Preprocessor::for_text_classes(vocab, T, classes),
                 {},      {},     {},
                 nullptr, nullptr};
  d.table.source = dc.path;
  d.tokenizer = tok;
  d.train = train.split(T);
  d.val = val.split(T);
  d.test = test.split(T);
  if (cfg.model.type == "bert_mlm") {  // pre-training: the tokens themselves are the targets
    d.pre = data::Preprocessor::for_text(vocab, T);
    Generator gen(static_cast<uint64_t>(dc.seed));
    for (SplitData* s : {&d.train, &d.val, &d.test}) mask_tokens(*s, tok->vocab_size(), gen);
  }
  EMBER_CHECK_T(ConfigError, d.train.size() > 0, dc.path, ": no training passage of ",
                dc.passage_chars, " characters fits in the first ", dc.split[0],
                " of any file (data.split, data.passage_chars)");
  return d;
}

PreparedData prepare_text_data(const TrainConfig& cfg,
                               std::shared_ptr<const data::Tokenizer> tokenizer) {
  if (cfg.data.format == "text_classes") return prepare_text_classes_data(cfg, tokenizer);
  const std::string text = data::read_text(cfg.data.path);
  const std::shared_ptr<const data::Tokenizer> tok =
      tokenizer
          ? tokenizer
          : make_tokenizer(
                cfg.data, std::string_view(text).substr(0, cut_at(text, 1 - cfg.data.val_fraction)),
                text);
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

// Attention maps and per-token integrated gradients of a BERT classifier for one passage.
#include "ember/train/explain_text.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/data/tokenizer.h"
#include "ember/models/bert.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ember/train/explain.h"
#include "ember/train/figures.h"
#include "ember/train/plot.h"

namespace ember::train {

namespace {

// The classifier seen as a function of its word embeddings (B, n, H) -> logits (B, C), so that
// integrated_gradients can differentiate through it.
class FromEmbeddings : public nn::Module {
 public:
  explicit FromEmbeddings(models::BertForSequenceClassification& m)
      : Module("FromEmbeddings"), m_(m) {}
  Tensor forward(const Tensor& embeds) override { return m_.forward_embeds(embeds, Tensor()); }

 private:
  models::BertForSequenceClassification& m_;
};

// A token as printable ASCII (the figures' bitmap font has nothing else).
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s) out += c >= 32 && c < 127 ? c : (c == '\n' ? ' ' : '?');
  return out;
}

}  // namespace

TextExplanation explain_text(models::BertForSequenceClassification& model,
                             const data::Tokenizer& tok, const Tensor& ids, int64_t target,
                             int64_t steps) {
  EMBER_CHECK_SHAPE(ids.dim() == 1 && ids.dtype() == kInt64 && ids.size(0) >= 1,
                    "explain_text: expected one passage's token ids (T) int64, got ",
                    ids.shape_str());
  const int64_t pad = tok.vocab_size();
  const std::vector<int64_t> all = ids.to_vector<int64_t>();
  int64_t n = 0;  // [CLS] and the passage's tokens, up to the first [PAD]
  while (n < static_cast<int64_t>(all.size()) && all[static_cast<size_t>(n)] != pad) ++n;
  const Tensor x = ids.narrow(0, 0, n).unsqueeze(0);  // (1, n): no padding, so no mask

  TextExplanation e;
  e.tokens.push_back("[CLS]");
  for (int64_t i = 1; i < n; ++i)
    e.tokens.push_back(printable(tok.decode({&all[static_cast<size_t>(i)], 1})));
  const bool was_training = model.is_training();
  model.eval();
  {
    NoGradGuard no_grad;
    std::vector<Tensor> att;
    const Tensor probs = softmax(model.forward(x, Tensor(), Tensor(), &att), 1).squeeze(0);
    for (const Tensor& a : att) e.attentions.push_back(a.squeeze(0).contiguous());
    e.probs = probs.to(kFloat64).to_vector<double>();
    e.predicted = argmax(probs, 0).item<int64_t>();
  }
  if (was_training) model.train();
  e.target = target >= 0 ? target : e.predicted;
  EMBER_CHECK(e.target < static_cast<int64_t>(e.probs.size()), "explain_text: target class ",
              e.target, " is out of range for ", e.probs.size(), " classes");

  // Word embeddings of the passage, and the baseline: [CLS] kept, every other token zeroed.
  const Tensor embeds = model.bert->embeddings->word_embeddings->forward(x).squeeze(0).detach();
  Tensor keep = zeros({n, 1});
  keep.narrow(0, 0, 1).fill_(1.0);
  const Tensor baseline = embeds * keep;
  FromEmbeddings f(model);
  const Tensor ig = integrated_gradients(f, embeds, baseline, e.target, steps, 16);  // (n, H)
  e.attributions = sum(ig, {1}).to(kFloat64).to_vector<double>();
  for (double v : e.attributions) e.attribution_sum += v;
  e.logit_gap = target_logit(f, embeds, e.target) - target_logit(f, baseline, e.target);
  return e;
}

std::vector<std::pair<std::string, std::string>> write_text_explanation(
    const TextExplanation& e, const std::vector<std::string>& classes, int64_t truth,
    const std::string& dir, const std::string& name, int64_t layer, int64_t max_tokens) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  std::vector<std::pair<std::string, std::string>> out;
  const auto layers = static_cast<int64_t>(e.attentions.size());
  const int64_t l = layer < 0 ? layers + layer : layer;
  EMBER_CHECK(l >= 0 && l < layers, "write_text_explanation: layer ", layer, " is out of range; ",
              "the model has ", layers, " layers");
  const auto cls = [&](int64_t c) { return classes[static_cast<size_t>(c)]; };
  char p[32];
  std::snprintf(p, sizeof p, "%.3f", e.probs[static_cast<size_t>(e.predicted)]);
  std::string what = "predicted '" + cls(e.predicted) + "' (p = " + p + ")";
  if (truth >= 0) what += ", true '" + cls(truth) + "'";

  const Tensor& a = e.attentions[static_cast<size_t>(l)];  // (heads, n, n)
  const int64_t m = std::min<int64_t>(max_tokens, a.size(1));
  const std::vector<std::string> labels(e.tokens.begin(), e.tokens.begin() + m);
  for (int64_t h = 0; h < a.size(0); ++h) {
    std::vector<std::vector<double>> cells(static_cast<size_t>(m));
    const Tensor head = a.select(0, h).to(kFloat64).contiguous();
    for (int64_t i = 0; i < m; ++i)
      cells[static_cast<size_t>(i)] = head.select(0, i).narrow(0, 0, m).to_vector<double>();
    const std::string png =
        (fs::path(dir) / ("attention_" + name + "_head" + std::to_string(h) + ".png")).string();
    heatmap(png, "Layer " + std::to_string(l) + ", head " + std::to_string(h), cells, labels,
            labels, "key token", "query token", /*annotate=*/false);
    out.emplace_back(name + ": attention of layer " + std::to_string(l) + ", head " +
                         std::to_string(h) + " (rows attend to columns; the first " +
                         std::to_string(m) + " tokens); " + what,
                     png);
  }
  char gap[96];
  std::snprintf(gap, sizeof gap, "sum %.4g vs logit gap %.4g", e.attribution_sum, e.logit_gap);
  const std::string caption =
      name + ": integrated gradients for '" + cls(e.target) + "' (" + gap + "); " + what;
  const std::string png = (fs::path(dir) / ("attribution_" + name + ".png")).string();
  token_attribution_png(png, e.tokens, e.attributions,
                        "red: evidence for '" + cls(e.target) + "', blue: against; " + what);
  out.emplace_back(caption, png);
  return out;
}

}  // namespace ember::train

// `ember tokenizer train` (byte-level BPE on a corpus), `ember tokenizer encode` (ids of a
// text), `ember export` (a GPT run as a Hugging Face directory) and `ember explain` on a text
// classifier.
#include "text_commands.h"

#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "ember/data/text.h"
#include "ember/data/tokenizer.h"
#include "ember/io/file.h"
#include "ember/models/bert.h"
#include "ember/models/hf.h"
#include "ember/ops/creation.h"
#include "ember/train/explain_text.h"
#include "ember/train/pipeline.h"
#include "ember/train/report.h"
#include "ember/train/run_files.h"
#include "image_commands.h"

namespace ember::cli {

namespace fs = std::filesystem;

void add_tokenizer_command(CLI::App& app, TokenizerArgs& a) {
  CLI::App* tok = app.add_subcommand("tokenizer", "Train a BPE tokenizer or encode text with one");
  tok->require_subcommand(1);
  CLI::App* train = tok->add_subcommand(
      "train",
      "Learn a byte-level BPE vocabulary (GPT-2's pre-tokenizer) from a text file; "
      "writes OUT/encoder.json and OUT/vocab.bpe");
  train->add_option("--input", a.input, "Corpus (text file)")->required()->check(CLI::ExistingFile);
  train->add_option("--vocab-size", a.vocab_size, "Ids in all: 256 bytes + merges + specials")
      ->required()
      ->check(CLI::PositiveNumber);
  train->add_option("--out", a.out, "Output directory")->required();
  train->add_option("--special", a.specials, "Special tokens (default <|endoftext|>)");
  train->add_flag("-q,--quiet", a.quiet, "No progress on stderr");
  CLI::App* encode = tok->add_subcommand("encode", "Print the token ids of TEXT, space-separated");
  encode
      ->add_option("dir", a.dir, "Tokenizer directory (tokenizer.json or encoder.json + vocab.bpe)")
      ->required();
  encode->add_option("text", a.text, "Text to encode")->required();
  encode->add_flag("--allow-special", a.allow_special, "Map special tokens to their ids (BPE)");
}

namespace {

int train(const TokenizerArgs& a) {
  const std::string corpus = io::read_file(a.input);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  data::BpeTrainOptions options;
  if (!a.quiet) {
    options.every = tty ? 100 : 5000;
    options.progress = [&](int64_t done, int64_t wanted) {
      std::fprintf(stderr, "%smerges %lld/%lld  %.1f s%s", tty ? "\r" : "",
                   static_cast<long long>(done), static_cast<long long>(wanted), seconds(),
                   tty ? "" : "\n");
    };
  }
  const data::BpeTokenizer tok =
      data::BpeTokenizer::train(corpus, a.vocab_size, a.specials, options);
  if (!a.quiet && tty) std::fprintf(stderr, "\n");
  tok.save(a.out);
  const std::vector<int64_t> ids = tok.encode(corpus, true);
  std::printf(
      "%s: %lld merges, vocab %lld, in %.2f s; the corpus (%zu bytes) is %zu tokens "
      "(%.2f bytes/token)\nwrote %s/encoder.json and %s/vocab.bpe\n",
      a.input.c_str(), static_cast<long long>(tok.merges().size()),
      static_cast<long long>(tok.vocab_size()), seconds(), corpus.size(), ids.size(),
      ids.empty() ? 0.0 : static_cast<double>(corpus.size()) / ids.size(), a.out.c_str(),
      a.out.c_str());
  return 0;
}

int encode(const TokenizerArgs& a) {
  const auto tok = data::load_tokenizer(a.dir);
  const auto* bpe = dynamic_cast<const data::BpeTokenizer*>(tok.get());
  const std::vector<int64_t> ids = bpe ? bpe->encode(a.text, a.allow_special) : tok->encode(a.text);
  std::string line;
  for (int64_t id : ids) line += (line.empty() ? "" : " ") + std::to_string(id);
  std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace

int run_tokenizer(const CLI::App& app, const TokenizerArgs& a) {
  const CLI::App* tok = app.get_subcommand("tokenizer");
  if (tok->got_subcommand("train")) return train(a);
  return encode(a);
}

void add_export_command(CLI::App& app, ExportArgs& a) {
  CLI::App* ex = app.add_subcommand(
      "export",
      "Write a trained GPT run (its best checkpoint) as a Hugging Face GPT-2 directory: "
      "config.json, model.safetensors and the tokenizer files");
  ex->add_option("run_dir", a.run_dir, "Run directory of model.type = \"gpt\"")->required();
  ex->add_option("--format", a.format, "Output format (only \"hf\")")->check(CLI::IsMember({"hf"}));
  ex->add_option("--out", a.out, "Output directory (created if missing)")->required();
}

int run_export(const ExportArgs& a) {
  train::LoadedRun run = train::load_run(a.run_dir);
  const auto* gpt = dynamic_cast<const models::GPT*>(run.model.get());
  EMBER_CHECK_T(ConfigError, gpt != nullptr, a.run_dir,
                ": not a GPT run (ember export --format hf writes model.type = \"gpt\" runs)");
  EMBER_CHECK_T(ConfigError,
                !(std::filesystem::exists(a.out) && std::filesystem::equivalent(a.out, a.run_dir)),
                "export --out ", a.out, ": is the run directory itself; choose another directory");
  models::save_hf_gpt2(*gpt, run.tokenizer.get(), a.out);
  std::printf(
      "%s (%s checkpoint, step %lld) -> %s: config.json, model.safetensors%s\n", a.run_dir.c_str(),
      run.checkpoint.c_str(), static_cast<long long>(run.step), a.out.c_str(),
      !run.tokenizer                   ? ""
      : run.tokenizer->kind() == "bpe" ? ", vocab.json + merges.txt (and encoder.json + vocab.bpe)"
                                       : ", tokenizer.json (Ember's character tokenizer; "
                                         "transformers cannot read it)");
  return 0;
}

int explain_text(const ExplainArgs& a, train::LoadedRun& run) {
  auto* bert = dynamic_cast<models::BertForSequenceClassification*>(run.model.get());
  EMBER_CHECK_T(ConfigError, bert != nullptr, a.run_dir,
                ": explain needs a BERT text classifier (model.type = \"bert\"); a bag of words "
                "shows its most telling tokens in report.html instead");
  EMBER_CHECK_T(ConfigError, a.input.empty() != (a.index < 0),
                "give exactly one of --input TEXT_FILE or --index N");
  const int64_t T = run.pre.input_shape()[0];
  const int64_t pad = run.tokenizer->vocab_size();
  Tensor ids;
  int64_t truth = -1;
  std::string name;
  if (!a.input.empty()) {
    // [CLS], the file's tokens (whitespace collapsed as in training), cut to the model's length.
    std::vector<int64_t> t{pad + 1};
    for (int64_t id : run.tokenizer->encode(data::collapse_whitespace(data::read_text(a.input))))
      if (static_cast<int64_t>(t.size()) < T) t.push_back(id);
    ids = from_vector(t);
    name = fs::path(a.input).stem().string();
  } else {
    const train::PreparedData d =
        train::prepare_text_data(train::load_run_config(a.run_dir), run.tokenizer);
    EMBER_CHECK_T(ConfigError, a.index < d.test.size(), "--index ", a.index,
                  " is out of range; the test split has ", d.test.size(), " passages");
    ids = d.test.x.select(0, a.index);
    truth = d.test.y.select(0, a.index).item<int64_t>();
    name = "test-" + std::to_string(a.index);
  }
  const auto classes = run.pre.class_names();
  EMBER_CHECK_T(ConfigError, a.target < static_cast<int64_t>(classes.size()), "--target ", a.target,
                " is out of range; the model has ", classes.size(), " classes");
  const train::TextExplanation e =
      train::explain_text(*bert, *run.tokenizer, ids, a.target, a.steps);
  const std::string dir = !a.out.empty() ? a.out : (fs::path(a.run_dir) / "explain").string();
  const auto figures = train::write_text_explanation(e, classes, truth, dir, name, a.layer);
  const std::string report = (fs::path(a.run_dir) / "report.html").string();
  for (const auto& [caption, png] : figures) {
    std::printf("wrote %s\n", png.c_str());
    if (fs::exists(report)) train::add_report_figure(report, caption, png);
  }
  std::printf("%s\n", figures.back().first.c_str());
  if (fs::exists(report)) std::printf("added to %s\n", report.c_str());
  return 0;
}

}  // namespace ember::cli

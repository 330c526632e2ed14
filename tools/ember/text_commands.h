// The text side of the ember command: `ember tokenizer train|encode` and `ember export`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}
namespace ember::train {
struct LoadedRun;
}

namespace ember::cli {

/// Options of `ember tokenizer SUBCOMMAND`.
struct TokenizerArgs {
  std::string input;       ///< train: corpus file (UTF-8 or any bytes)
  int64_t vocab_size = 0;  ///< train: total ids, bytes + merges + special tokens
  std::string out;         ///< train: output directory (encoder.json + vocab.bpe)
  std::vector<std::string> specials{"<|endoftext|>"};  ///< train: special tokens
  std::string dir;             ///< encode: tokenizer directory (char or BPE)
  std::string text;            ///< encode: text to encode
  bool allow_special = false;  ///< encode: map special tokens to their ids
  bool quiet = false;
};

/// Adds `tokenizer` with its `train` and `encode` subcommands to app, filling args.
void add_tokenizer_command(CLI::App& app, TokenizerArgs& args);

/// Runs the parsed `ember tokenizer` subcommand.
int run_tokenizer(const CLI::App& app, const TokenizerArgs& args);

/// Options of `ember export RUN_DIR --format hf --out DIR`.
struct ExportArgs {
  std::string run_dir;        ///< a run directory of a gpt model
  std::string format = "hf";  ///< "hf": a Hugging Face GPT2LMHeadModel directory
  std::string out;            ///< output directory
};

/// Adds `export` (a trained GPT run's best checkpoint as a Hugging Face directory) to app.
void add_export_command(CLI::App& app, ExportArgs& args);

/// Runs `ember export`.
int run_export(const ExportArgs& args);

struct ExplainArgs;
/// `ember explain` on a text classifier (BERT): attention maps of one layer (a PNG per head) and
/// per-token integrated gradients of a test passage (--index) or a text file (--input), added to
/// the run's report. run is the loaded run of args.run_dir.
int explain_text(const ExplainArgs& args, train::LoadedRun& run);

}  // namespace ember::cli

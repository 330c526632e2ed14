// GPT-2 BPE encoding MB/s: Ember next to the npm references js-tiktoken and gpt-3-encoder (node),
// on data/austen/*.txt when present, else >= 1 MB of generated text.
//   build/bench/tokenizer_bench [TEXT_FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "ember/data/tokenizer.h"
#include "ember/io/file.h"

namespace fs = std::filesystem;
using namespace ember;

namespace {

const std::string kSource = EMBER_SOURCE_DIR;

std::string corpus(int argc, char** argv, std::string* what) {
  if (argc > 1) return *what = argv[1], io::read_file(argv[1]);
  std::string text;
  if (fs::is_directory(kSource + "/data/austen")) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(kSource + "/data/austen"))
      if (e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) text += io::read_file(f.string());
    *what = kSource + "/data/austen/*.txt";
    if (!text.empty()) return text;
  }
  const char* words[] = {"the",       "of",    "and",  "a",   "to",         "in",     "is",
                         "you",       "that",  "it",   "he",  "was",        "for",    "on",
                         "are",       "as",    "with", "his", "they",       "I'm",    "don't",
                         "Elizabeth", "Darcy", "1813", "3.5", "naïve",      "café",   "—",
                         "!",         "?",     "\n\n", "(x)", "\"quoted\"", "日本語", "🙂"};
  std::mt19937 rng(1);
  while (text.size() < (1 << 20) + 1000) {
    text += words[rng() % (sizeof words / sizeof *words)];
    text += rng() % 9 == 0 ? ", " : " ";
  }
  *what = "generated text";
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string what;
  const std::string text = corpus(argc, argv, &what);
  const std::string gpt2 = kSource + "/data/gpt2";
  if (!fs::is_regular_file(gpt2 + "/encoder.json")) {
    std::fprintf(stderr, "%s/encoder.json is missing: run scripts/get-data.sh gpt2-bpe\n",
                 gpt2.c_str());
    return 2;
  }
  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf("GPT-2 BPE encoding of %s (%.2f MB)\n", what.c_str(), mb);

  // Ember: a fresh tokenizer (cold word cache) and then warm repetitions; median of 5.
  auto t0 = std::chrono::steady_clock::now();
  const auto tok = data::BpeTokenizer::from_files(gpt2 + "/encoder.json", gpt2 + "/vocab.bpe");
  const double load_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const size_t n_tokens = tok.encode(text).size();
  const double cold = mb / seconds_since(t0);
  std::vector<double> warm;
  for (int r = 0; r < 5; ++r) {
    t0 = std::chrono::steady_clock::now();
    (void)tok.encode(text);
    warm.push_back(mb / seconds_since(t0));
  }
  std::sort(warm.begin(), warm.end());
  std::printf("  %-28s %8.2f MB/s  (%zu tokens; files read in %.2f s)\n", "ember (cold cache)",
              cold, n_tokens, load_s);
  std::printf("  %-28s %8.2f MB/s  (median of 5)\n", "ember (warm cache)", warm[2]);

  const fs::path file = fs::temp_directory_path() / "ember_tokenizer_bench.txt";
  io::write_file_atomic(file.string(), text);
  const size_t slice = 100000;
  const std::string cmd = "node " + kSource + "/bench/tokenizer_bench.js " + kSource +
                          "/data/.cache/npm/node_modules " + file.string() + " " +
                          std::to_string(slice);
  FILE* p = ::popen(cmd.c_str(), "r");
  std::map<std::string, double> rate;
  char name[64];
  double mbs;
  long long tokens;
  while (p && std::fscanf(p, "%63s %lf %lld", name, &mbs, &tokens) == 3) {
    rate[name] = mbs;
    std::printf("  %-28s %8.2f MB/s  (%lld tokens%s)\n", name, mbs, tokens,
                std::string(name) == "gpt-3-encoder" ? ", first 100k characters" : "");
  }
  if (!p || ::pclose(p) != 0 || rate.size() != 2) {
    std::fprintf(stderr, "node reference failed (%s)\n", cmd.c_str());
    return 1;
  }
  fs::remove(file);
  std::printf("ratio ember (cold) / js-tiktoken: %.2fx; / gpt-3-encoder: %.2fx\n",
              cold / rate["js-tiktoken"], cold / rate["gpt-3-encoder"]);
  return 0;
}

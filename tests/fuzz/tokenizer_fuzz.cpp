// libFuzzer harness: any bytes pre-tokenize into pieces that concatenate back, BPE-encode and
// decode back exactly (with and without special tokens), and, split at the first 0 byte into
// encoder.json + vocab.bpe (or as a char tokenizer.json), either load or throw ember::IOError.
// Build instructions: tests/fuzz/README.md.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "ember/core/error.h"
#include "ember/data/tokenizer.h"

using namespace ember;

static void write(const std::string& path, std::string_view bytes) {  // no fsync: fast
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const data::BpeTokenizer bpe = data::BpeTokenizer::train(
      "It's a truth universally acknowledged <|endoftext|> 12 345 naïve café 🙂 \n\n  x", 300);
  static const std::string dir = "/tmp/ember_tokenizer_fuzz." + std::to_string(::getpid());
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::string joined;
  for (std::string_view piece : data::pretokenize(text)) {
    if (piece.empty()) std::abort();
    joined += piece;
  }
  if (joined != text) std::abort();
  if (bpe.decode(bpe.encode(text)) != text) std::abort();
  if (bpe.decode(bpe.encode(text, true)) != text) std::abort();

  const size_t cut = std::min(text.find('\0'), text.size());
  write(dir + ".encoder.json", text.substr(0, cut));
  write(dir + ".vocab.bpe", text.substr(std::min(cut + 1, text.size())));
  try {
    const auto tok = data::BpeTokenizer::from_files(dir + ".encoder.json", dir + ".vocab.bpe");
    if (tok.decode(tok.encode(text, true)) != text) std::abort();
  } catch (const IOError&) {
  }
  write(dir + ".tokenizer.json", text);
  try {
    const auto tok = data::CharTokenizer::from_file(dir + ".tokenizer.json");
    try {
      if (tok.decode(tok.encode(text)) != text) std::abort();
    } catch (const ValueError&) {
    }
  } catch (const IOError&) {
  }
  return 0;
}

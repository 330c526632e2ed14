// `ember generate`: KV-cached sampling from a GPT run; batch 1 streams to stdout as it goes.
#include "generate_command.h"

#include <cstdio>

#include "ember/data/tokenizer.h"
#include "ember/models/gpt.h"
#include "ember/models/hf.h"
#include "ember/train/run_files.h"

namespace ember::cli {

namespace {

// The end of the longest prefix of s that does not stop inside a UTF-8 character (a BPE token
// can end mid-character; the rest is printed when the next token completes it).
size_t complete_utf8_prefix(const std::string& s, size_t from) {
  size_t i = from;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    const size_t n = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (s.size() - i < n) break;
    i += n;
  }
  return i;
}

}  // namespace

int generate(const GenerateArgs& a) {
  std::shared_ptr<const nn::Module> owner;  // keeps the model alive
  std::shared_ptr<const data::Tokenizer> tokenizer;
  models::GPT* gpt = nullptr;
  if (models::is_hf_model_dir(a.model_dir)) {  // a Hugging Face GPT-2 directory
    models::HFGPT2 hf = models::load_hf_gpt2(a.model_dir);
    EMBER_CHECK_T(ConfigError, hf.tokenizer != nullptr, a.model_dir,
                  ": no tokenizer (expected vocab.json + merges.txt or encoder.json + vocab.bpe)");
    gpt = hf.model.get();
    owner = hf.model;
    tokenizer = std::move(hf.tokenizer);
  } else {
    train::LoadedRun run = train::load_run(a.model_dir);
    gpt = dynamic_cast<models::GPT*>(run.model.get());
    owner = run.model;
    tokenizer = run.tokenizer;
  }
  EMBER_CHECK_T(ConfigError, gpt != nullptr && tokenizer != nullptr, a.model_dir,
                ": not a language-model run (train one with model.type = \"gpt\")");
  const data::Tokenizer& tok = *tokenizer;
  const std::vector<int64_t> prompt = tok.encode(a.prompt);
  EMBER_CHECK_T(ValueError, static_cast<int64_t>(prompt.size()) <= gpt->config.block_size,
                "the prompt has ", prompt.size(), " tokens, longer than the model's context of ",
                gpt->config.block_size, " tokens; shorten it");
  models::SamplingOptions o;
  o.max_new_tokens = a.max_new_tokens;
  o.temperature = a.temperature;
  o.top_k = a.top_k;
  o.top_p = a.top_p;
  o.seed = a.seed;
  const std::vector<std::vector<int64_t>> prompts(static_cast<size_t>(a.num_samples), prompt);

  if (a.num_samples == 1) {  // stream: print each new piece of text as soon as it is whole
    std::fputs(a.prompt.c_str(), stdout);
    std::vector<int64_t> so_far;
    std::string text;
    size_t printed = 0;
    models::generate(*gpt, prompts, o, [&](int64_t, const std::vector<int64_t>& next) {
      so_far.push_back(next[0]);
      text = tok.decode(so_far);
      const size_t end = complete_utf8_prefix(text, printed);
      std::fwrite(text.data() + printed, 1, end - printed, stdout);
      std::fflush(stdout);
      printed = end;
    });
    std::fwrite(text.data() + printed, 1, text.size() - printed, stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  const auto out = models::generate(*gpt, prompts, o);
  for (size_t i = 0; i < out.size(); ++i)
    std::printf("---- sample %zu ----\n%s%s\n", i + 1, a.prompt.c_str(),
                tok.decode(out[i]).c_str());
  return 0;
}

}  // namespace ember::cli

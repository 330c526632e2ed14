// The `ember` command as users run it: exit codes, one-line errors naming the file:line:column or
// the key, help on every subcommand, train → eval → predict, and resume after kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace {

const std::string kEmber = EMBER_CLI;
const std::string kSource = EMBER_SOURCE_DIR;
const fs::path kTmp = fs::path(EMBER_TEST_TMPDIR) / "cli";

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `ember ARGS` through the shell, capturing stdout, stderr and the exit code.
Result ember(const std::string& args) {
  fs::create_directories(kTmp);
  const fs::path out = kTmp / "stdout.txt", err = kTmp / "stderr.txt";
  const std::string cmd = kEmber + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

fs::path write(const std::string& name, const std::string& text) {
  fs::create_directories(kTmp);
  const fs::path p = kTmp / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string iris() {
  return kSource + "/data/iris.csv";
}

// A config over the iris data with one section's text replaced or added.
fs::path iris_config(const std::string& name, const std::string& extra = "",
                     const std::string& data_section = "") {
  return write(name,
               (data_section.empty() ? "[data]\npath = \"" + iris() + "\"\ntarget = \"species\"\n"
                                     : data_section) +
                   "[training]\nepochs = 3\n" + extra);
}

// The failure shape every bad input must have: the exit code, exactly one line on stderr that
// contains each fragment, and no crash output.
void expect_failure(const Result& r, int code, const std::vector<std::string>& fragments) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const auto& f : fragments)
    EXPECT_NE(r.err.find(f), std::string::npos) << f << " in: " << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

}  // namespace

TEST(Cli, HelpAndVersion) {
  for (const char* sub : {"", "train ", "eval ", "predict ", "inspect ", "summary "}) {
    const Result r = ember(std::string(sub) + "--help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub << r.out;
  }
  EXPECT_EQ(ember("--version").out, "ember 0.1.0\n");
  expect_failure(ember("frobnicate"), 2, {"frobnicate"});
  expect_failure(ember(""), 2, {});
}

TEST(Cli, BadCsvFilesNameTheFileAndLine) {
  expect_failure(ember("inspect " + write("ragged.csv", "a,b,c\n1,2,3\n4,5\n").string()), 2,
                 {"ragged.csv:3", "2 fields", "3"});
  expect_failure(ember("inspect " + write("nonnum.csv", "a,b\n1,2\n3,abc\n").string()), 2,
                 {"nonnum.csv:3:3", "abc", "'b'"});
  expect_failure(ember("inspect " + write("empty.csv", "").string()), 2, {"empty.csv", "empty"});
  expect_failure(ember("inspect " + write("binary.csv", std::string("\x7f"
                                                                    "ELF\0\x01\x02",
                                                                    7))
                                        .string()),
                 2, {"binary.csv", "not a text"});
  expect_failure(ember("inspect " + (kTmp / "nope.csv").string()), 2, {"nope.csv"});
  // The same problems through `ember train`.
  const fs::path ragged = kTmp / "ragged.csv";
  expect_failure(
      ember("train " + iris_config("ragged.toml", "",
                                   "[data]\npath = \"" + ragged.string() + "\"\ntarget = \"c\"\n")
                           .string()),
      2, {"ragged.csv:3"});
}

TEST(Cli, BadConfigsNameTheKey) {
  expect_failure(
      ember("train " + iris_config("target.toml", "",
                                   "[data]\npath = \"" + iris() + "\"\ntarget = \"colour\"\n")
                           .string()),
      2, {"colour", "species"});
  expect_failure(ember("train " + iris_config("unknown.toml", "[optimizer]\nlrr = 0.1\n").string()),
                 2, {"unknown.toml:", "lrr", "did you mean 'lr'"});
  expect_failure(
      ember("train " + iris_config("type.toml", "[optimizer]\nlr = \"fast\"\n").string()), 2,
      {"type.toml:", "optimizer.lr", "fast"});
  expect_failure(ember("train " + write("nodata.toml", "[model]\ntype = \"mlp\"\n").string()), 2,
                 {"nodata.toml", "[data]"});
  expect_failure(ember("train " + iris_config("neg.toml", "[optimizer]\nlr = -0.1\n").string()), 2,
                 {"neg.toml:", "optimizer.lr", "-0.1"});
  expect_failure(ember("train " + iris_config("set.toml").string() + " --set optimizer.lr=-1"), 2,
                 {"optimizer.lr"});
  expect_failure(ember("train " + iris_config("syntax.toml", "[model\n").string()), 2,
                 {"syntax.toml:"});
}

TEST(Cli, MissingRunDirectoriesAreUsageErrors) {
  const std::string nowhere = (kTmp / "no_such_run").string();
  expect_failure(ember("eval " + nowhere), 2, {"no_such_run"});
  expect_failure(ember("predict " + nowhere + " " + iris()), 2, {"no_such_run"});
  expect_failure(ember("train " + iris_config("resume.toml").string() + " --resume " + nowhere), 2,
                 {"no_such_run"});
}

TEST(Cli, TrainEvalPredict) {
  const fs::path run = kTmp / "iris_run";
  fs::remove_all(run);
  const Result t = ember("train " + iris_config("ok.toml", "[output]\nplots = false\n").string() +
                         " --out " + run.string());
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("test_accuracy"), std::string::npos) << t.out;
  EXPECT_NE(t.err.find("epoch 3/3"), std::string::npos) << t.err;  // plain progress lines
  const Result e = ember("eval " + run.string() + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("\"accuracy\""), std::string::npos) << e.out;
  const Result p =
      ember("predict " + run.string() + " " + iris() + " -o " + (kTmp / "pred.csv").string());
  ASSERT_EQ(p.code, 0) << p.err;
  const std::string csv = slurp(kTmp / "pred.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 151);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "sepal_length,sepal_width,petal_length,petal_width,species,prediction,"
            "prob_setosa,prob_versicolor,prob_virginica");
}

// kill -9 a training process after its first checkpoint, resume it, and get exactly the
// metrics of the run that was never interrupted.
TEST(Cli, ResumeAfterKillMatchesTheUninterruptedRun) {
  const std::string cfg = kSource + "/examples/digits.toml";
  const std::string common = " --set data.path=" + kSource + "/data/digits.csv" +
                             " --set training.epochs=8 --set output.plots=false -q";
  const fs::path full = kTmp / "digits_full", killed = kTmp / "digits_killed";
  fs::remove_all(full);
  fs::remove_all(killed);
  ASSERT_EQ(ember("train " + cfg + common + " --out " + full.string()).code, 0);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(kEmber.c_str(), kEmber.c_str(), "train", cfg.c_str(), "--set",
          ("data.path=" + kSource + "/data/digits.csv").c_str(), "--set", "training.epochs=8",
          "--set", "output.plots=false", "-q", "--out", killed.c_str(), nullptr);
    _exit(127);
  }
  while (!fs::exists(killed / "checkpoints" / "last.json"))
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  const Result r = ember("train " + cfg + common + " --resume " + killed.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(full / "metrics.json"), slurp(killed / "metrics.json"));
  EXPECT_EQ(slurp(full / "metrics.csv"), slurp(killed / "metrics.csv"));
}

namespace {

// A gray 8-bit PNG of width x height with pixel (x, y) = pixel(x, y): zlib "stored" blocks, so no
// compressor is needed (the test does not link ember).
uint32_t crc32(const std::string& bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return c ^ 0xffffffffu;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string gray_png(int width, int height, unsigned char (*pixel)(int, int)) {
  std::string raw;
  for (int y = 0; y < height; ++y) {
    raw += '\0';  // filter: none
    for (int x = 0; x < width; ++x) raw += static_cast<char>(pixel(x, y));
  }
  uint32_t a = 1, b = 0;  // adler32
  for (unsigned char c : raw) a = (a + c) % 65521, b = (b + a) % 65521;
  std::string z = "\x78\x01";
  for (size_t off = 0; off < raw.size(); off += 65535) {
    const size_t n = std::min<size_t>(65535, raw.size() - off);
    z += static_cast<char>(off + n == raw.size() ? 1 : 0);
    z += {static_cast<char>(n & 0xff), static_cast<char>(n >> 8), static_cast<char>(~n & 0xff),
          static_cast<char>((~n >> 8) & 0xff)};
    z += raw.substr(off, n);
  }
  z += be32((b << 16) | a);
  auto chunk = [](const std::string& type, const std::string& data) {
    return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32(type + data));
  };
  const std::string ihdr = be32(static_cast<uint32_t>(width)) +
                           be32(static_cast<uint32_t>(height)) + std::string("\x08\0\0\0\0", 5);
  return "\x89PNG\r\n\x1a\n" + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", "");
}

// A bright trouser-like shape on black: two legs.
unsigned char legs(int x, int y) {
  return (y >= 3 && y < 26 && ((x >= 8 && x < 13) || (x >= 15 && x < 20))) ? 220 : 0;
}

}  // namespace

// Fashion-MNIST end to end, kept small (30 steps): summary, train, predict on a PNG with its
// errors, explain into the report.
TEST(Cli, ImageRunSummaryTrainPredictExplain) {
  const std::string data = kSource + "/data/fashion-mnist";
  if (!fs::exists(data + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << data << " is missing (scripts/get-data.sh fashion-mnist)";
  const std::string set_data = " --set data.path=" + data;
  const Result s = ember("summary " + kSource + "/examples/fmnist_resnet.toml" + set_data);
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("Total params: 308,074"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("BasicBlock"), std::string::npos) << s.out;

  const fs::path run = kTmp / "fmnist_run";
  fs::remove_all(run);
  // val_every: 30 steps end before the first epoch, so evaluate (and report) at step 30.
  const Result t =
      ember("train " + kSource + "/examples/fmnist_cnn.toml" + set_data +
            " --set training.steps=30 --set training.val_every=30 -q --out " + run.string());
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("test_accuracy"), std::string::npos) << t.out;
  ASSERT_TRUE(fs::exists(run / "report.html"));

  const fs::path png = kTmp / "legs.png";
  std::ofstream(png, std::ios::binary) << gray_png(28, 28, legs);
  const Result p = ember("predict " + run.string() + " " + png.string());
  ASSERT_EQ(p.code, 0) << p.err;
  // "legs.png:" then 5 lines "  k. <class> <probability>", most likely first.
  std::istringstream lines(p.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, png.string() + ":");
  const std::vector<std::string> classes = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                            "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                            "Bag",         "Ankle boot"};
  double total = 0, previous = 1;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    std::istringstream fields(line);
    std::string rank, word, name;
    fields >> rank;
    EXPECT_EQ(rank, std::to_string(n) + ".") << line;
    std::vector<std::string> words;
    while (fields >> word) words.push_back(word);
    ASSERT_GE(words.size(), 2u) << line;
    const double prob = std::stod(words.back());
    words.pop_back();
    for (const auto& w : words) name += (name.empty() ? "" : " ") + w;
    EXPECT_NE(std::find(classes.begin(), classes.end(), name), classes.end()) << line;
    EXPECT_GE(prob, 0.0);
    EXPECT_LE(prob, previous + 1e-12) << "sorted, most likely first: " << p.out;
    previous = prob;
    total += prob;
  }
  EXPECT_EQ(n, 5) << p.out;
  EXPECT_LE(total, 1.0 + 5e-4) << p.out;  // five 4-digit probabilities of ten
  EXPECT_GT(total, 0.2) << p.out;

  // Images of another size, and files that are not images.
  const fs::path big = kTmp / "big.png";
  std::ofstream(big, std::ios::binary) << gray_png(32, 32, legs);
  expect_failure(ember("predict " + run.string() + " " + big.string()), 2,
                 {"big.png", "1x28x28", "1x32x32"});
  const fs::path corrupt = kTmp / "corrupt.png";
  std::ofstream(corrupt, std::ios::binary) << gray_png(28, 28, legs).substr(0, 60);
  expect_failure(ember("predict " + run.string() + " " + corrupt.string()), 2, {"corrupt.png"});

  // explain --index 3: the figure, and an Explanations section in the report.
  const fs::path figure = kTmp / "explain3.png";
  const Result e = ember("explain " + run.string() + " --index 3 --steps 32 -o " + figure.string());
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("integrated gradients"), std::string::npos) << e.out;
  ASSERT_TRUE(fs::exists(figure));
  EXPECT_EQ(slurp(figure).substr(0, 8), "\x89PNG\r\n\x1a\n");
  const std::string report = slurp(run / "report.html");
  EXPECT_NE(report.find("<h2>Explanations</h2>"), std::string::npos);
  EXPECT_NE(report.find("test-3: explaining"), std::string::npos);
  expect_failure(ember("explain " + run.string() + " --index 3 --input " + png.string()), 2,
                 {"--input", "--index"});
  expect_failure(ember("explain " + run.string() + " --index 10000"), 2, {"10000", "out of range"});
}

// A config for a one-layer character-level GPT of width n_embd on a corpus of one repeated
// sentence ("the cat sat on the mat. "), 150 steps: enough to learn it by heart.
fs::path cat_gpt_config(const std::string& name, int n_embd) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "the cat sat on the mat. ";
  write(name + ".txt", text);
  return write(name + ".toml", "[data]\nformat = \"text\"\npath = \"" + name + ".txt\"\n" +
                                   "[model]\ntype = \"gpt\"\nn_layer = 1\nn_head = 2\n" +
                                   "n_embd = " + std::to_string(n_embd) + "\nblock_size = 32\n" +
                                   "[optimizer]\nname = \"adamw\"\nlr = 3e-3\n"
                                   "[training]\nsteps = 150\nbatch_size = 16\n"
                                   "[output]\nplots = false\n");
}

// A character-level GPT through the command line: train, eval, greedy generate (streamed), and
// the clear errors for a prompt that does not fit the vocabulary or the context.
TEST(Cli, TextRunTrainEvalGenerate) {
  const fs::path cfg = cat_gpt_config("gpt", 32);
  const fs::path run = kTmp / "gpt_run";
  fs::remove_all(run);
  const Result t = ember("train " + cfg.string() + " --out " + run.string());
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("val_perplexity"), std::string::npos) << t.out;
  EXPECT_TRUE(fs::exists(run / "tokenizer.json"));
  const Result e = ember("eval " + run.string() + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("\"perplexity\""), std::string::npos) << e.out;
  const Result g = ember("generate " + run.string() +
                         " --prompt \"the cat \" --max-new-tokens 16 --temperature 0");
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_EQ(g.out, "the cat sat on the mat. \n");  // 16 new characters
  expect_failure(ember("generate " + run.string() + " --prompt \"the dog\""), 2,
                 {"'d'", "not in the vocabulary"});
  expect_failure(ember("generate " + run.string() + " --prompt \"" + std::string(40, 't') + "\""),
                 2, {"40 tokens", "context of 32"});
  expect_failure(ember("generate " + (kTmp / "nowhere").string()), 2, {"nowhere"});
}

// --matmul-precision medium (bfloat16 GEMM operands): the run still learns the corpus, records the
// precision in its config (so --resume keeps it), and a bad name is a usage error.
TEST(Cli, TrainAtMediumMatmulPrecision) {
  // 64 wide: the layers' products of 512 tokens exceed the 2^22 multiply-adds from which "medium"
  // rounds to bfloat16 (Note [GEMM libraries]).
  const fs::path cfg = cat_gpt_config("gpt_medium", 64);
  const fs::path run = kTmp / "gpt_medium_run";
  fs::remove_all(run);
  const Result t =
      ember("train " + cfg.string() + " --out " + run.string() + " --matmul-precision medium -q");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(slurp(run / "config.toml").find("matmul_precision = \"medium\""), std::string::npos);
  const Result g = ember("generate " + run.string() +
                         " --prompt \"the cat \" --max-new-tokens 16 --temperature 0");
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_EQ(g.out, "the cat sat on the mat. \n");
  const Result bad = ember("train " + cfg.string() + " --matmul-precision fast");
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--matmul-precision"), std::string::npos) << bad.err;
}

// Text classification through the command line: a bag of words and a BERT that starts from a
// masked-language-model pre-training run (model.init), eval on the test split, explain a passage.
TEST(Cli, TextClassesPretrainFineTuneExplain) {
  // Three "novels" whose words differ: each class is easy to tell from its vocabulary.
  const fs::path dir = kTmp / "novels";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const char* words[3][4] = {
      {"apple", "pear", "plum", "fig"}, {"oak", "elm", "ash", "yew"}, {"cat", "dog", "cow", "pig"}};
  const char* names[3] = {"fruit", "trees", "farm"};
  uint32_t r = 1;
  for (int c = 0; c < 3; ++c) {
    std::string text;
    for (int i = 0; i < 1500; ++i) {
      r = r * 1664525u + 1013904223u;
      text += std::string(words[c][(r >> 16) % 4]) + ((r >> 8) % 9 == 0 ? " the\n" : " and ");
    }
    std::ofstream(dir / (std::string(names[c]) + ".txt")) << text;
  }
  const std::string data = "[data]\nformat = \"text_classes\"\npath = \"" + dir.string() +
                           "\"\npassage_chars = 60\ntokenizer = \"char\"\n";
  const std::string bert = "n_layer = 1\nn_head = 2\nn_embd = 16\nblock_size = 64\ndropout = 0\n";
  const fs::path bow_run = kTmp / "bow_run", mlm_run = kTmp / "mlm_run",
                 bert_run = kTmp / "bert_run";
  for (const fs::path& p : {bow_run, mlm_run, bert_run}) fs::remove_all(p);

  const fs::path bow = write("bow.toml", data +
                                             "[model]\ntype = \"bow\"\nblock_size = 64\n"
                                             "[optimizer]\nlr = 0.05\n[training]\nepochs = 5\n");
  const Result b = ember("train " + bow.string() + " --out " + bow_run.string());
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("test_accuracy"), std::string::npos) << b.out;
  EXPECT_NE(slurp(bow_run / "report.html").find("count most for each class"), std::string::npos);

  const fs::path mlm = write("mlm.toml", data + "[model]\ntype = \"bert_mlm\"\n" + bert +
                                             "[optimizer]\nname = \"adamw\"\nlr = 3e-3\n"
                                             "[training]\nsteps = 60\nbatch_size = 16\n");
  const Result m = ember("train " + mlm.string() + " --out " + mlm_run.string());
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_NE(m.out.find("test_perplexity"), std::string::npos) << m.out;

  // Fine-tuning: the encoder comes from the pre-training run, with its tokenizer.
  const std::string tuned = "[data]\nformat = \"text_classes\"\npath = \"" + dir.string() +
                            "\"\npassage_chars = 60\ntokenizer = \"" + mlm_run.string() +
                            "\"\n[model]\ntype = \"bert\"\n" + bert + "init = \"" +
                            mlm_run.string() + "\"\n";
  const fs::path ft = write("bert.toml", tuned +
                                             "[optimizer]\nname = \"adamw\"\nlr = 3e-3\n"
                                             "[training]\nsteps = 80\nbatch_size = 16\n");
  const Result f = ember("train " + ft.string() + " --out " + bert_run.string());
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_NE(f.err.find("model.init: "), std::string::npos) << f.err;
  const Result e = ember("eval " + bert_run.string() + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("the test split of"), std::string::npos) << e.out;
  EXPECT_TRUE(fs::exists(bert_run / "explain" / "attribution_test-0.png"));
  const Result x = ember("explain " + bert_run.string() + " --index 2 --steps 8");
  ASSERT_EQ(x.code, 0) << x.err;
  EXPECT_TRUE(fs::exists(bert_run / "explain" / "attention_test-2_head1.png"));
  EXPECT_NE(x.out.find("integrated gradients for"), std::string::npos) << x.out;
  expect_failure(ember("explain " + bow_run.string() + " --index 0"), 2,
                 {"needs a BERT text classifier"});
  // A pre-training run of another width cannot initialise this model: the tensor is named.
  const fs::path wide =
      write("wide.toml", tuned + "[optimizer]\nlr = 1e-3\n[training]\nsteps = 1\n");
  expect_failure(
      ember("train " + wide.string() + " --out " + (kTmp / "wide_run").string() +
            " --set model.n_embd=32"),
      2,
      {"model.init", "tensors have other shapes", "16)", "another data.tokenizer or model size"});
}

// A CTR run on MovieLens: train (2 epochs of FM), eval with the ranking metrics, recommend for a
// user as a table and as JSON, prepare's tensors, and the errors users meet first.
TEST(Cli, CtrTrainEvalRecommendPrepare) {
  const std::string data = kSource + "/data/movielens.csv";
  if (!fs::exists(data)) GTEST_SKIP() << "run scripts/get-data.sh movielens";
  const fs::path run = kTmp / "ctr_run", prepared = kTmp / "ctr_prepared";
  fs::remove_all(run);
  fs::remove_all(prepared);
  const std::string sets = " --set training.epochs=2 --set output.plots=false";
  const std::string cfg = kSource + "/examples/movielens_fm.toml";
  const Result t = ember("train " + cfg + sets + " --out " + run.string() + " -q");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("test_roc_auc"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("test_hr@10"), std::string::npos) << t.out;
  const Result e = ember("eval " + run.string() + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("\"ndcg@10\""), std::string::npos) << e.out;
  const Result r = ember("recommend " + run.string() + " --user 15 --k 3");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5) << r.out;  // title, header, 3 rows
  const Result j = ember("recommend " + run.string() + " --user 15 --k 2 --json");
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_NE(j.out.find("\"title\""), std::string::npos) << j.out;
  expect_failure(ember("recommend " + run.string() + " --user nobody"), 2,
                 {"--user nobody", "no rows of this user"});
  const Result p = ember("prepare " + cfg + " --out " + prepared.string());
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NE(p.out.find("train 80003, val 10001, test 10000 rows"), std::string::npos) << p.out;
  EXPECT_TRUE(fs::exists(prepared / "data.safetensors"));
  EXPECT_TRUE(fs::exists(prepared / "preprocess.json"));
  expect_failure(
      ember("train " + kSource + "/examples/movielens_lr.toml --set model.type=\\\"mlp\\\""), 2,
      {"model.type = \"mlp\"", "does not fit data.format = \"ctr\""});
}

// ember launch runs mpirun: rank 0 alone reports and writes the run; the flags are checked.
TEST(Cli, LaunchTwoRanksAndDistributedFlags) {
  const fs::path run = kTmp / "iris_launch";
  fs::remove_all(run);
  const fs::path cfg = iris_config("launch.toml", "batch_size = 16\n[output]\nplots = false\n");
  const Result l = ember("launch -n 2 " + cfg.string() + " -- --zero -q --out " + run.string());
  ASSERT_EQ(l.code, 0) << l.out << l.err;
  EXPECT_NE(l.out.find("distributed: 2 ranks"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("(ZeRO-1)"), std::string::npos) << l.out;
  EXPECT_EQ(l.out.find("test_accuracy"), l.out.rfind("test_accuracy")) << "one report:\n" << l.out;
  EXPECT_TRUE(fs::exists(run / "checkpoints" / "best.json"));
  const Result e = ember("eval " + run.string() + " --json");
  ASSERT_EQ(e.code, 0) << e.err;

  expect_failure(ember("train " + cfg.string() + " --zero"), 2, {"--zero needs --distributed"});
  expect_failure(ember("train " + cfg.string() + " --device cuda:7"), 2, {"--device cuda:7"});
  const Result odd = ember("launch -n 3 " + cfg.string() + " -- -q --out " + run.string());
  EXPECT_NE(odd.code, 0);
  EXPECT_NE(odd.err.find("training.batch_size = 16 (the global batch) must be divisible by the 3 "
                         "ranks"),
            std::string::npos)
      << odd.err;
}

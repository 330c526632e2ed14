// The `ember` command: train, eval, predict, explain, inspect and summary over TOML configs.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "ember/ember.h"
#include "ember/models/models.h"
#include "generate_command.h"
#include "image_commands.h"
#include "launch_command.h"
#include "prepare_command.h"
#include "recommend_command.h"
#include "text_commands.h"

namespace fs = std::filesystem;
using namespace ember;

namespace {

// Exit codes (DESIGN.md, Errors): 0 ok, 1 failure while running, 2 bad usage, config or data.
constexpr int kOk = 0, kRunFailure = 1, kBadInput = 2;

void print_metrics(const train::Metrics& metrics) {
  for (const auto& [name, value] : metrics) std::printf("  %-16s %.6g\n", name.c_str(), value);
}

json::Value metrics_json(const train::Metrics& metrics) {
  json::Value j = json::Value::object();
  for (const auto& [name, value] : metrics) j[name] = value;
  return j;
}

// "cpu", "cuda", "cuda:N", or "auto" (this rank's GPU when CUDA is available, else the CPU).
Device parse_device(const std::string& name) {
  if (name == "auto") {
    if (!cuda::is_available()) return Device::cpu();
    return Device::cuda(dist::launch_env().local_rank % cuda::device_count());
  }
  const Device d = Device::parse(name);
  const int gpus = cuda::device_count();  // 0 also in builds without CUDA
  EMBER_CHECK_T(ConfigError, !d.is_cuda() || d.index < gpus, "--device ", name, ": ",
                gpus == 0
                    ? std::string("no CUDA device is available here (or this build has no CUDA)")
                    : "this machine has " + std::to_string(gpus) + " CUDA device(s)",
                "; use --device cpu or auto");
  return d;
}

// ---- ember train ----
struct TrainArgs {
  std::string config, out, resume;
  std::vector<std::string> overrides;
  bool quiet = false, verbose = false;
  int64_t stop_after = 0;
  bool distributed = false, zero = false;  // one rank of `mpirun ... ember train --distributed`
  double dist_timeout = 300, bucket_mb = 25;
  std::string device = "cpu";
  std::string matmul_precision;  // empty: the config's training.matmul_precision
};

// One line on how the ranks spent their time communicating (rank 0's view).
void print_comm(const train::TrainResult& r, int world, bool zero) {
  const dist::DDPStats& c = r.comm;
  const double hidden = c.comm_seconds > 0 ? 1 - c.wait_seconds / c.comm_seconds : 0;
  std::printf(
      "distributed: %d ranks; allreduce %.2f s of %.2f s training (%.1f%%), %.0f%% of it hidden "
      "behind backward; %.1f MB reduced per step in %lld buckets\n",
      world, c.comm_seconds, r.seconds, 100 * c.comm_seconds / std::max(r.seconds, 1e-9),
      100 * std::max(hidden, 0.0), c.syncs ? c.bytes / c.syncs / 1e6 : 0.0,
      static_cast<long long>(c.syncs ? c.reductions / c.syncs : 0));
  std::printf("optimizer state: %.2f MB on this rank of %.2f MB in all%s\n",
              static_cast<double>(r.optimizer_state_bytes) / 1e6,
              static_cast<double>(r.optimizer_state_bytes_total) / 1e6, zero ? " (ZeRO-1)" : "");
}

int run_train(const TrainArgs& a) {
  std::vector<std::string> overrides = a.overrides;
  if (!a.matmul_precision.empty())
    overrides.push_back("training.matmul_precision=\"" + a.matmul_precision + "\"");
  train::TrainConfig cfg = train::load_train_config(a.config, overrides);
  train::TrainOptions opts;
  opts.run_dir = !a.resume.empty() ? a.resume : !a.out.empty() ? a.out : cfg.output.dir;
  opts.resume = !a.resume.empty();
  opts.progress = train::detect_progress_mode(stderr, a.quiet);
  opts.verbose = a.verbose;
  opts.stop_after_steps = a.stop_after;
  opts.device = parse_device(a.device);
  if (a.distributed) {
    // GPU tensors travel over NCCL, CPU tensors over MPI.
    opts.group = dist::init_process_group(
        {.backend = opts.device.is_cuda() ? "nccl" : "mpi", .timeout_seconds = a.dist_timeout});
    opts.zero = a.zero;
    opts.bucket_cap_mb = a.bucket_mb;
    if (opts.group->rank() != 0) opts.progress = train::ProgressMode::Quiet;
  } else {
    EMBER_CHECK_T(ConfigError, !a.zero, "--zero needs --distributed");
    EMBER_CHECK_T(ConfigError, !dist::launch_env().launched || dist::launch_env().size == 1,
                  "started by mpirun with ", dist::launch_env().size,
                  " ranks but without --distributed: every rank would train alone and write the "
                  "same run directory; add --distributed (or use ember launch)");
  }
  train::TrainResult r;
  try {
    r = train::fit(cfg, opts);
  } catch (const dist::DistError& e) {
    // A rank is gone or hung: end the whole job, so that no rank waits forever.
    if (opts.group) opts.group->abort("ember train: " + e.message(), kRunFailure);
    throw;
  }
  if (opts.group && opts.group->rank() != 0) return kOk;  // rank 0 reports
  if (opts.group) print_comm(r, opts.group->size(), opts.zero);
  if (r.interrupted) {
    std::printf("stopped after step %lld as asked; resume with: ember train %s --resume %s\n",
                static_cast<long long>(r.steps), a.config.c_str(), r.run_dir.c_str());
    return kOk;
  }
  std::printf("%s: %lld steps in %.2f s%s; best step %lld\n", a.config.c_str(),
              static_cast<long long>(r.steps), r.seconds, r.stopped_early ? " (stopped early)" : "",
              static_cast<long long>(r.best_step));
  print_metrics(r.final_metrics);
  std::printf("run: %s", r.run_dir.c_str());
  if (cfg.output.report && cfg.output.plots)
    std::printf("  (report: %s/report.html)", r.run_dir.c_str());
  std::printf("\n");
  return kOk;
}

// ---- ember eval ----
int run_eval(const std::string& run_dir, const std::string& data_path, bool as_json,
             const std::string& device) {
  train::LoadedRun run = train::load_run(run_dir);
  run.model->to(parse_device(device));
  train::SplitData split;
  std::string what;
  train::Metrics ranking;  // CTR runs with users and items: HR@10, NDCG@10
  if (run.pre.is_text()) {
    EMBER_CHECK_T(
        ConfigError, data_path.empty(), "eval --data ", data_path,
        ": language models are evaluated on their corpus's validation split; drop --data");
    const train::TrainConfig cfg = train::load_run_config(run_dir);
    split = train::prepare_text_data(cfg, run.tokenizer).val;
    what = "the validation split of " + cfg.data.path;
  } else if (run.pre.is_text_classes()) {
    EMBER_CHECK_T(ConfigError, data_path.empty(), "eval --data ", data_path,
                  ": text classifiers are evaluated on their corpus's test split; drop --data");
    const train::TrainConfig cfg = train::load_run_config(run_dir);
    split = train::prepare_text_data(cfg, run.tokenizer).test;
    what = "the test split of " + cfg.data.path;
  } else if (run.pre.is_image()) {
    EMBER_CHECK_T(ConfigError, data_path.empty(), "eval --data ", data_path,
                  ": image runs are evaluated on their dataset's test split; drop --data");
    const train::TrainConfig cfg = train::load_run_config(run_dir);
    split = train::prepare_image_data(cfg).test;
    what = "the test split of " + cfg.data.path;
  } else if (run.pre.is_fields() && data_path.empty()) {  // with --data: the CSV path below
    const train::TrainConfig cfg = train::load_run_config(run_dir);
    const train::PreparedData d = train::prepare_ctr_data(cfg, &run.pre);
    split = d.test;
    what = "the test split of " + cfg.data.path;
    ranking = train::ctr_ranking_metrics(*run.model, cfg, d, d.test.rows, "");
  } else if (!data_path.empty()) {
    data::CsvOptions csv;
    csv.categorical = run.pre.categorical_columns();
    const data::Table t = data::read_csv(data_path, csv);
    std::vector<int64_t> rows(static_cast<size_t>(t.rows()));
    for (int64_t i = 0; i < t.rows(); ++i) rows[static_cast<size_t>(i)] = i;
    split = train::transform_split(run.pre, t, rows, /*training=*/false);
    what = data_path;
  } else {
    const train::TrainConfig cfg = train::load_run_config(run_dir);
    const data::Table t = train::load_table(cfg.data, run.pre.categorical_columns());
    const data::SplitIndices s = train::split_table(cfg, t, run.pre.task());
    split = train::transform_split(run.pre, t, s.test, false);
    what = "the test split of " + t.source;
  }
  EMBER_CHECK_T(ConfigError, split.size() > 0, "eval: no rows to evaluate in ", what);
  train::Metrics m = train::evaluate(*run.model, split, run.loss, run.pre, "");
  m.insert(m.end(), ranking.begin(), ranking.end());
  if (as_json) {
    json::Value j = json::Value::object();
    j["run"] = run_dir;
    j["data"] = what;
    j["rows"] = split.size();
    j["checkpoint"] = run.checkpoint;
    j["metrics"] = metrics_json(m);
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s (%s checkpoint, step %lld) on %s, %lld rows:\n", run_dir.c_str(),
                run.checkpoint.c_str(), static_cast<long long>(run.step), what.c_str(),
                static_cast<long long>(split.size()));
    print_metrics(m);
  }
  return kOk;
}

// ---- ember predict ----
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

int run_predict(const std::string& run_dir, const std::string& input, const std::string& output,
                int64_t top_k) {
  train::LoadedRun run = train::load_run(run_dir);
  if (run.pre.is_image()) return cli::predict_image(run_dir, input, top_k);
  data::CsvOptions csv;
  csv.categorical = run.pre.categorical_columns();
  const data::Table t = data::read_csv(input, csv);
  const train::Predictions p =
      train::predict(*run.model, run.pre.transform_features(t), run.loss, run.pre);
  const bool classification = run.pre.task() == data::Task::Classification;
  const auto classes = run.pre.class_names();
  std::string out;
  for (const auto& c : t.columns) out += csv_field(c.name) + ",";
  out += "prediction";
  if (classification)
    for (const auto& c : classes) out += "," + csv_field("prob_" + c);
  out += "\n";
  const std::vector<float> probs =
      classification ? p.probs.contiguous().to_vector<float>() : std::vector<float>{};
  const std::vector<int64_t> labels =
      classification ? p.labels.to_vector<int64_t>() : std::vector<int64_t>{};
  const std::vector<float> values =
      classification ? std::vector<float>{} : p.values.contiguous().to_vector<float>();
  for (int64_t r = 0; r < t.rows(); ++r) {
    for (const auto& c : t.columns) {
      const double v = c.values[static_cast<size_t>(r)];
      out += std::isnan(v) ? ""
             : c.type == data::ColumnType::Categorical
                 ? csv_field(c.categories[static_cast<size_t>(v)])
                 : number(v);
      out += ",";
    }
    if (classification) {
      out += csv_field(classes[static_cast<size_t>(labels[static_cast<size_t>(r)])]);
      for (size_t k = 0; k < classes.size(); ++k)
        out += "," + number(probs[static_cast<size_t>(r) * classes.size() + k]);
    } else {
      out += number(values[static_cast<size_t>(r)]);
    }
    out += "\n";
  }
  if (output.empty() || output == "-") {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    io::write_file_atomic(output, out);
    std::fprintf(stderr, "wrote %lld predictions to %s\n", static_cast<long long>(t.rows()),
                 output.c_str());
  }
  return kOk;
}

// ---- ember inspect ----
int run_inspect(const std::string& path, const std::string& target, const std::string& delimiter,
                bool as_json) {
  data::CsvOptions csv;
  EMBER_CHECK_T(ConfigError, delimiter.size() <= 1, "--delimiter '", delimiter,
                "': expected one character");
  if (!delimiter.empty()) csv.delimiter = delimiter[0];
  const data::Table t = data::read_csv(path, csv);
  const json::Value report = data::inspect(t, target);
  if (as_json)
    std::printf("%s\n", report.dump(2).c_str());
  else
    std::printf("%s", data::format_inspect(report).c_str());
  return kOk;
}

// ---- ember summary ----
int run_summary(const std::string& config, const std::vector<std::string>& overrides,
                int64_t batch_size, bool as_json) {
  const train::TrainConfig cfg = train::load_train_config(config, overrides);
  const train::PreparedData d = train::prepare_data(cfg);
  const std::string loss = train::resolve_loss(cfg, d.pre.task(), d.pre.num_classes());
  manual_seed(static_cast<uint64_t>(cfg.training.seed));
  auto model = models::create_model(cfg.model, d.pre, train::output_size(loss, d.pre));
  const train::ModelSummary s = train::summarize(
      *model, d.pre.input_shape(), batch_size > 0 ? batch_size : cfg.training.batch_size,
      cfg.optimizer.name, cfg.optimizer.momentum,
      d.pre.is_text() || d.pre.is_text_classes() ? kInt64 : kFloat32);
  if (as_json)
    std::printf("%s\n", train::summary_to_json(s).dump(2).c_str());
  else
    std::printf("%s", train::format_summary(s).c_str());
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Ember: train, evaluate, explain and use neural networks on tabular data and images "
      "from TOML configs.",
      "ember"};
  app.set_version_flag("--version", "ember 0.1.0");
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  ember inspect data/iris.csv --target species\n"
      "  ember train examples/iris.toml --set optimizer.lr=0.01\n"
      "  ember eval runs/iris\n"
      "  ember predict runs/iris new_flowers.csv -o predictions.csv\n"
      "  ember train examples/fmnist_cnn.toml && ember predict runs/fmnist_cnn shoe.png\n"
      "  ember explain runs/fmnist_cnn --index 12\n"
      "  ember train examples/movielens_deepfm.toml && ember recommend runs/movielens_deepfm "
      "--user 15\n"
      "Exit codes: 0 ok, 1 failure while running, 2 bad usage, config or data.");

  TrainArgs ta;
  CLI::App* train_cmd =
      app.add_subcommand("train",
                         "Train the model of CONFIG.toml; writes a run directory with checkpoints, "
                         "metrics, plots and report.html");
  train_cmd->add_option("config", ta.config, "TOML config (see examples/*.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  train_cmd->add_option("--set", ta.overrides,
                        "Override a config key, e.g. --set optimizer.lr=0.01 (repeatable)");
  train_cmd->add_option("--out", ta.out, "Run directory (default: output.dir of the config)");
  train_cmd->add_option("--resume", ta.resume,
                        "Continue the run in this directory from its last checkpoint");
  train_cmd->add_flag("-q,--quiet", ta.quiet, "Print only the final metrics");
  train_cmd->add_flag("-v,--verbose", ta.verbose, "Also print every evaluation");
  train_cmd
      ->add_option("--stop-after", ta.stop_after,
                   "Stop after this many steps (checkpointed; continue with --resume)")
      ->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--device", ta.device,
                        "Train on cpu (default), cuda, cuda:N, or auto (a GPU when there is one)");
  train_cmd
      ->add_option("--matmul-precision", ta.matmul_precision,
                   "float32 matmul precision: highest (default), high, or medium (bfloat16 "
                   "operands, float32 sums: about 2x the GEMM rate on CPUs with AVX512-BF16 and on "
                   "GPUs); sets training.matmul_precision")
      ->check(CLI::IsMember(float32_matmul_precision_names()));
  train_cmd->add_flag("--distributed", ta.distributed,
                      "Be one rank of a data-parallel run started by mpirun (see ember launch); "
                      "training.batch_size is the global batch");
  train_cmd->add_flag("--zero", ta.zero,
                      "With --distributed: shard the optimizer state over the ranks (ZeRO-1)");
  train_cmd
      ->add_option("--dist-timeout", ta.dist_timeout,
                   "With --distributed: seconds a rank waits for the others before the job stops "
                   "with an error naming the missing rank (default 300)")
      ->check(CLI::PositiveNumber);
  train_cmd
      ->add_option("--bucket-mb", ta.bucket_mb,
                   "With --distributed: gradient bucket size in MB (default 25)")
      ->check(CLI::PositiveNumber);
  cli::LaunchArgs la;
  cli::add_launch_command(app, la);

  std::string run_dir, data_path, input, output, csv_path, target, delimiter, config;
  std::string device = "cpu";
  std::vector<std::string> overrides;
  bool as_json = false;
  int64_t batch_size = 0;
  CLI::App* eval_cmd =
      app.add_subcommand("eval", "Evaluate a trained run on its test split or on --data FILE");
  eval_cmd->add_option("run_dir", run_dir, "Run directory written by ember train")->required();
  eval_cmd->add_option("--data", data_path,
                       "CSV with the target column (default: the test split, and for CTR runs "
                       "with users and items also HR@10 and NDCG@10)");
  eval_cmd->add_flag("--json", as_json, "Print the metrics as JSON");
  eval_cmd->add_option("--device", device, "cpu (default), cuda, cuda:N or auto");

  int64_t top_k = 5;
  CLI::App* predict_cmd = app.add_subcommand(
      "predict",
      "Predict every row of INPUT.csv (same columns as training), or the class of an image "
      "(PNG/JPEG of the training images' size) with its top-k probabilities");
  predict_cmd->add_option("run_dir", run_dir, "Run directory written by ember train")->required();
  predict_cmd->add_option("input", input, "CSV with the feature columns, or an image file")
      ->required();
  predict_cmd->add_option("-o,--output", output, "Output CSV (default: stdout; tables only)");
  predict_cmd->add_option("--top", top_k, "Classes to list for an image (default 5)")
      ->check(CLI::PositiveNumber);

  cli::ExplainArgs ea;
  CLI::App* explain_cmd = app.add_subcommand(
      "explain",
      "Attribution maps of an image classifier's prediction: saliency (gradient x input) and "
      "integrated gradients from a black baseline, overlaid on the image; for a BERT text "
      "classifier, attention maps per head and integrated gradients per token (PNGs, added to "
      "the run's report.html)");
  explain_cmd->add_option("run_dir", ea.run_dir, "Run directory of an image classifier")
      ->required();
  explain_cmd->add_option("--input", ea.input, "Image file (or text file) to explain")
      ->check(CLI::ExistingFile);
  explain_cmd->add_option("--index", ea.index, "Or: index of a test-set image or passage")
      ->check(CLI::NonNegativeNumber);
  explain_cmd->add_option("--target", ea.target, "Class index to explain (default: predicted)")
      ->check(CLI::NonNegativeNumber);
  explain_cmd->add_option("--steps", ea.steps, "Integrated-gradients steps (default 64)")
      ->check(CLI::PositiveNumber);
  explain_cmd->add_option("-o,--output", ea.out,
                          "Output PNG (default: RUN_DIR/explain/<image name>.png); for text, "
                          "the output directory (default: RUN_DIR/explain)");
  explain_cmd->add_option("--layer", ea.layer,
                          "Text: the layer whose attention maps are drawn (default: the last)");

  cli::GenerateArgs ga;
  CLI::App* generate_cmd = app.add_subcommand(
      "generate",
      "Sample text from a trained GPT (a run directory of model.type = \"gpt\"), streaming it to "
      "stdout; uses a KV cache, so each new token costs one position's forward pass");
  generate_cmd
      ->add_option("model", ga.model_dir,
                   "Run directory written by ember train, or a Hugging Face GPT-2 directory "
                   "(config.json + model.safetensors + tokenizer files)")
      ->required();
  generate_cmd->add_option("--prompt", ga.prompt, "Text to continue (default: a newline)");
  generate_cmd
      ->add_option("--max-new-tokens", ga.max_new_tokens, "Tokens to generate (default 200)")
      ->check(CLI::NonNegativeNumber);
  generate_cmd
      ->add_option("--temperature", ga.temperature,
                   "Softmax temperature; 0 picks the most likely token (default 0.8)")
      ->check(CLI::NonNegativeNumber);
  generate_cmd->add_option("--top-k", ga.top_k, "Sample among the k most likely tokens (0: all)")
      ->check(CLI::NonNegativeNumber);
  generate_cmd
      ->add_option("--top-p", ga.top_p,
                   "Nucleus sampling: the smallest set of tokens with this much "
                   "probability (default 1: all)")
      ->check(CLI::Range(0.0, 1.0));
  generate_cmd->add_option("--seed", ga.seed, "Random seed (default 0)");
  generate_cmd
      ->add_option("--num-samples", ga.num_samples,
                   "Sequences to generate in one batch (default 1; 1 streams)")
      ->check(CLI::PositiveNumber);

  CLI::App* inspect_cmd =
      app.add_subcommand("inspect",
                         "Data-quality report of a CSV: types, missing values, ranges, outliers, "
                         "constant columns, duplicate rows, target balance");
  inspect_cmd->add_option("data", csv_path, "CSV file")->required();
  inspect_cmd->add_option("--target", target, "Target column (adds its balance)");
  inspect_cmd->add_option("--delimiter", delimiter, "Field separator (default: detected)");
  inspect_cmd->add_flag("--json", as_json, "Print the report as JSON");

  CLI::App* summary_cmd = app.add_subcommand(
      "summary",
      "Layer table of CONFIG's model: output shapes, parameters, FLOPs per sample and "
      "the memory to train it at the configured batch size");
  summary_cmd->add_option("config", config, "TOML config")->required()->check(CLI::ExistingFile);
  summary_cmd->add_option("--set", overrides, "Override a config key (repeatable)");
  summary_cmd->add_option("--batch-size", batch_size, "Batch size (default: training.batch_size)");
  summary_cmd->add_flag("--json", as_json, "Print the summary as JSON");

  cli::TokenizerArgs tka;
  cli::add_tokenizer_command(app, tka);
  cli::ExportArgs xa;
  cli::add_export_command(app, xa);
  cli::RecommendArgs ra;
  cli::add_recommend_command(app, ra);
  cli::PrepareArgs pa;
  cli::add_prepare_command(app, pa);

  if (argc > 1 && argv[1][0] != '-') {
    const std::string first = argv[1];
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->get_name() == first;
    if (!known) {
      std::fprintf(
          stderr,
          "ember: unknown command '%s'; commands: train, eval, predict, explain, "
          "generate, recommend, inspect, summary, prepare, tokenizer, export, launch (see ember "
          "--help)\n",
          first.c_str());
      return kBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ember: %s (see ember --help or ember COMMAND --help)\n", e.what());
    return kBadInput;
  }

  const std::string command = app.get_subcommands().front()->get_name();
  try {
    if (command == "train") return run_train(ta);
    if (command == "launch") return cli::launch(la);
    if (command == "eval") return run_eval(run_dir, data_path, as_json, device);
    if (command == "predict") return run_predict(run_dir, input, output, top_k);
    if (command == "explain") return cli::explain(ea);
    if (command == "generate") return cli::generate(ga);
    if (command == "inspect") return run_inspect(csv_path, target, delimiter, as_json);
    if (command == "summary") return run_summary(config, overrides, batch_size, as_json);
    if (command == "tokenizer") return cli::run_tokenizer(app, tka);
    if (command == "export") return cli::run_export(xa);
    if (command == "recommend") return cli::recommend(ra);
    if (command == "prepare") return cli::prepare(pa);
  } catch (const train::RunError& e) {
    std::fprintf(stderr, "ember %s: %s\n", command.c_str(), e.message().c_str());
    return kRunFailure;
  } catch (const Error& e) {
    std::fprintf(stderr, "ember %s: %s\n", command.c_str(), e.message().c_str());
    return kBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember %s: %s\n", command.c_str(), e.what());
    return kRunFailure;
  }
  return kBadInput;
}

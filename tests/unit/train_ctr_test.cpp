// CTR models: the [[fields]] config, CTRModel's parts against hand computations, training on a
// small table with a learnable rule, recommendations and the leave-last-out ranking metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "ember/ember.h"
#include "ember/models/ctr.h"
#include "ember/train/pipeline.h"
#include "ember/train/recommend.h"
#include "ember/train/run_files.h"
#include "support/expect.h"
#include "support/model_checks.h"
#include "support/tmpdir.h"

using namespace ember;
using ember::testing::expect_error;
using ember::testing::write_file;
namespace fs = std::filesystem;

namespace {

// 40 users x 30 items. A user likes (rating 5) the items of their own "taste" (user % 3 ==
// item % 3) and dislikes (rating 1) the others; each user rated 18 items. Items carry a title and
// a genre list that depend only on the item.
std::string ratings_csv() {
  std::string s = "userId,movieId,title,genres,rating,timestamp\n";
  const char* genres[] = {"Drama|Romance", "Action", "Comedy|Drama"};
  for (int u = 0; u < 40; ++u)
    for (int k = 0; k < 18; ++k) {
      const int i = (u * 11 + k * 7) % 30;  // 7 is coprime with 30: 18 distinct items
      s += std::to_string(u) + "," + std::to_string(100 + i) + ",\"Movie " + std::to_string(i) +
           ", the\"," + genres[i % 3] + "," + (u % 3 == i % 3 ? "5" : "1") + "," +
           std::to_string(1000000 + u * 100 + k) + "\n";
    }
  return s;
}

const char* kFields = R"(
[[fields]]
name = "userId"

[[fields]]
name = "movieId"

[[fields]]
name = "genres"
type = "multi"
)";

fs::path ctr_config(const std::string& name, const std::string& model) {
  const fs::path dir = ember::testing::fresh_dir("ctr", name);
  write_file(dir / "ratings.csv", ratings_csv());
  write_file(dir / "cfg.toml", R"([data]
format = "ctr"
path = "ratings.csv"
target = "rating"
label_threshold = 4
user = "userId"
item = "movieId"
item_title = "title"
seed = 1
)" + std::string(kFields) + "\n[model]\n" +
                                   model + R"(
[optimizer]
name = "adam"
lr = 0.03

[training]
epochs = 30
batch_size = 64
monitor = "val_roc_auc"

[output]
plots = false
report = false
)");
  return dir;
}

// A hand-made layout: two single-slot fields (ids 1-4, 5-9) and a 3-slot mean-pooled field (ids
// 10-14), S = 5.
models::CTRConfig small_config(const std::string& type) {
  models::CTRConfig c;
  c.type = type;
  c.slots = {
      {"user", 0, 1, 1, 5, "sum"}, {"tags", 1, 3, 10, 15, "mean"}, {"item", 4, 1, 5, 10, "sum"}};
  c.num_ids = 15;
  c.embed_dim = 3;
  c.hidden = {4};
  return c;
}

}  // namespace

TEST(CtrConfig, FieldsLoadAndRoundTrip) {
  const fs::path dir = ctr_config(
      "config",
      "type = \"deepfm\"\nembed_dim = 4\nhidden = [8]\nembed_fields = [\"userId\", \"genres\"]\n");
  const train::TrainConfig cfg = train::load_train_config((dir / "cfg.toml").string());
  ASSERT_EQ(cfg.fields.size(), 3u);
  EXPECT_EQ(cfg.fields[2].type, "multi");
  EXPECT_EQ(cfg.fields[2].sep, "|");
  EXPECT_EQ(cfg.model.embed_dim, 4);
  EXPECT_EQ(cfg.model.embed_fields, (std::vector<std::string>{"userId", "genres"}));
  EXPECT_EQ(cfg.data.split, (std::vector<double>{0.8, 0.1, 0.1}));
  write_file(dir / "resolved.toml", train::to_toml(cfg));
  train::TrainConfig again = train::load_train_config((dir / "resolved.toml").string());
  again.source = cfg.source;
  again.output.dir = cfg.output.dir;
  EXPECT_EQ(again, cfg);
}

TEST(CtrConfig, ClearErrors) {
  const fs::path dir = ctr_config("errors", "type = \"deepfm\"\n");
  const std::string path = (dir / "cfg.toml").string();
  expect_error<ConfigError>(
      [&] { train::load_train_config(path, {"model.type=\"mlp\""}); },
      {"model.type = \"mlp\"", "does not fit data.format = \"ctr\"", "deepfm"});
  write_file(dir / "csv.toml",
             "[data]\npath = \"ratings.csv\"\ntarget = \"rating\"\n" + std::string(kFields));
  expect_error<ConfigError>([&] { train::load_train_config((dir / "csv.toml").string()); },
                            {"[[fields]] needs data.format = \"ctr\""});
  write_file(dir / "typo.toml",
             "[data]\nformat = \"ctr\"\npath = \"ratings.csv\"\ntarget = \"rating\"\n"
             "[[fields]]\nname = \"year\"\ntype = \"bucket\"\nwidht = 5\n");
  expect_error<ConfigError>([&] { train::load_train_config((dir / "typo.toml").string()); },
                            {"widht", "width"});
  write_file(dir / "none.toml",
             "[data]\nformat = \"ctr\"\npath = \"ratings.csv\"\ntarget = \"rating\"\n");
  expect_error<ConfigError>([&] { train::load_train_config((dir / "none.toml").string()); },
                            {"needs [[fields]]"});
  expect_error<ConfigError>(
      [&] { train::load_train_config(path, {"model.embed_fields=[\"userId\", \"genre\"]"}); },
      {"model.embed_fields", "no field 'genre'", "userId, movieId, genres"});
  expect_error<ConfigError>(
      [&] { train::load_train_config(path, {"model.embed_fields=[\"userId\", \"userId\"]"}); },
      {"lists 'userId' twice"});
}

// logit = bias + Σ_f pool_f(w[id] v) + FM(e) + DNN(e), checked against loops over the weights;
// with model.embed_fields, e (FM and DNN) covers only the fields listed, in the layout's order.
TEST(CtrModel, PartsMatchHandComputation) {
  manual_seed(3);
  const std::vector<std::string> all, item_and_tags = {"tags", "item"};
  for (const std::string type : {"logistic", "fm", "deepfm"})
    for (const std::vector<std::string>* embed : {&all, &item_and_tags}) {
      if (type == "logistic" && !embed->empty()) continue;
      models::CTRConfig cfg = small_config(type);
      cfg.embed_fields = *embed;
      models::CTRModel m(cfg);
      NoGradGuard g;
      nn::init::normal_(m.linear->weight);
      m.bias.fill_(0.25);
      // Two rows: ids (user, tag, tag, pad, item) with values.
      const Tensor x = from_vector<float>({2, 11, 13, 0, 6, /**/ 1.5f, 1, 1, 0, 1,  //
                                           4, 10, 0,  0, 9, /**/ 1,    1, 0, 0, 0.5f},
                                          {2, 2, 5});
      const Tensor out = m.forward(x);
      ASSERT_EQ(out.shape(), (Shape{2, 1}));
      const std::vector<float> w = m.linear->weight.contiguous().to_vector<float>();
      // Fields in the model's order: single-slot fields (user, item), then tags (mean of used).
      const std::vector<int> embedded =
          embed->empty() ? std::vector<int>{0, 1, 2} : std::vector<int>{1, 2};
      const auto F = static_cast<int64_t>(embedded.size());
      for (int b = 0; b < 2; ++b) {
        const auto id = [&](int s) { return static_cast<int>(x[b][0][s].item()); };
        const auto val = [&](int s) { return x[b][1][s].item(); };
        std::vector<std::vector<int>> ids = {{id(0)}, {id(4)}, {}};
        std::vector<std::vector<double>> vals = {{val(0)}, {val(4)}, {}};
        for (int s = 1; s <= 3; ++s)
          if (id(s) != 0) ids[2].push_back(id(s)), vals[2].push_back(1.0 / 1);
        double expect = 0.25;
        for (int f = 0; f < 3; ++f)
          for (size_t j = 0; j < ids[f].size(); ++j)
            expect += w[static_cast<size_t>(ids[f][j])] * vals[f][j] / (f == 2 ? ids[2].size() : 1);
        if (type != "logistic") {
          const Tensor E = m.embedding->weight;
          std::vector<std::vector<double>> e(embedded.size(), std::vector<double>(3, 0));
          for (size_t i = 0; i < embedded.size(); ++i) {
            const int f = embedded[i];
            for (size_t j = 0; j < ids[f].size(); ++j)
              for (int k = 0; k < 3; ++k)
                e[i][k] += E[ids[f][j]][k].item() * vals[f][j] / (f == 2 ? ids[2].size() : 1);
          }
          for (int k = 0; k < 3; ++k)
            for (size_t f = 0; f < e.size(); ++f)
              for (size_t f2 = f + 1; f2 < e.size(); ++f2)
                expect += e[f][k] * e[f2][k];  // Σ_{f<f'} <e_f, e_f'>
          if (type == "deepfm") {
            std::vector<float> flat;
            for (const auto& ef : e)
              for (int k = 0; k < 3; ++k) flat.push_back(static_cast<float>(ef[k]));
            expect += m.dnn->forward(from_vector(flat, {1, F * 3})).item();
          }
        }
        EXPECT_NEAR(out[b][0].item(), expect, 1e-5)
            << type << " with " << F << " fields, row " << b;
      }
    }
}

TEST(CtrModel, BadInputNamesShapes) {
  models::CTRModel m(small_config("fm"));
  expect_error<ShapeError>([&] { m.forward(zeros({4, 2, 6})); }, {"(B, 2, 5)", "(4, 2, 6)"});
  expect_error<ConfigError>([&] { models::CTRModel(small_config("mlp")); },
                            {"logistic, fm, deepfm, wide_deep"});
  models::CTRConfig typo = small_config("deepfm");
  typo.embed_fields = {"user", "itme"};
  expect_error<ConfigError>([&] { models::CTRModel{typo}; },
                            {"model.embed_fields", "no field 'itme'", "user, tags, item"});
  typo.embed_fields = {"item", "item"};
  expect_error<ConfigError>([&] { models::CTRModel{typo}; }, {"'item' is listed twice"});
}

// FM learns the taste rule (a user-item interaction no first-order model can express); the run
// directory reloads to the same metrics, and recommendations skip what the user has rated.
TEST(CtrTrain, FmLearnsInteractionsAndRecommends) {
  const fs::path dir = ctr_config("train", "type = \"fm\"\nembed_dim = 4\n");
  const train::TrainConfig cfg = train::load_train_config((dir / "cfg.toml").string());
  train::TrainOptions opts;
  opts.run_dir = (dir / "run").string();
  opts.progress = train::ProgressMode::Quiet;
  const train::TrainResult r = train::fit(cfg, opts);
  std::map<std::string, double> m(r.final_metrics.begin(), r.final_metrics.end());
  EXPECT_GT(m["test_roc_auc"], 0.95);
  EXPECT_GT(m["test_hr@10"], 0.5);
  EXPECT_GT(m["test_ranked_users"], 10);

  train::LoadedRun run = train::load_run(opts.run_dir);
  ASSERT_TRUE(run.pre.is_fields());
  const train::PreparedData d = train::prepare_ctr_data(cfg, &run.pre);
  const train::Metrics again = train::evaluate(*run.model, d.test, run.loss, run.pre, "test_");
  EXPECT_DOUBLE_EQ(again[0].second, m["test_loss"]);

  // ember predict's path: the preprocessor encodes any table through its fields.
  const Tensor all = run.pre.transform_features(d.table);
  EXPECT_EQ(all.shape(), (Shape{d.table.rows(), 2, run.pre.fields().num_slots()}));
  EXPECT_TRUE(
      ember::testing::bit_identical(all.narrow(0, d.test.rows[0], 1), d.test.x.narrow(0, 0, 1)));
  // ember eval --data's path: rows and labels of another table (here the test rows).
  const data::Preprocessor::Result tr = run.pre.transform(d.table.select_rows(d.test.rows), false);
  EXPECT_TRUE(ember::testing::bit_identical(tr.x, d.test.x));
  EXPECT_TRUE(ember::testing::bit_identical(tr.y, d.test.y));
  const train::Catalog catalog(d.table, cfg.data, train::time_column(cfg));
  EXPECT_EQ(catalog.size(), 30);
  EXPECT_EQ(catalog.item_columns(), (std::vector<std::string>{"movieId", "title", "genres"}));
  const std::vector<train::Recommendation> top =
      train::recommend(*run.model, run.pre.fields(), catalog, "4", 3);
  ASSERT_EQ(top.size(), 3u);  // user 4 has 4 unseen items of their taste
  std::set<std::string> seen;
  for (int64_t row : catalog.user_rows("4")) seen.insert(catalog.key(catalog.item_of(row)));
  for (const train::Recommendation& rec : top) {
    EXPECT_EQ(seen.count(rec.item), 0u) << rec.item;
    EXPECT_EQ(rec.title, "Movie " + std::to_string(std::stoi(rec.item) - 100) + ", the");
    EXPECT_EQ((std::stoi(rec.item) - 100) % 3, 4 % 3) << "an item of user 4's taste";
  }
  // The report's first-order table: one row per field, values named by the encoder.
  const train::ReportTable t = train::first_order_table(*run.model, run.pre.fields(), 2);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[2][0], "genres");
  EXPECT_NE(t.rows[2][1].find("genres="), std::string::npos) << t.rows[2][1];
  expect_error<ConfigError>(
      [&] { train::recommend(*run.model, run.pre.fields(), catalog, "999", 5); },
      {"--user 999", "no rows"});
}

// Bad input: a field on a column the CSV lacks names the columns; empty ids and ids never seen in
// training go to the field's OOV id; rows without a target are left out.
TEST(CtrTrain, BadInputIsNamedOrHandled) {
  const fs::path dir = ctr_config("bad", "type = \"fm\"\nembed_dim = 4\n");
  const std::string path = (dir / "cfg.toml").string();
  const train::TrainConfig cfg = train::load_train_config(path);
  train::TrainConfig typo = cfg;
  typo.fields[0].name = "userid";
  expect_error<ConfigError>([&] { train::prepare_ctr_data(typo); },
                            {"no column 'userid'", "userId", "movieId"});

  // Two rows more: one with an empty userId, one without a rating.
  std::string csv = ratings_csv();
  csv += ",101,\"Movie 1, the\",Action,5,1000001\n";
  csv += "3,102,\"Movie 2, the\",Comedy|Drama,,1000002\n";
  write_file(dir / "ratings.csv", csv);
  const train::PreparedData d = train::prepare_ctr_data(cfg);
  EXPECT_EQ(d.table.rows(), 40 * 18 + 1);  // the row without a rating is left out
  const data::FieldEncoder& enc = d.pre.fields();
  const data::FieldSlot& user = enc.slots()[0];
  const int64_t last = d.table.rows() - 1;  // the row with the empty userId
  const Tensor x = enc.transform_features(d.table, {last});
  EXPECT_EQ(x[0][0][user.first_slot].item(), static_cast<double>(user.id_begin));  // OOV id
  EXPECT_EQ(enc.id_of("userId", "999"), user.id_begin);
  EXPECT_NE(enc.id_of("userId", "4"), user.id_begin);
}

// History: columns in first-seen order, missing cells, CSV/JSON files and the exact JSON round
// trip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "ember/ember.h"
#include "ember/train/history.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using namespace ember::train;
using ember::testing::expect_error;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return ember::testing::fresh_dir("train_history", name);
}

// Two evaluation points of a run: train rows and a validation row at step 10.
History sample_history() {
  History h;
  h.add(1, 10, {{"lr", 0.1}, {"train_loss", 0.5}});
  h.add(1, 10, {{"val_loss", 0.6}, {"val_accuracy", 0.8}});
  h.add(2, 20, {{"train_loss", 0.4}, {"lr", 0.05}});
  return h;
}

// Equal element by element, NaN equal to NaN.
void expect_same_series(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) {
      EXPECT_TRUE(std::isnan(b[i])) << i;
    } else {
      EXPECT_EQ(a[i], b[i]) << i;
    }
  }
}

}  // namespace

TEST(TrainHistory, ColumnsAndSeries) {
  const History h = sample_history();
  EXPECT_EQ(h.size(), 3);
  EXPECT_EQ(h.columns(), (std::vector<std::string>{"epoch", "step", "lr", "train_loss", "val_loss",
                                                   "val_accuracy"}));
  expect_same_series(h.series("val_loss"), {NAN, 0.6, NAN});
  expect_same_series(h.series("lr"), {0.1, NAN, 0.05});
  EXPECT_EQ(h.steps(), (std::vector<double>{10, 10, 20}));
  EXPECT_EQ(h.epochs(), (std::vector<double>{1, 1, 2}));
  EXPECT_EQ(h.series("step"), h.steps());
  expect_error<ValueError>([&] { h.series("val_los"); },
                           {"'val_los'", "epoch, step, lr, train_loss, val_loss, val_accuracy"});
}

TEST(TrainHistory, AddRejectsBadNames) {
  History h;
  expect_error<ValueError>(
      [&] {
        h.add(0, 1, {{"loss", 1.0}, {"loss", 2.0}});
      },
      {"'loss'", "twice"});
  expect_error<ValueError>([&] { h.add(0, 1, {{"step", 1.0}}); }, {"'step'"});
  expect_error<ValueError>([&] { h.add(0, 1, {{"", 1.0}}); }, {"non-empty"});
  EXPECT_EQ(h.size(), 0);
  EXPECT_EQ(h.columns().size(), 2u);  // a rejected row adds no column
}

TEST(TrainHistory, WritesCsv) {
  const fs::path path = fresh_dir("csv") / "metrics.csv";
  History h = sample_history();
  h.write_csv(path.string());
  EXPECT_EQ(io::read_file(path.string()),
            "epoch,step,lr,train_loss,val_loss,val_accuracy\n"
            "1,10,0.1,0.5,,\n"
            "1,10,,,0.6,0.8\n"
            "2,20,0.05,0.4,,\n");

  // Every double reads back exactly; a name with a comma is quoted.
  const std::vector<double> values = {0.1 + 0.2, 1.0 / 3, 1e-300, 123456789.125, -2.5e17};
  History g;
  for (size_t i = 0; i < values.size(); ++i)
    g.add(0, static_cast<int64_t>(i), {{"a,b", values[i]}});
  g.write_csv(path.string());
  const std::string text = io::read_file(path.string());
  EXPECT_TRUE(text.starts_with("epoch,step,\"a,b\"\n")) << text;
  size_t line_start = text.find('\n') + 1;
  for (double v : values) {
    const size_t comma = text.find(',', text.find(',', line_start) + 1);
    EXPECT_EQ(std::strtod(text.c_str() + comma + 1, nullptr), v);
    line_start = text.find('\n', line_start) + 1;
  }
}

TEST(TrainHistory, WritesJson) {
  const fs::path path = fresh_dir("json") / "metrics.json";
  History h = sample_history();
  h.add(3, 30, {{"train_loss", std::numeric_limits<double>::infinity()}});
  h.write_json(path.string(), {{"val_accuracy", 0.75}, {"roc_auc", NAN}});
  const json::Value doc = json::parse_file(path.string());  // strict JSON
  const json::Value& rows = doc["history"];
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["epoch"].as_int(), 1);
  EXPECT_EQ(rows[0]["step"].as_int(), 10);
  EXPECT_EQ(rows[0]["lr"].as_double(), 0.1);
  EXPECT_TRUE(rows[0]["val_loss"].is_null());
  EXPECT_TRUE(rows[1]["lr"].is_null());
  EXPECT_EQ(rows[1]["val_accuracy"].as_double(), 0.8);
  EXPECT_EQ(rows[3]["train_loss"].as_string(), "Infinity");
  // Every row lists every column, in column order.
  std::vector<std::string> keys;
  for (const auto& [k, v] : rows[2].as_object()) keys.push_back(k);
  EXPECT_EQ(keys, h.columns());
  EXPECT_EQ(doc["final"]["val_accuracy"].as_double(), 0.75);
  EXPECT_TRUE(doc["final"]["roc_auc"].is_null());
}

TEST(TrainHistory, JsonRoundTripIsExact) {
  History h = sample_history();
  const double inf = std::numeric_limits<double>::infinity();
  h.add(2, 25, {{"val_loss", 1.0 / 3}, {"grad_norm", NAN}, {"lr", 1e-300}});
  h.add(3, 30, {{"train_loss", inf}, {"grad_norm", -inf}});
  // Through text, as a checkpoint would store it.
  const History back = History::from_json(json::parse(h.to_json().dump()));
  EXPECT_EQ(back.columns(), h.columns());
  EXPECT_EQ(back.size(), h.size());
  for (const std::string& c : h.columns()) expect_same_series(back.series(c), h.series(c));
  EXPECT_EQ(back.to_json(), h.to_json());
  const fs::path dir = fresh_dir("round_trip");
  h.write_csv((dir / "a.csv").string());
  back.write_csv((dir / "b.csv").string());
  EXPECT_EQ(io::read_file((dir / "a.csv").string()), io::read_file((dir / "b.csv").string()));
  EXPECT_EQ(History::from_json(json::Value::array()).size(), 0);
}

TEST(TrainHistory, FromJsonErrors) {
  expect_error<ValueError>([] { History::from_json(json::parse("{}")); },
                           {"from_json", "array", "object"});
  expect_error<ValueError>([] { History::from_json(json::parse("[{\"epoch\":1}]")); },
                           {"row 0", "'step'", "integer"});
  expect_error<ValueError>(
      [] {
        History::from_json(
            json::parse("[{\"epoch\":1,\"step\":2},{\"epoch\":1,\"step\":3,"
                        "\"loss\":\"high\"}]"));
      },
      {"row 1", "'loss'", "must be a number, null", "\"high\""});
  expect_error<ValueError>([] { History::from_json(json::parse("[3]")); }, {"row 0", "object"});
}

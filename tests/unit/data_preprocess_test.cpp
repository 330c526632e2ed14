// Preprocessor: fills, outliers, normalization, encodings, targets, JSON round trip, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ember/data/data.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;
using ember::testing::expect_values;

namespace {

// x = [1, 2, NA, 4, 10]: mean 4.25, population std 3.491060010942235, median 3, quartiles 1.75
// and 5.5 (numpy.percentile), every value once (mode: the smallest, 1).
const char* kTable =
    "x,c,y\n"
    "1,red,a\n"
    "2,blue,b\n"
    "NA,red,a\n"
    "4,green,b\n"
    "10,blue,a\n";

Table table(std::string_view text = kTable) {
  return parse_csv(text, "t.csv");
}

// Column 0 of the transformed x (the numeric feature).
std::vector<double> first_column(const Tensor& x) {
  std::vector<double> out;
  for (int64_t i = 0; i < x.size(0); ++i) out.push_back(x.at<float>({i, 0}));
  return out;
}

Preprocessor fitted(PreprocessOptions o, std::vector<std::string> features = {"x"}) {
  Preprocessor p(std::move(o), std::move(features), "y", Task::Classification);
  p.fit(table());
  return p;
}

}  // namespace

TEST(DataPreprocess, StandardizesFillsWithTheMeanAndOneHotEncodes) {
  Preprocessor p({}, {"x", "c"}, "y", Task::Classification);
  p.fit(table());
  EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"x", "c=blue", "c=green", "c=red"}));
  EXPECT_EQ(p.num_features(), 4);
  EXPECT_EQ(p.class_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.num_classes(), 2);
  EXPECT_EQ(p.task(), Task::Classification);
  EXPECT_EQ(p.categorical_columns(), (std::vector<std::string>{"c", "y"}));
  const Preprocessor::Result r = p.transform(table(), true);
  ASSERT_EQ(r.x.shape(), (Shape{5, 4}));
  EXPECT_EQ(r.x.dtype(), kFloat32);
  EXPECT_EQ(r.rows, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  // numpy: (x - x.mean()) / x.std() with the missing value filled by the mean (-> 0).
  expect_values(r.x, {-0.930949330329895,   0, 0, 1, -0.6445034146308899, 1, 0, 0, 0, 0, 0, 1,
                      -0.07161148637533188, 0, 1, 0, 1.647064208984375,   1, 0, 0});
  EXPECT_EQ(r.y.dtype(), kInt64);
  EXPECT_EQ(r.y.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0, 1, 0}));
  // Unseen category: all zeros; a missing category: the most frequent ("blue" and "red" tie at 2:
  // the first in sorted order).
  const Table u = table("x,c,y\n1,purple,a\n1,,b\n");
  expect_values(p.transform(u, false).x,
                {-0.930949330329895, 0, 0, 0, -0.930949330329895, 1, 0, 0});
  expect_values(p.transform_features(u),
                {-0.930949330329895, 0, 0, 0, -0.930949330329895, 1, 0, 0});
}

TEST(DataPreprocess, FillStrategies) {
  PreprocessOptions o;
  o.normalize = "none";
  o.missing = "median";
  EXPECT_EQ(first_column(fitted(o).transform_features(table()))[2], 3.0);
  o.missing = "mode";
  EXPECT_EQ(first_column(fitted(o).transform_features(table()))[2], 1.0);
  o.missing = "constant";
  o.fill_value = -7.5;
  EXPECT_EQ(first_column(fitted(o).transform_features(table())),
            (std::vector<double>{1, 2, -7.5, 4, 10}));
  o.missing = "mean";
  EXPECT_EQ(first_column(fitted(o).transform_features(table()))[2], 4.25);
}

TEST(DataPreprocess, DropRemovesRowsAndPredictionNamesTheLine) {
  PreprocessOptions o;
  o.missing = "drop";
  o.normalize = "none";
  const Preprocessor p = fitted(o);
  for (bool training : {true, false}) {
    const auto r = p.transform(table(), training);
    EXPECT_EQ(r.rows, (std::vector<int64_t>{0, 1, 3, 4}));
    EXPECT_EQ(first_column(r.x), (std::vector<double>{1, 2, 4, 10}));
    EXPECT_EQ(r.y.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1, 0}));
  }
  expect_error<ValueError>([&] { p.transform_features(table()); },
                           {"t.csv:4: column 'x' is missing", "missing = 'drop'"});
}

TEST(DataPreprocess, ZscoreOutliersClipOrDrop) {
  PreprocessOptions o;
  o.outliers = "zscore";
  o.outlier_threshold = 1.0;  // bounds 4.25 -+ 3.491: [0.7589, 7.7411]; 10 is an outlier
  const Preprocessor clip = fitted(o);
  // numpy: c = clip(x, lo, hi); (c - clip(present).mean()) / clip(present).std(), missing -> 4.25
  expect_values(clip.transform(table(), true).x,
                {-1.0413148403167725, -0.6535263657569885, 0.21899773180484772, 0.12205060571432114,
                 1.5727906227111816});
  o.outlier_action = "drop";
  const Preprocessor drop = fitted(o);
  const auto train = drop.transform(table(), true);
  EXPECT_EQ(train.rows, (std::vector<int64_t>{0, 1, 2, 3}));
  // Normalized with the kept rows' statistics: mean and std of [1, 2, 4].
  expect_values(
      train.x, {-1.0690449476242065, -0.26726123690605164, 1.5367521047592163, 1.3363062143325806});
  // Outside training, outliers are clipped instead.
  const auto eval = drop.transform(table(), false);
  EXPECT_EQ(eval.rows.size(), 5u);
  EXPECT_NEAR(eval.x.at<float>({4, 0}), 4.335827350616455, 1e-5);
}

TEST(DataPreprocess, IqrOutliersAndMinMaxRanges) {
  PreprocessOptions o;
  o.outliers = "iqr";
  o.outlier_threshold = 0.5;  // quartiles 1.75, 5.5: bounds [-0.125, 7.375]
  o.normalize = "minmax";
  expect_values(fitted(o).transform_features(table()),
                {0.0, 0.1568627506494522, 0.5098039507865906, 0.47058823704719543, 1.0});
  o.outliers = "iqr";
  o.outlier_threshold = 0;  // default 1.5: bounds [-3.875, 11.125], nothing clipped
  expect_values(fitted(o).transform_features(table()),
                {0.0, 0.1111111119389534, 0.3611111044883728, 0.3333333432674408, 1.0});
  o.normalize = "minmax_sym";
  expect_values(fitted(o).transform_features(table()),
                {-1.0, -0.7777777910232544, -0.2777777910232544, -0.3333333432674408, 1.0});
  // A constant feature is only shifted.
  o.outliers = "none";
  o.normalize = "standard";
  Preprocessor p(o, {"k"}, "y", Task::Classification);
  p.fit(table("k,y\n3,a\n3,b\n"));
  expect_values(p.transform_features(table("k,y\n3,a\n5,b\n")), {0, 2});
}

TEST(DataPreprocess, IndexEncoding) {
  PreprocessOptions o;
  o.categorical = "index";
  Preprocessor p(o, {"c"}, "y", Task::Classification);
  p.fit(table());
  EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"c"}));
  expect_values(p.transform_features(table()), {2, 0, 2, 1, 0});  // blue 0, green 1, red 2
  expect_error<ValueError>([&] { p.transform_features(table("c,y\nred,a\npurple,b\n")); },
                           {"t.csv:3: column 'c' has category 'purple'", "blue, green, red"});
}

TEST(DataPreprocess, NumericClassTargets) {
  const char* text = "x,label\n1,0\n2,1\n3,NA\n4,2\n5,1\n";
  Preprocessor p({}, {"x"}, "label", Task::Classification);
  p.fit(table(text));
  EXPECT_EQ(p.class_names(), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(p.categorical_columns(), std::vector<std::string>{});
  const auto r = p.transform(table(text), false);
  EXPECT_EQ(r.rows, (std::vector<int64_t>{0, 1, 3, 4}));  // missing target: always dropped
  EXPECT_EQ(r.y.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 1}));
  expect_error<ValueError>([&] { p.transform(table("x,label\n1,0\n2,5\n"), false); },
                           {"t.csv:3: target 'label' has class '5'", "classes: 0, 1, 2"});
  expect_error<ValueError>([&] { p.inverse_target(r.x); }, {"only regression"});
}

TEST(DataPreprocess, RegressionTargetIsStandardizedAndInverted) {
  const char* text = "x,y\n1,2\n2,4\n3,7\nNA,NA\n5,11\n";
  Preprocessor p({}, {"x"}, "y", Task::Regression);
  p.fit(table(text));
  EXPECT_EQ(p.num_classes(), 0);
  EXPECT_TRUE(p.class_names().empty());
  const auto r = p.transform(table(text), true);
  EXPECT_EQ(r.rows, (std::vector<int64_t>{0, 1, 2, 4}));
  ASSERT_EQ(r.y.shape(), (Shape{4, 1}));
  EXPECT_EQ(r.y.dtype(), kFloat32);
  // numpy over the kept rows: x [1, 2, 3, 5], y [2, 4, 7, 11] (mean 6, std 3.391164991562634)
  expect_values(r.x,
                {-1.1832159757614136, -0.5070925354957581, 0.16903084516525269, 1.521277666091919});
  expect_values(r.y,
                {-1.1795356273651123, -0.5897678136825562, 0.2948839068412781, 1.4744195938110352});
  expect_values(p.inverse_target(r.y), {2, 4, 7, 11}, 1e-5);
  PreprocessOptions raw;
  raw.normalize_target = false;
  Preprocessor q(raw, {"x"}, "y", Task::Regression);
  q.fit(table(text));
  expect_values(q.transform(table(text), true).y, {2, 4, 7, 11});
  expect_values(q.inverse_target(full({1, 1}, 3.0)), {3});
}

TEST(DataPreprocess, JsonRoundTripTransformsIdentically) {
  PreprocessOptions o;
  o.outliers = "zscore";
  o.missing = "median";
  Preprocessor p(o, {"x", "c"}, "y", Task::Classification);
  p.fit(table());
  const json::Value j = json::parse(p.to_json().dump(2));
  const Preprocessor q = Preprocessor::from_json(j);
  EXPECT_EQ(q.to_json(), p.to_json());
  EXPECT_EQ(q.feature_names(), p.feature_names());
  EXPECT_EQ(q.class_names(), p.class_names());
  EXPECT_EQ(q.options().missing, "median");
  const Table t = table("x,c,y\n0.1,red,a\nNA,blue,b\n1e6,green,a\n-3,teal,b\n");
  const auto a = p.transform(t, false), b = q.transform(t, false);
  EXPECT_EQ(a.x.to_vector<float>(), b.x.to_vector<float>());
  EXPECT_EQ(a.y.to_vector<int64_t>(), b.y.to_vector<int64_t>());
  // Regression with a numeric class list absent, unbounded outliers (null bounds).
  Preprocessor r({}, {"x"}, "y", Task::Regression);
  const Table reg = table("x,y\n1,0.1\n2,0.2\n4,0.7\n");
  r.fit(reg);
  const Preprocessor s = Preprocessor::from_json(json::parse(r.to_json().dump()));
  EXPECT_EQ(s.transform(reg, true).y.to_vector<float>(),
            r.transform(reg, true).y.to_vector<float>());
  EXPECT_TRUE(r.to_json()["features"][0]["low"].is_null());
  expect_error<ValueError>([] { Preprocessor::from_json(json::parse("{}")); }, {"format"});
  json::Value bad = p.to_json();
  bad["features"][1]["categories"] = json::parse(R"(["red", "blue", "green"])");
  expect_error<ValueError>([&] { Preprocessor::from_json(bad); }, {"sorted, distinct categories"});
}

TEST(DataPreprocess, ConfigurationErrors) {
  PreprocessOptions o;
  o.missing = "avg";
  expect_error<ConfigError>([&] { Preprocessor(o, {"x"}, "y", Task::Regression); },
                            {"missing = 'avg' is not allowed; allowed: drop, mean, median, mode, "
                             "constant"});
  o = {};
  o.normalize = "l2";
  expect_error<ConfigError>([&] { Preprocessor(o, {"x"}, "y", Task::Regression); },
                            {"normalize = 'l2'", "none, minmax, minmax_sym, standard"});
  expect_error<ConfigError>(
      [] {
        Preprocessor({}, {"x", "y"}, "y", Task::Regression);
      },
      {"target 'y' is also listed as a feature"});
  expect_error<ConfigError>(
      [] {
        Preprocessor({}, {"x", "zz"}, "y", Task::Classification).fit(table());
      },
      {"t.csv: no column 'zz'; columns are: x, c, y"});
  expect_error<ConfigError>([] { Preprocessor({}, {"x"}, "y", Task::Regression).fit(table()); },
                            {"target 'y' is categorical; regression needs a numeric target"});
  expect_error<ValueError>(
      [] { Preprocessor({}, {"x"}, "y", Task::Regression).transform_features(table()); },
      {"call fit first"});
  // Types must match the fit: read with the fitted categorical columns.
  const Preprocessor p = fitted({}, {"x", "c"});
  expect_error<ConfigError>([&] { p.transform_features(table("x,c\n1,2\n")); },
                            {"t.csv: column 'c' is numeric here but was categorical in training"});
  CsvOptions csv;
  csv.categorical = p.categorical_columns();
  csv.categorical.pop_back();  // the target is not in this file
  EXPECT_EQ(p.transform_features(parse_csv("x,c\n1,2\n", "t.csv", csv)).shape(), (Shape{1, 4}));
  expect_error<ConfigError>([&] { p.transform(table("x,c\n1,red\n"), false); },
                            {"t.csv: no column 'y'"});
  expect_error<ValueError>([] { fitted({}, {"x"}).fit(table("x,y\nNA,a\n")); },
                           {"column 'x' has no values in the training rows"});
}

TEST(DataPreprocess, IrisIsStandardizedPerColumn) {
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                    "data" / "iris.csv";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " is missing: run scripts/get-data.sh";
  const Table iris = read_csv(path.string());
  Preprocessor p({}, {}, "species", Task::Classification);  // features: all but the target
  p.fit(iris);
  EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"sepal_length", "sepal_width",
                                                         "petal_length", "petal_width"}));
  const auto r = p.transform(iris, true);
  ASSERT_EQ(r.x.shape(), (Shape{150, 4}));
  for (int64_t j = 0; j < 4; ++j) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < 150; ++i)
      s += r.x.at<float>({i, j}), s2 += std::pow(r.x.at<float>({i, j}), 2);
    EXPECT_NEAR(s / 150, 0, 1e-5) << j;
    EXPECT_NEAR(s2 / 150, 1, 1e-5) << j;  // population variance 1
  }
  std::vector<int64_t> counts(3, 0);
  for (int64_t c : r.y.to_vector<int64_t>()) ++counts[c];
  EXPECT_EQ(counts, (std::vector<int64_t>{50, 50, 50}));
}

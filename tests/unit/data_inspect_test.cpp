// inspect / format_inspect: column statistics, constants, duplicates, outliers, target, findings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "ember/data/data.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

namespace {

// v: [1, 2, 3, 4, 100, 1, NA]; k constant; c: red 4, blue 2, green 1; e all missing;
// row 6 repeats row 1; y: a 6, b 1.
const char* kTable =
    "v,k,c,e,y\n"
    "1,5,red,,a\n"
    "2,5,blue,,a\n"
    "3,5,red,,a\n"
    "4,5,red,,a\n"
    "100,5,blue,,b\n"
    "1,5,red,,a\n"
    "NA,5,green,,a\n";

Table table(std::string_view text) {
  return parse_csv(text, "t.csv");
}

bool has_finding(const json::Value& r, const std::string& text) {
  for (const json::Value& f : r["findings"].as_array())
    if (f.as_string() == text) return true;
  return false;
}

}  // namespace

TEST(DataInspect, ColumnStatistics) {
  const json::Value r = inspect(table(kTable), "y");
  EXPECT_EQ(r["source"].as_string(), "t.csv");
  EXPECT_EQ(r["rows"].as_int(), 7);
  EXPECT_EQ(r["columns"].as_int(), 5);
  const json::Value& v = r["column_stats"][0];
  EXPECT_EQ(v["name"].as_string(), "v");
  EXPECT_EQ(v["type"].as_string(), "numeric");
  EXPECT_EQ(v["missing"].as_int(), 1);
  EXPECT_DOUBLE_EQ(v["missing_pct"].as_double(), 100.0 / 7);
  EXPECT_EQ(v["distinct"].as_int(), 5);
  EXPECT_EQ(v["min"].as_double(), 1);
  EXPECT_EQ(v["max"].as_double(), 100);
  // By hand over [1, 1, 2, 3, 4, 100]: mean 111 / 6; squared deviations sum to 7977.5.
  EXPECT_DOUBLE_EQ(v["mean"].as_double(), 18.5);
  EXPECT_NEAR(v["std"].as_double(), std::sqrt(7977.5 / 6), 1e-12);
  // |z| of 100 is 2.24 (no z outlier); quartiles 1.25 and 3.75 put 100 above 3.75 + 1.5 * 2.5.
  EXPECT_EQ(v["outliers_z"].as_int(), 0);
  EXPECT_EQ(v["outliers_iqr"].as_int(), 1);
  const json::Value& c = r["column_stats"][2];
  EXPECT_EQ(c["type"].as_string(), "categorical");
  EXPECT_EQ(c["distinct"].as_int(), 3);
  EXPECT_EQ(c["top"].as_string(), "red");
  EXPECT_EQ(c["top_count"].as_int(), 4);
  const json::Value& e = r["column_stats"][3];
  EXPECT_EQ(e["missing"].as_int(), 7);
  EXPECT_TRUE(e["mean"].is_null());
  EXPECT_EQ(r["constant_columns"], json::parse(R"(["k", "e"])"));
  EXPECT_EQ(r["duplicate_rows"].as_int(), 1);
}

TEST(DataInspect, TargetBalanceAndFindings) {
  const json::Value r = inspect(table(kTable), "y");
  const json::Value& t = r["target"];
  EXPECT_EQ(t["name"].as_string(), "y");
  EXPECT_EQ(t["kind"].as_string(), "classes");
  EXPECT_EQ(t["classes"][0]["name"].as_string(), "a");
  EXPECT_EQ(t["classes"][0]["count"].as_int(), 6);
  EXPECT_DOUBLE_EQ(t["classes"][1]["pct"].as_double(), 100.0 / 7);
  for (const char* f :
       {"column 'v' has 1 missing value (14.3%)", "column 'k' is constant (every value is 5)",
        "column 'e' is empty (every value is missing)", "column 'e' has 7 missing values (100.0%)",
        "column 'v' has outliers: 0 with |z| > 3, 1 outside 1.5 IQR",
        "1 duplicate row (equal to an earlier row)",
        "target is imbalanced: class 'b' has 1 row (14.3%), under half of an even share (50.0%)"})
    EXPECT_TRUE(has_finding(r, f)) << f << "\n" << r.dump(2);
  EXPECT_EQ(r["findings"].size(), 7u) << r.dump(2);
  // Without a target: no target section, no balance finding.
  const json::Value n = inspect(table(kTable));
  EXPECT_TRUE(n["target"].is_null());
  EXPECT_EQ(n["findings"].size(), 6u);
  expect_error<ConfigError>([] { inspect(table(kTable), "label"); },
                            {"t.csv: no column 'label'; columns are: v, k, c, e, y"});
}

TEST(DataInspect, ZScoreOutliersIdentifiersAndNumericTargets) {
  std::string text = "z,name,y\n";
  for (int i = 0; i < 20; ++i)
    text += (i == 19 ? "100" : "0") + std::string(",n") + std::to_string(i) + "," +
            std::to_string(i * 0.5) + "\n";
  const json::Value r = inspect(table(text), "y");
  // 19 zeros and 100: mean 5, std sqrt(475); |z| of 100 = 95 / 21.8 = 4.4 > 3.
  EXPECT_EQ(r["column_stats"][0]["outliers_z"].as_int(), 1);
  EXPECT_EQ(r["column_stats"][0]["outliers_iqr"].as_int(), 1);
  EXPECT_TRUE(has_finding(r,
                          "column 'name' has a different value in every row (an identifier? "
                          "leave it out of the features)"));
  // y = 0, 0.5, ..., 9.5: not integers, so a numeric summary.
  const json::Value& t = r["target"];
  EXPECT_EQ(t["kind"].as_string(), "numeric");
  EXPECT_EQ(t["min"].as_double(), 0);
  EXPECT_EQ(t["max"].as_double(), 9.5);
  EXPECT_DOUBLE_EQ(t["mean"].as_double(), 4.75);
  EXPECT_NEAR(t["std"].as_double(), std::sqrt((20 * 20 - 1) / 12.0) * 0.5, 1e-12);
  // Small integer targets are classes, named by their value.
  const json::Value k = inspect(table("x,y\n1,0\n2,1\n3,1\n4,NA\n"), "y");
  EXPECT_EQ(k["target"]["kind"].as_string(), "classes");
  EXPECT_EQ(k["target"]["missing"].as_int(), 1);
  EXPECT_EQ(k["target"]["classes"][1]["name"].as_string(), "1");
  EXPECT_EQ(k["target"]["classes"][1]["count"].as_int(), 2);
  EXPECT_TRUE(has_finding(k, "target 'y' is missing in 1 row; training drops them"));
}

TEST(DataInspect, FormatsAnAlignedTableAndTheFindings) {
  const std::string text = format_inspect(inspect(table(kTable), "y"));
  EXPECT_EQ(text.rfind("t.csv: 7 rows, 5 columns\n", 0), 0u) << text;
  std::istringstream in(text);
  std::string line, header, cat_line;
  while (std::getline(in, line)) {
    if (line.rfind("column ", 0) == 0) header = line;
    if (line.rfind("c ", 0) == 0) cat_line = line;
  }
  ASSERT_FALSE(header.empty()) << text;
  ASSERT_FALSE(cat_line.empty()) << text;
  EXPECT_EQ(header.find("type"), cat_line.find("categorical")) << text;
  EXPECT_EQ(header.find("top"), cat_line.find("red (4)")) << text;
  EXPECT_NE(text.find("target 'y' (2 classes): a 6 (85.7%), b 1 (14.3%)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\nfindings:\n  - column 'v' has 1 missing value (14.3%)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 duplicate row"), std::string::npos);
  const std::string clean = format_inspect(inspect(table("a,b\n1,x\n2,y\n")));
  EXPECT_NE(clean.find("findings: none"), std::string::npos) << clean;
  // A header-only table has no statistics to show, but still formats.
  const std::string empty = format_inspect(inspect(table("a,b\n")));
  EXPECT_NE(empty.find("t.csv: 0 rows, 2 columns"), std::string::npos) << empty;
}

TEST(DataInspect, DiabetesMatchesNumpy) {
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                    "data" / "diabetes.csv";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " is missing: run scripts/get-data.sh";
  const json::Value r = inspect(read_csv(path.string()), "progression");
  // /usr/bin/python3: d = np.genfromtxt(path, delimiter=',', names=True); for each column x:
  // len(np.unique(x)), x.mean(), x.std(), (abs(x - x.mean()) > 3 * x.std()).sum(),
  // IQR rule with np.percentile(x, [25, 75]).
  struct Want {
    const char* name;
    int64_t distinct;
    double mean, std;
    int64_t z, iqr;
  };
  const Want want[] = {{"bmi", 163, 26.38, 4.413, 2, 3},
                       {"s3", 63, 49.79, 12.92, 5, 7},
                       {"s4", 66, 4.07, 1.289, 4, 2},
                       {"s6", 56, 91.26, 11.48, 0, 9}};
  for (const Want& w : want) {
    const json::Value* s = nullptr;
    for (const json::Value& c : r["column_stats"].as_array())
      if (c["name"].as_string() == w.name) s = &c;
    ASSERT_NE(s, nullptr) << w.name;
    EXPECT_EQ((*s)["distinct"].as_int(), w.distinct) << w.name;
    EXPECT_NEAR((*s)["mean"].as_double(), w.mean, 0.01) << w.name;
    EXPECT_NEAR((*s)["std"].as_double(), w.std, 0.01) << w.name;
    EXPECT_EQ((*s)["outliers_z"].as_int(), w.z) << w.name;
    EXPECT_EQ((*s)["outliers_iqr"].as_int(), w.iqr) << w.name;
  }
  EXPECT_EQ(r["target"]["kind"].as_string(), "numeric");
  EXPECT_NEAR(r["target"]["mean"].as_double(), 152.1, 0.05);
  EXPECT_EQ(r["duplicate_rows"].as_int(), 0);
}

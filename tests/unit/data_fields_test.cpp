// FieldEncoder: every field type, OOV ids, leave-one-out target means, JSON round trip, errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "ember/data/fields.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

namespace {

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> r(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) r[i] = i;
  return r;
}

FieldSpec spec(std::string name, std::string type) {
  FieldSpec s;
  s.name = std::move(name);
  s.type = std::move(type);
  return s;
}

// x[row, 0, slot] (the id) and x[row, 1, slot] (the value).
int64_t id_at(const Tensor& x, int64_t row, int64_t slot) {
  return static_cast<int64_t>(x.at<float>({row, 0, slot}));
}
float value_at(const Tensor& x, int64_t row, int64_t slot) {
  return x.at<float>({row, 1, slot});
}

// c: b x3, a x2, c, d in the training rows 0-6; row 7 holds an unseen value, row 8 a missing one.
// u: numbers used as categories (31 twice, 4.5 once).
const char* kCategorical =
    "c,u,y\n"
    "b,31,1\n"
    "a,4.5,0\n"
    "b,31,1\n"
    "c,7,0\n"
    "a,7,1\n"
    "b,8,0\n"
    "d,8,1\n"
    "z,99,1\n"
    "NA,NA,0\n";

}  // namespace

TEST(DataFields, CategoricalIdsByFrequencyThenValueWithOovForUnseenAndMissing) {
  const Table t = parse_csv(kCategorical, "t.csv");
  FieldEncoder e({spec("c", "categorical"), spec("u", "categorical")}, "y", 0.5);
  e.fit(t, range(7));
  ASSERT_EQ(e.slots().size(), 2u);
  // c: OOV 1, b 2, a 3, c 4, d 5; u: OOV 6, 31 7, 7 8, 8 9, 4.5 10.
  EXPECT_EQ(e.slots()[0].id_begin, 1);
  EXPECT_EQ(e.slots()[0].id_end, 6);
  EXPECT_EQ(e.slots()[0].pooling, "sum");
  EXPECT_EQ(e.slots()[1].first_slot, 1);
  EXPECT_EQ(e.num_ids(), 11);
  EXPECT_EQ(e.num_slots(), 2);
  EXPECT_EQ(e.id_of("c", "b"), 2);
  EXPECT_EQ(e.id_of("c", "d"), 5);
  EXPECT_EQ(e.id_of("c", "never"), 1);
  EXPECT_EQ(e.id_of("u", "31"), 7);
  EXPECT_EQ(e.id_of("u", "4.5"), 10);
  EXPECT_EQ(e.describe(3), "c=a");
  EXPECT_EQ(e.describe(6), "u=<OOV>");
  EXPECT_EQ(e.describe(0), "<pad>");
  const FieldEncoder::Encoded enc = e.transform(t, range(9));
  ASSERT_EQ(enc.x.shape(), (Shape{9, 2, 2}));
  const std::vector<int64_t> c_ids = {2, 3, 2, 4, 3, 2, 5, 1, 1};
  const std::vector<int64_t> u_ids = {7, 10, 7, 8, 8, 9, 9, 6, 6};
  for (int64_t r = 0; r < 9; ++r) {
    EXPECT_EQ(id_at(enc.x, r, 0), c_ids[r]) << "row " << r;
    EXPECT_EQ(id_at(enc.x, r, 1), u_ids[r]) << "row " << r;
    EXPECT_EQ(value_at(enc.x, r, 0), 1.0f);
  }
  ::ember::testing::expect_values(enc.y, {1, 0, 1, 0, 1, 0, 1, 1, 0});

  // The same numbers read as strings map to the same ids.
  CsvOptions as_text;
  as_text.categorical = {"u"};
  const Table s = parse_csv("c,u,y\na,4.5,1\nb,31,0\n", "s.csv", as_text);
  const Tensor x = e.transform_features(s, {0, 1});
  EXPECT_EQ(id_at(x, 0, 1), 10);
  EXPECT_EQ(id_at(x, 1, 1), 7);

  // min_freq 2 keeps b and a only.
  FieldSpec rare = spec("c", "categorical");
  rare.min_freq = 2;
  FieldEncoder r({rare}, "y", 0.5);
  r.fit(t, range(7));
  EXPECT_EQ(r.num_ids(), 4);
  EXPECT_EQ(r.id_of("c", "c"), 1);
  EXPECT_EQ(r.id_of("c", "a"), 3);
}

TEST(DataFields, HashedCategoriesUseExactlyTheirBuckets) {
  const Table t = parse_csv(kCategorical, "t.csv");
  FieldSpec h = spec("c", "categorical");
  h.hash_buckets = 4;
  FieldEncoder e({h, spec("u", "categorical")}, "y", 0.5);
  e.fit(t, range(7));
  EXPECT_EQ(e.slots()[0].id_begin, 1);
  EXPECT_EQ(e.slots()[0].id_end, 5);
  EXPECT_EQ(e.slots()[1].id_begin, 5);
  const Tensor x = e.transform_features(t, range(9));
  for (int64_t r = 0; r < 9; ++r) {
    EXPECT_GE(id_at(x, r, 0), 1);
    EXPECT_LT(id_at(x, r, 0), 5);
  }
  EXPECT_EQ(id_at(x, 0, 0), id_at(x, 2, 0));  // the same value, the same bucket
  EXPECT_EQ(id_at(x, 0, 0), e.id_of("c", "b"));
  EXPECT_EQ(id_at(x, 8, 0), 1);  // missing: the first bucket
  EXPECT_EQ(e.describe(e.id_of("c", "b")).rfind("c=#", 0), 0u);
}

TEST(DataFields, MultiValuedFieldsPadAndTruncate) {
  const Table t = parse_csv(
      "g,y\n"
      "A|B,1\n"
      "B,0\n"
      "C|B|A,1\n"
      "NA,0\n"
      "B|D,1\n"
      "E|B|A|C,0\n",
      "m.csv");
  FieldSpec g = spec("g", "multi");
  g.pooling = "sum";
  FieldEncoder e({g}, "y", 0.5);
  e.fit(t, range(5));
  // B 4, A 2, C 1, D 1 -> OOV 1, B 2, A 3, C 4, D 5; at most 3 values in a training row.
  ASSERT_EQ(e.slots().size(), 1u);
  EXPECT_EQ(e.slots()[0].n_slots, 3);
  EXPECT_EQ(e.slots()[0].pooling, "sum");
  EXPECT_EQ(e.num_ids(), 6);
  EXPECT_EQ(e.num_slots(), 3);
  const Tensor x = e.transform_features(t, range(6));
  const std::vector<std::vector<int64_t>> ids = {{3, 2, 0}, {2, 0, 0}, {4, 2, 3},
                                                 {1, 0, 0}, {2, 5, 0}, {1, 2, 3}};
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t j = 0; j < 3; ++j) {
      EXPECT_EQ(id_at(x, r, j), ids[r][j]) << "row " << r << " slot " << j;
      EXPECT_EQ(value_at(x, r, j), ids[r][j] == 0 ? 0.0f : 1.0f) << "row " << r << " slot " << j;
    }
  EXPECT_EQ(e.id_of("g", "D"), 5);
  EXPECT_EQ(e.describe(4), "g=C");
}

TEST(DataFields, NumericStandardizesAndFillsTheMean) {
  // x = [1, 2, NA, 4, 10]: mean 4.25, population std 3.491060010942235.
  const Table t = parse_csv("x,y\n1,0\n2,1\nNA,0\n4,1\n10,0\n", "n.csv");
  FieldEncoder e({spec("x", "numeric")}, "y", 0.5);
  e.fit(t, range(5));
  EXPECT_EQ(e.num_ids(), 2);
  const Tensor x = e.transform_features(t, range(5));
  const std::vector<double> want = {-0.930949330329895, -0.6445034146308899, 0, -0.07161148889342,
                                    1.6470642445486};
  for (int64_t r = 0; r < 5; ++r) {
    EXPECT_EQ(id_at(x, r, 0), 1);
    EXPECT_NEAR(value_at(x, r, 0), want[r], 1e-6) << "row " << r;
  }
  EXPECT_EQ(e.describe(1), "x");
}

TEST(DataFields, BucketsByBoundariesWidthAndQuantiles) {
  const Table t = parse_csv("x,y\n1,0\n2,1\nNA,0\n4,1\n10,0\n", "b.csv");
  FieldSpec by_edges = spec("e", "bucket");
  by_edges.column = "x";
  by_edges.boundaries = {2, 5};
  FieldSpec by_width = spec("w", "bucket");
  by_width.column = "x";
  by_width.width = 5;
  FieldEncoder e({by_edges, by_width}, "y", 0.5);
  e.fit(t, range(5));
  // e: OOV 1, (-inf, 2) 2, [2, 5) 3, [5, inf) 4. w: edges 0 5 10 15 -> OOV 5, then 6..10.
  EXPECT_EQ(e.slots()[0].id_end, 5);
  EXPECT_EQ(e.slots()[1].id_begin, 5);
  EXPECT_EQ(e.slots()[1].id_end, 11);
  const Tensor x = e.transform_features(t, range(5));
  const std::vector<int64_t> want_e = {2, 3, 1, 3, 4}, want_w = {7, 7, 5, 7, 9};
  for (int64_t r = 0; r < 5; ++r) {
    EXPECT_EQ(id_at(x, r, 0), want_e[r]) << "row " << r;
    EXPECT_EQ(id_at(x, r, 1), want_w[r]) << "row " << r;
  }
  EXPECT_EQ(e.describe(2), "e=(-inf, 2)");
  EXPECT_EQ(e.describe(4), "e=[5, inf)");
  EXPECT_EQ(e.describe(7), "w=[0, 5)");
  EXPECT_EQ(e.id_of("w", "-3"), 6);
  EXPECT_EQ(e.id_of("w", "12.5"), 9);
  EXPECT_EQ(e.id_of("w", "99"), 10);

  // Quartiles of 1..10 (numpy): 3.25, 5.5, 7.75.
  std::string text = "x,y\n";
  for (int i = 1; i <= 10; ++i) text += std::to_string(i) + ",0\n";
  const Table q = parse_csv(text, "q.csv");
  FieldSpec quart = spec("x", "bucket");
  quart.quantiles = 4;
  FieldEncoder eq({quart}, "y", 0.5);
  eq.fit(q, range(10));
  EXPECT_EQ(eq.num_ids(), 6);
  const Tensor xq = eq.transform_features(q, range(10));
  const std::vector<int64_t> want_q = {2, 2, 2, 3, 3, 4, 4, 5, 5, 5};
  for (int64_t r = 0; r < 10; ++r) EXPECT_EQ(id_at(xq, r, 0), want_q[r]) << "row " << r;
  EXPECT_EQ(eq.describe(3), "x=[3.25, 5.5)");
  EXPECT_EQ(eq.describe(5), "x=[7.75, inf)");
}

TEST(DataFields, TimestampPartsInUtc) {
  // 0: 1970-01-01 00:00 Thursday; 1700000000: 2023-11-14 22:13:20 Tuesday; 951782400:
  // 2000-02-29 00:00 Tuesday; -1: 1969-12-31 23:59:59 Wednesday.
  const Table t = parse_csv("ts,y\n0,1\n1700000000,0\n951782400,1\n-1,0\nNA,1\n", "ts.csv");
  FieldSpec ts = spec("ts", "timestamp");
  ts.parts = {"year", "month", "day", "weekday", "hour", "minute"};
  FieldEncoder e({ts}, "y", 0.5);
  e.fit(t, {0, 1});
  ASSERT_EQ(e.slots().size(), 6u);
  EXPECT_EQ(e.slots()[0].name, "ts.year");
  EXPECT_EQ(e.slots()[5].name, "ts.minute");
  // year 1970..2023: 1 + 54 ids; month 13; day 32; weekday 8; hour 25; minute 61.
  EXPECT_EQ(e.slots()[0].id_end - e.slots()[0].id_begin, 55);
  EXPECT_EQ(e.num_ids(), 1 + 55 + 13 + 32 + 8 + 25 + 61);
  EXPECT_EQ(e.num_slots(), 6);
  const Tensor x = e.transform_features(t, range(5));
  const std::vector<std::string> names = {"year", "month", "day", "weekday", "hour", "minute"};
  const std::vector<std::vector<std::string>> want = {{"1970", "1", "1", "3", "0", "0"},
                                                      {"2023", "11", "14", "1", "22", "13"},
                                                      {"2000", "2", "29", "1", "0", "0"},
                                                      {"", "12", "31", "2", "23", "59"}};
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t p = 0; p < 6; ++p) {
      const std::string field = "ts." + names[p];
      const std::string desc = field + "=" + (want[r][p].empty() ? "<OOV>" : want[r][p]);
      EXPECT_EQ(e.describe(id_at(x, r, p)), desc) << "row " << r;
      EXPECT_EQ(id_at(x, r, p), e.id_of(field, want[r][p])) << "row " << r;
    }
  for (int64_t p = 0; p < 6; ++p) EXPECT_EQ(id_at(x, 4, p), e.slots()[p].id_begin);  // missing
}

TEST(DataFields, CountsTrainingRowsPerValue) {
  // k over the training rows 0-4: a x3, b, c; per-row counts 3 3 1 3 1, median 3 -> edge [3].
  const Table t = parse_csv("k,y\na,1\na,0\nb,1\na,1\nc,0\na,1\nz,0\nNA,1\n", "c.csv");
  FieldSpec cnt = spec("kc", "count");
  cnt.column = "k";
  cnt.quantiles = 2;
  FieldEncoder e({cnt}, "y", 0.5);
  e.fit(t, range(5));
  EXPECT_EQ(e.num_ids(), 4);  // OOV 1, (-inf, 3) 2, [3, inf) 3
  EXPECT_EQ(e.statistic("kc", t, range(8)).size(), 8u);
  const std::vector<double> s = e.statistic("kc", t, range(7));
  EXPECT_EQ(s, (std::vector<double>{3, 3, 1, 3, 1, 3, 0}));
  const Tensor x = e.transform_features(t, range(8));
  const std::vector<int64_t> want = {3, 3, 2, 3, 2, 3, 2, 1};
  for (int64_t r = 0; r < 8; ++r) EXPECT_EQ(id_at(x, r, 0), want[r]) << "row " << r;
  EXPECT_EQ(e.id_of("kc", "a"), 3);
  EXPECT_EQ(e.describe(3), "kc=[3, inf)");
}

TEST(DataFields, MeanLabelLeavesTheRowOutOnTrainingRowsOnly) {
  // Training rows 0-4: a: labels 1 0 1, b: 1 0; prior p = 3/5, m = 2.
  const Table t = parse_csv("k,y\na,5\na,1\na,4\nb,4\nb,2\na,1\nc,5\nb,5\nNA,4\n", "ml.csv");
  FieldSpec ml = spec("km", "mean_label");
  ml.column = "k";
  ml.smoothing = 2;
  ml.quantiles = 5;
  FieldEncoder e({ml}, "y", 4);
  e.fit(t, range(5));
  const double p = 0.6;
  const std::vector<double> s = e.statistic("km", t, range(9));
  // Training rows: (sum - y + m p) / (n - 1 + m).
  EXPECT_DOUBLE_EQ(s[0], (2 - 1 + 2 * p) / (3 - 1 + 2.0));
  EXPECT_DOUBLE_EQ(s[1], (2 - 0 + 2 * p) / (3 - 1 + 2.0));
  EXPECT_DOUBLE_EQ(s[2], (2 - 1 + 2 * p) / (3 - 1 + 2.0));
  EXPECT_DOUBLE_EQ(s[3], (1 - 1 + 2 * p) / (2 - 1 + 2.0));
  EXPECT_DOUBLE_EQ(s[4], (1 - 0 + 2 * p) / (2 - 1 + 2.0));
  // Other rows: the plain smoothed mean (sum + m p) / (n + m); unseen: the prior.
  EXPECT_DOUBLE_EQ(s[5], (2 + 2 * p) / (3 + 2.0));
  EXPECT_DOUBLE_EQ(s[6], p);
  EXPECT_DOUBLE_EQ(s[7], (1 + 2 * p) / (2 + 2.0));
  EXPECT_TRUE(std::isnan(s[8]));
  // Training values 0.4 0.55 0.55 0.7333 0.8 -> edges 0.52 0.55 0.62333 0.74667.
  const Tensor x = e.transform_features(t, range(9));
  const std::vector<int64_t> want = {4, 6, 4, 2, 5, 5, 4, 4, 1};
  for (int64_t r = 0; r < 9; ++r) EXPECT_EQ(id_at(x, r, 0), want[r]) << "row " << r;
  // The same rows in another table (another source) are not training rows.
  const Table copy = parse_csv("k,y\na,5\na,1\na,4\nb,4\nb,2\na,1\nc,5\nb,5\nNA,4\n", "x.csv");
  EXPECT_DOUBLE_EQ(e.statistic("km", copy, {0})[0], (2 + 2 * p) / (3 + 2.0));
  EXPECT_EQ(e.id_of("km", "a"), 5);
}

namespace {

// Users a, b over time ts (out of order); label y >= 4. Training rows 0-3, 5-8; rows 4 and 9-11
// are validation rows. a's training history in (ts, row) order: r1 (10, 0), r3 (20, 1),
// r5 (20, 1), r0 (30, 1), r8 (40, 0); b's: r2 (20, 1) (r6 has no time); r7 has no user.
const char* kRecent =
    "u,ts,y\n"
    "a,30,5\n"
    "a,10,1\n"
    "b,20,4\n"
    "a,20,4\n"
    "a,25,5\n"
    "a,20,5\n"
    "b,NA,5\n"
    "NA,15,4\n"
    "a,40,2\n"
    "b,5,1\n"
    "c,50,5\n"
    "a,NA,1\n";
const std::vector<int64_t> kRecentTrain = {0, 1, 2, 3, 5, 6, 7, 8};

FieldSpec recent_spec(int64_t window) {
  FieldSpec r = spec("rm", "recent_mean_label");
  r.column = "u";
  r.time_column = "ts";
  r.window = window;
  r.smoothing = 1;
  r.quantiles = 4;
  return r;
}

}  // namespace

TEST(DataFields, RecentMeanLabelSeesOnlyEarlierTrainingRowsOfTheKey) {
  const Table t = parse_csv(kRecent, "recent.csv");
  FieldEncoder e({recent_spec(2)}, "y", 4);
  e.fit(t, kRecentTrain);
  const double p = 6.0 / 8;  // training labels 1 0 1 1 1 1 1 0
  const auto v = [&](double sum, double n) { return (sum + p) / (n + 1); };
  const std::vector<double> s = e.statistic("rm", t, range(12));
  ASSERT_EQ(s.size(), 12u);
  EXPECT_DOUBLE_EQ(s[0], v(2, 2));  // a@30: r1 r3 r5 before it; the window keeps r3 r5
  EXPECT_DOUBLE_EQ(s[1], p);        // a@10: the first of a
  EXPECT_DOUBLE_EQ(s[2], p);        // b@20: the first of b
  EXPECT_DOUBLE_EQ(s[3], v(0, 1));  // a@20 (row 3): r1; r5 has the same time, a later row
  EXPECT_DOUBLE_EQ(s[4], v(2, 2));  // validation a@25: r3 r5 (of r1 r3 r5), not itself
  EXPECT_DOUBLE_EQ(s[5], v(1, 2));  // a@20 (row 5): r1 and r3 (same time, earlier row)
  EXPECT_DOUBLE_EQ(s[6], p);        // missing time
  EXPECT_DOUBLE_EQ(s[7], p);        // missing user
  EXPECT_DOUBLE_EQ(s[8], v(2, 2));  // a@40: r5 r0
  EXPECT_DOUBLE_EQ(s[9], p);        // validation b@5: b's only training row is later
  EXPECT_DOUBLE_EQ(s[10], p);       // unseen user
  EXPECT_DOUBLE_EQ(s[11], p);       // validation row without a time
  // Training values .9167 .75 .75 .375 .5833 .75 .75 .9167 -> quartile edges .7083 .75 .7917:
  // OOV 1, (-inf, .7083) 2, [.7083, .75) 3, [.75, .7917) 4, [.7917, inf) 5.
  EXPECT_EQ(e.num_ids(), 6);
  const Tensor x = e.transform_features(t, range(12));
  const std::vector<int64_t> want = {5, 4, 4, 2, 5, 2, 4, 4, 5, 4, 4, 4};
  for (int64_t r = 0; r < 12; ++r) {
    EXPECT_EQ(id_at(x, r, 0), want[r]) << "row " << r;
    EXPECT_EQ(value_at(x, r, 0), 1.0f) << "row " << r;
  }
  EXPECT_EQ(e.describe(1), "rm=<OOV>");
  EXPECT_EQ(e.describe(4).rfind("rm=[0.75, 0.791666", 0), 0u) << e.describe(4);
  // id_of: a row later than all of a key's training rows (a: r0 r8 -> v(1, 2); b: r2 ->
  // v(1, 1)); "" and unseen keys get the prior.
  EXPECT_EQ(e.id_of("rm", "a"), 2);
  EXPECT_EQ(e.id_of("rm", "b"), 5);
  EXPECT_EQ(e.id_of("rm", ""), 4);
  EXPECT_EQ(e.id_of("rm", "zz"), 4);

  // Another table (candidates, no target): earlier means a strictly smaller time only.
  const Table cand = parse_csv("u,ts\na,20\na,100\nb,21\nc,1\n", "cand.csv");
  const std::vector<double> c = e.statistic("rm", cand, range(4));
  EXPECT_EQ(c, (std::vector<double>{v(0, 1), v(1, 2), v(1, 1), p}));
  const Table copy = parse_csv(kRecent, "copy.csv");  // the same rows, another source
  const std::vector<double> cs = e.statistic("rm", copy, {3, 5});
  EXPECT_DOUBLE_EQ(cs[0], v(0, 1));
  EXPECT_DOUBLE_EQ(cs[1], v(0, 1));  // row 3 (same time) no longer counts as earlier

  // Without the window cut a@30 sees r1 r3 r5 and a@40 all four earlier rows.
  FieldEncoder wide({recent_spec(10)}, "y", 4);
  wide.fit(t, kRecentTrain);
  const std::vector<double> w = wide.statistic("rm", t, {0, 8});
  EXPECT_DOUBLE_EQ(w[0], v(2, 3));
  EXPECT_DOUBLE_EQ(w[1], v(3, 4));

  // Errors.
  FieldSpec no_time = recent_spec(2);
  no_time.time_column.clear();
  expect_error<ConfigError>([&] { FieldEncoder({no_time}, "y", 4); },
                            {"field 'rm'", "time_column"});
  FieldSpec zero = recent_spec(0);
  expect_error<ConfigError>([&] { FieldEncoder({zero}, "y", 4); }, {"field 'rm'", "window", "0"});
  FieldSpec stray = spec("u", "mean_label");
  stray.time_column = "ts";
  expect_error<ConfigError>([&] { FieldEncoder({stray}, "y", 4); }, {"time_column", "only"});
  FieldSpec leak = recent_spec(2);
  leak.time_column = "y";
  expect_error<ConfigError>([&] { FieldEncoder({leak}, "y", 4); }, {"time_column", "target"});
  CsvOptions text_time;
  text_time.categorical = {"ts"};
  const Table ct = parse_csv(kRecent, "ct.csv", text_time);
  FieldEncoder cat({recent_spec(2)}, "y", 4);
  expect_error<ConfigError>([&] { cat.fit(ct, kRecentTrain); }, {"time_column 'ts'", "numeric"});
  expect_error<ConfigError>([&] { e.statistic("rm", ct, {0}); }, {"time_column 'ts'", "numeric"});
}

TEST(DataFields, RecentMeanLabelJsonRoundTrip) {
  const Table t = parse_csv(kRecent, "recent.csv");
  FieldEncoder e({spec("u", "categorical"), recent_spec(2), spec("ts", "numeric")}, "y", 4);
  e.fit(t, kRecentTrain);
  const json::Value j = e.to_json();
  const FieldEncoder back = FieldEncoder::from_json(json::parse(j.dump()));
  EXPECT_EQ(back.to_json().dump(), j.dump());
  EXPECT_EQ(back.specs(), e.specs());
  EXPECT_EQ(back.transform_features(t, range(12)).to_vector<float>(),
            e.transform_features(t, range(12)).to_vector<float>());
  EXPECT_EQ(back.statistic("rm", t, range(12)), e.statistic("rm", t, range(12)));
  const Table cand = parse_csv("u,ts\na,20\na,100\nb,21\nc,1\n", "cand.csv");
  EXPECT_EQ(back.statistic("rm", cand, range(4)), e.statistic("rm", cand, range(4)));
  for (const char* key : {"a", "b", "", "zz"}) EXPECT_EQ(back.id_of("rm", key), e.id_of("rm", key));
  for (int64_t id = 0; id < e.num_ids(); ++id) EXPECT_EQ(back.describe(id), e.describe(id));
  json::Value unsorted = j;
  unsorted["slots"][1]["time"][0] = 99.0;  // a's history starts at r1 (10)
  expect_error<ValueError>([&] { FieldEncoder::from_json(unsorted); }, {"'rm'", "sorted"});
  json::Value label = j;
  label["slots"][1]["label"][0] = 0.5;
  expect_error<ValueError>([&] { FieldEncoder::from_json(label); }, {"'rm'", "0 or 1"});
  json::Value shorter = j;
  shorter["slots"][1]["row"] = json::Array{1};
  expect_error<ValueError>([&] { FieldEncoder::from_json(shorter); }, {"'rm'", "sum(n)"});
}

TEST(DataFields, JsonRoundTripTransformsBitIdentically) {
  const Table t = parse_csv(
      "u,g,x,ts,y\n"
      "1,A|B,1.5,1700000000,5\n"
      "2,B,NA,951782400,1\n"
      "1,C|B|A,3,0,4\n"
      "3,NA,4,NA,2\n"
      "2,B|D,10,86400,4\n"
      "9,E,7,12345678,3\n"
      "1,A,2,1600000000,5\n",
      "rt.csv");
  FieldSpec g = spec("g", "multi"), x = spec("x", "numeric"), b = spec("xb", "bucket");
  b.column = "x";
  b.quantiles = 3;
  FieldSpec h = spec("uh", "categorical"), c = spec("uc", "count"), m = spec("um", "mean_label");
  h.column = c.column = m.column = "u";
  h.hash_buckets = 7;
  FieldEncoder e({spec("u", "categorical"), g, x, b, spec("ts", "timestamp"), h, c, m}, "y", 4);
  e.fit(t, {0, 1, 2, 3, 4});
  const json::Value j = e.to_json();
  const FieldEncoder back = FieldEncoder::from_json(json::parse(j.dump()));
  EXPECT_EQ(back.to_json().dump(), j.dump());
  EXPECT_EQ(back.num_ids(), e.num_ids());
  EXPECT_EQ(back.num_slots(), e.num_slots());
  const FieldEncoder::Encoded a = e.transform(t, range(7)), r = back.transform(t, range(7));
  EXPECT_EQ(a.x.to_vector<float>(), r.x.to_vector<float>());
  EXPECT_EQ(a.y.to_vector<float>(), r.y.to_vector<float>());
  EXPECT_EQ(back.statistic("um", t, range(7)), e.statistic("um", t, range(7)));
  for (int64_t id = 0; id < e.num_ids(); ++id) EXPECT_EQ(back.describe(id), e.describe(id));
  json::Value broken = j;
  broken["slots"][1]["id_begin"] = 99;
  expect_error<ValueError>([&] { FieldEncoder::from_json(broken); }, {"contiguous"});
}

TEST(DataFields, Errors) {
  const Table t = parse_csv("c,x,y\na,1,1\nb,2,NA\n", "e.csv");
  expect_error<ConfigError>([&] { FieldEncoder({spec("c", "nope")}, "y", 0.5); },
                            {"field 'c'", "type", "categorical"});
  FieldSpec pool = spec("c", "multi");
  pool.pooling = "max";
  expect_error<ConfigError>([&] { FieldEncoder({pool}, "y", 0.5); }, {"field 'c'", "pooling"});
  FieldSpec width = spec("c", "categorical");
  width.width = 5;
  expect_error<ConfigError>([&] { FieldEncoder({width}, "y", 0.5); }, {"field 'c'", "width"});
  FieldSpec both = spec("x", "bucket");
  both.width = 5;
  both.quantiles = 4;
  expect_error<ConfigError>([&] { FieldEncoder({both}, "y", 0.5); }, {"field 'x'", "exclusive"});
  FieldSpec parts = spec("x", "timestamp");
  parts.parts = {"second"};
  expect_error<ConfigError>([&] { FieldEncoder({parts}, "y", 0.5); }, {"parts", "'second'"});
  expect_error<ConfigError>([&] { FieldEncoder({spec("y", "numeric")}, "y", 0.5); },
                            {"field 'y'", "target"});
  expect_error<ConfigError>(
      [&] {
        FieldEncoder({spec("c", "categorical"), spec("c", "count")}, "y", 0.5);
      },
      {"two fields", "'c'"});

  FieldEncoder missing({spec("zz", "categorical")}, "y", 0.5);
  expect_error<ConfigError>([&] { missing.fit(t, {0}); }, {"no column 'zz'"});
  FieldEncoder num({spec("c", "numeric")}, "y", 0.5);
  expect_error<ConfigError>([&] { num.fit(t, {0}); }, {"field 'c'", "numeric column"});
  FieldEncoder ok({spec("c", "categorical")}, "y", 0.5);
  expect_error<ValueError>([&] { ok.fit(t, {}); }, {"e.csv", "no training rows"});
  expect_error<ValueError>([&] { ok.fit(t, {0, 1}); }, {"e.csv:3", "target 'y' is missing"});
  expect_error<ValueError>([&] { ok.transform(t, {0}); }, {"call fit first"});
  ok.fit(t, {0});
  expect_error<ValueError>([&] { ok.transform(t, {0, 1}); }, {"e.csv:3", "target 'y' is missing"});
  EXPECT_EQ(ok.transform_features(t, {0, 1}).shape(), (Shape{2, 2, 1}));  // no labels needed
  expect_error<IndexError>([&] { ok.transform_features(t, {2}); }, {"row 2"});
  expect_error<ConfigError>([&] { ok.id_of("q", "a"); }, {"no field 'q'", "c"});
  expect_error<IndexError>([&] { ok.describe(ok.num_ids()); }, {"out of range"});
}

TEST(DataFields, MovieLens) {
  const std::string path = std::string(EMBER_SOURCE_DIR) + "/data/movielens.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent (scripts/get-data.sh)";
  const Table t = read_csv(path);
  ASSERT_EQ(t.rows(), 100004);
  std::vector<int64_t> train, rest;
  for (int64_t i = 0; i < t.rows(); ++i) (i % 5 ? train : rest).push_back(i);
  FieldSpec year = spec("year", "bucket");
  year.width = 5;
  FieldSpec count = spec("user_count", "count"), mean = spec("movie_mean", "mean_label");
  count.column = "userId";
  mean.column = "movieId";
  FieldEncoder e({spec("userId", "categorical"), spec("movieId", "categorical"),
                  spec("genres", "multi"), year, spec("timestamp", "timestamp"), count, mean},
                 "rating", 4);
  const auto t0 = std::chrono::steady_clock::now();
  e.fit(t, train);
  const auto t1 = std::chrono::steady_clock::now();
  const FieldEncoder::Encoded enc = e.transform(t, range(t.rows()));
  const auto t2 = std::chrono::steady_clock::now();
  std::printf("movielens: fit %.1f ms, transform of %lld rows %.1f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              static_cast<long long>(t.rows()),
              std::chrono::duration<double, std::milli>(t2 - t1).count());
  // Training rows (i % 5 != 0): 671 users, 8417 movies, 20 genres (at most 10 in a row),
  // years 1902..2016 (edges 1900..2020), ratings 1995..2016.
  const std::vector<int64_t> sizes = {672, 8418, 21, 27, 23, 13, 8, 25};
  ASSERT_EQ(e.slots().size(), 10u);
  int64_t ids = 1;
  for (size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(e.slots()[i].id_end - e.slots()[i].id_begin, sizes[i]) << e.slots()[i].name;
    ids += sizes[i];
  }
  for (size_t i = 8; i < 10; ++i) {
    const int64_t n = e.slots()[i].id_end - e.slots()[i].id_begin;
    EXPECT_GE(n, 3) << e.slots()[i].name;
    EXPECT_LE(n, 11) << e.slots()[i].name;
    ids += n;
  }
  EXPECT_EQ(e.num_ids(), ids);
  EXPECT_EQ(e.num_slots(), 1 + 1 + 10 + 1 + 4 + 1 + 1);
  EXPECT_EQ(enc.x.shape(), (Shape{100004, 2, e.num_slots()}));
  const std::vector<float> x = enc.x.to_vector<float>();
  for (size_t r = 0; r < 100004; ++r)
    for (int64_t s = 0; s < e.num_slots(); ++s) {
      const float id = x[r * 2 * e.num_slots() + s];
      ASSERT_TRUE(id >= 0 && id < static_cast<float>(e.num_ids())) << "row " << r;
    }
  EXPECT_EQ(e.describe(static_cast<int64_t>(x[0])), "userId=1");  // "31,Dangerous Minds,...,1,"
  EXPECT_EQ(e.describe(static_cast<int64_t>(x[2])), "genres=Drama");
  const FieldEncoder back = FieldEncoder::from_json(json::parse(e.to_json().dump()));
  EXPECT_EQ(back.transform_features(t, rest).to_vector<float>(),
            e.transform_features(t, rest).to_vector<float>());
}

TEST(DataFields, RecentMeanLabelOnMovieLens) {
  const std::string path = std::string(EMBER_SOURCE_DIR) + "/data/movielens.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent (scripts/get-data.sh)";
  const Table t = read_csv(path);
  std::vector<int64_t> train, rest;
  for (int64_t i = 0; i < t.rows(); ++i) (i % 5 ? train : rest).push_back(i);
  FieldSpec recent = spec("user_recent", "recent_mean_label");
  recent.column = "userId";
  recent.time_column = "timestamp";
  FieldEncoder e({recent}, "rating", 4);
  const auto t0 = std::chrono::steady_clock::now();
  e.fit(t, train);
  const auto t1 = std::chrono::steady_clock::now();
  const FieldEncoder::Encoded enc = e.transform(t, range(t.rows()));
  const auto t2 = std::chrono::steady_clock::now();
  std::printf("movielens recent_mean_label: fit %.1f ms, transform of %lld rows %.1f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              static_cast<long long>(t.rows()),
              std::chrono::duration<double, std::milli>(t2 - t1).count());
  EXPECT_LT(std::chrono::duration<double>(t2 - t0).count(), 5.0);
  const std::vector<double> s = e.statistic("user_recent", t, range(t.rows()));

  // Brute force on a sample: the 10 latest training rows of the user before the row in
  // (timestamp, row) order.
  const Column& user = t.column("userId");
  const Column& ts = t.column("timestamp");
  const Column& rating = t.column("rating");
  std::vector<uint8_t> is_train(static_cast<size_t>(t.rows()), 0);
  double label_sum = 0;
  for (int64_t r : train) is_train[r] = 1, label_sum += rating.values[r] >= 4;
  const double p = label_sum / static_cast<double>(train.size());
  for (int64_t r = 0; r < t.rows(); r += 997) {
    std::vector<std::pair<double, int64_t>> before;
    for (int64_t q : train)
      if (user.values[q] == user.values[r] &&
          (ts.values[q] < ts.values[r] || (ts.values[q] == ts.values[r] && q < r)))
        before.emplace_back(ts.values[q], q);
    std::sort(before.begin(), before.end());
    double sum = 0, n = 0;
    for (size_t i = before.size() > 10 ? before.size() - 10 : 0; i < before.size(); ++i)
      sum += rating.values[before[i].second] >= 4, ++n;
    EXPECT_NEAR(s[r], (sum + 10 * p) / (n + 10), 1e-12) << "row " << r;
  }
  // The statistic carries signal: on held-out rows, the top bucket likes more than the bottom.
  const std::vector<float> x = enc.x.to_vector<float>(), y = enc.y.to_vector<float>();
  const int64_t lo_id = e.slots()[0].id_begin + 1, hi_id = e.slots()[0].id_end - 1;
  double like[2] = {0, 0}, count[2] = {0, 0};
  for (int64_t r : rest) {
    const auto id = static_cast<int64_t>(x[r * 2]);
    ASSERT_GT(id, e.slots()[0].id_begin) << "row " << r;  // never OOV
    ASSERT_LT(id, e.slots()[0].id_end) << "row " << r;
    if (id == lo_id || id == hi_id) like[id == hi_id] += y[r], ++count[id == hi_id];
  }
  ASSERT_GT(count[0], 0);
  ASSERT_GT(count[1], 0);
  std::printf("held-out like rate: lowest bucket %.3f (%g rows), highest %.3f (%g rows)\n",
              like[0] / count[0], count[0], like[1] / count[1], count[1]);
  EXPECT_GT(like[1] / count[1], like[0] / count[0] + 0.3);
  const FieldEncoder back = FieldEncoder::from_json(json::parse(e.to_json().dump()));
  EXPECT_EQ(back.transform_features(t, rest).to_vector<float>(),
            e.transform_features(t, rest).to_vector<float>());
}

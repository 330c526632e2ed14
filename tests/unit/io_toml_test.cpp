// io/toml: strict TOML reading (locations, types, ranges, unknown keys, overrides) and the writer.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "ember/io/toml.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using io::Range;
using io::TomlDocument;
using io::TomlTable;

namespace {

TomlDocument doc(const std::string& text) {
  return TomlDocument::parse(text, "t.toml");
}

// "d3", built with append: GCC 12 warns falsely (-Wrestrict) about `"d" + std::to_string(i)`.
std::string key(const char* prefix, size_t i) {
  return std::string(prefix).append(std::to_string(i));
}

}  // namespace

TEST(IoToml, TypedGettersAndDefaults) {
  TomlDocument d =
      doc("[opt]\n"
          "name = \"adam\"\n"
          "lr = 1\n"  // an integer is accepted as a number
          "eps = 1e-8\n"
          "steps = 42\n"
          "nesterov = true\n"
          "betas = [0.9, 1]\n"
          "hidden = [64, 32]\n"
          "features = [\"a\", \"b\"]\n");
  TomlTable opt = d.root().table("opt");
  EXPECT_EQ(opt.name(), "opt");
  EXPECT_EQ(opt.get_string("name", "sgd"), "adam");
  EXPECT_EQ(opt.get_double("lr", 0.5), 1.0);
  EXPECT_EQ(opt.get_double("eps", 0), 1e-8);
  EXPECT_EQ(opt.get_int("steps", 0), 42);
  EXPECT_TRUE(opt.get_bool("nesterov", false));
  EXPECT_EQ(opt.get_doubles("betas", {}), (std::vector<double>{0.9, 1.0}));
  EXPECT_EQ(opt.get_ints("hidden", {}), (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(opt.get_strings("features", {}), (std::vector<std::string>{"a", "b"}));
  // Absent keys give the fallback.
  EXPECT_EQ(opt.get_double("momentum", 0.25), 0.25);
  EXPECT_EQ(opt.get_string("mode", "min"), "min");
  EXPECT_EQ(opt.get_ints("sizes", {1, 2}), (std::vector<int64_t>{1, 2}));
  opt.finish();  // everything was read
  // An absent table reads as empty.
  TomlTable missing = d.root().table("nothing");
  EXPECT_FALSE(missing.contains("x"));
  EXPECT_EQ(missing.get_int("x", 7), 7);
  missing.finish();
}

TEST(IoToml, ParseErrorsNameFileLineAndColumn) {
  // Line 2 has no value after '='.
  expect_error<ConfigError>([] { doc("a = 1\nb = \n"); }, {"t.toml:2:"});
  expect_error<ConfigError>([] { doc("[x]\n[x]\n"); }, {"t.toml:2:"});
  expect_error<ConfigError>([] { TomlDocument::parse_file(EMBER_TEST_TMPDIR "/no/such.toml"); },
                            {"no/such.toml"});
}

TEST(IoToml, WrongTypesNameLocationKeyAndValue) {
  TomlDocument d = doc("[optimizer]\nlr = \"fast\"\nsteps = 3.5\nflag = 1\nbetas = [0.9, \"x\"]\n");
  TomlTable t = d.root().table("optimizer");
  // The value "fast" starts at line 2, column 6.
  expect_error<ConfigError>([&] { t.get_double("lr", 0); },
                            {"t.toml:2:6: optimizer.lr: expected a number, got string \"fast\""});
  expect_error<ConfigError>([&] { t.get_int("steps", 0); },
                            {"t.toml:3:9: optimizer.steps: expected an integer", "3.5"});
  expect_error<ConfigError>([&] { t.get_bool("flag", false); },
                            {"t.toml:4:8: optimizer.flag: expected a boolean", "integer 1"});
  expect_error<ConfigError>([&] { t.get_string("flag", ""); }, {"expected a string"});
  // Array elements are located and indexed: "x" is at column 15.
  expect_error<ConfigError>([&] { t.get_doubles("betas", {}); },
                            {"t.toml:5:15: optimizer.betas[1]: expected a number, got string"});
  expect_error<ConfigError>([&] { t.get_doubles("lr", {}); },
                            {"optimizer.lr: expected an array of numbers"});
  expect_error<ConfigError>([&] { d.root().table("optimizer").table("lr"); },
                            {"optimizer.lr: expected a table"});
}

TEST(IoToml, RangesAndChoices) {
  TomlDocument d =
      doc("[o]\nlr = -0.1\nbatch = 0\ndropout = 1.0\nname = \"adamm\"\nact = \"zzz\"\n"
          "split = [0.5, -0.5]\n");
  TomlTable t = d.root().table("o");
  expect_error<ConfigError>([&] { t.get_double("lr", 1, Range::above(0)); },
                            {"t.toml:2:6: o.lr = -0.1: must be > 0"});
  expect_error<ConfigError>([&] { t.get_int("batch", 1, Range::at_least(1)); },
                            {"o.batch = 0: must be >= 1"});
  expect_error<ConfigError>([&] { t.get_double("dropout", 0, Range::half_open(0, 1)); },
                            {"o.dropout = 1.0: must be in [0, 1)"});
  expect_error<ConfigError>([&] { t.get_doubles("split", {}, Range::closed(0, 1)); },
                            {"o.split[1] = -0.5: must be in [0, 1]"});
  expect_error<ConfigError>(
      [&] {
        t.get_string("name", "", {"sgd", "adam", "adamw"});
      },
      {"o.name = \"adamm\": must be one of \"sgd\", \"adam\", \"adamw\"; did you mean \"adam\"?"});
  try {
    t.get_string("act", "", {"relu", "tanh"});
    ADD_FAILURE() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find("did you mean"), std::string::npos) << e.what();
  }
  // Values inside the range pass; NaN never does.
  EXPECT_TRUE(Range::closed(0, 1).contains(1));
  EXPECT_FALSE(Range::half_open(0, 1).contains(1));
  EXPECT_FALSE(Range::above(0).contains(0));
  EXPECT_FALSE(Range::at_least(0).contains(std::nan("")));
  EXPECT_EQ(Range::open(0, 1).describe(), "must be in (0, 1)");
  EXPECT_EQ(Range().describe(), "");
}

TEST(IoToml, UnknownKeysAreLocatedWithSuggestions) {
  TomlDocument d = doc("[optimizer]\nname = \"adam\"\nlr = 0.1\nlrr = 0.2\n");
  TomlTable t = d.root().table("optimizer");
  t.get_string("name", "");
  t.get_double("lr", 0);
  t.get_double("weight_decay", 0);
  expect_error<ConfigError>([&] { t.finish(); },
                            {"t.toml:4:1: unknown key 'optimizer.lrr' in [optimizer]; allowed: lr, "
                             "name, weight_decay; did you mean 'lr'?"});
  // Far from every allowed key: no suggestion. The first unknown key in file order is reported.
  TomlDocument d2 = doc("[s]\nzzzz = 1\nqqqq = 2\nkeep = 3\n");
  TomlTable s = d2.root().table("s");
  s.get_int("keep", 0);
  try {
    s.finish();
    ADD_FAILURE() << "expected an error";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("t.toml:2:1: unknown key 's.zzzz'"), std::string::npos) << what;
    EXPECT_EQ(what.find("did you mean"), std::string::npos) << what;
  }
}

TEST(IoToml, UnknownSectionsAtTheRoot) {
  TomlDocument d = doc("[data]\n\n[optimiser]\nlr = 1\n");
  TomlTable root = d.root();
  root.table("data");
  root.table("optimizer");
  expect_error<ConfigError>([&] { root.finish(); },
                            {"t.toml:3:",
                             "unknown section [optimiser]; allowed sections: data, "
                             "optimizer; did you mean 'optimizer'?"});
  TomlDocument d2 = doc("epochs = 3\n[data]\n");
  TomlTable r2 = d2.root();
  r2.table("data");
  expect_error<ConfigError>([&] { r2.finish(); }, {"t.toml:1:1: unknown top-level key 'epochs'"});
}

TEST(IoToml, FailLocatesPresentAndAbsentKeys) {
  TomlDocument d = doc("a = 1\n[data]\npath = \"x.csv\"\n");
  TomlTable t = d.root().table("data");
  expect_error<ConfigError>([&] { t.fail("path", "file not found"); },
                            {"t.toml:3:8: data.path = \"x.csv\": file not found"});
  // An absent key is located at its table's header.
  expect_error<ConfigError>([&] { t.fail("target", "missing"); },
                            {"t.toml:2:1: data.target: missing"});
  EXPECT_EQ(t.location("path"), "t.toml:3:8");
}

TEST(IoToml, OverridesReplaceAddAndAreLocated) {
  TomlDocument d = doc("[optimizer]\nlr = 0.1\n[model]\nhidden = [64]\n");
  d.set("optimizer.lr=0.5");
  d.set("model.hidden = [8, 4]");
  d.set("data.path=my data.csv");  // not TOML: taken as a string; [data] is created
  d.set("data.quoted=\"x=y\"");
  d.set("training.epochs=3");
  TomlTable root = d.root();
  TomlTable opt = root.table("optimizer");
  TomlTable model = root.table("model");
  TomlTable data = root.table("data");
  EXPECT_EQ(opt.get_double("lr", 0), 0.5);
  EXPECT_EQ(model.get_ints("hidden", {}), (std::vector<int64_t>{8, 4}));
  EXPECT_EQ(data.get_string("path", ""), "my data.csv");
  EXPECT_EQ(data.get_string("quoted", ""), "x=y");
  EXPECT_EQ(root.table("training").get_int("epochs", 0), 3);
  EXPECT_EQ(opt.location("lr"), "--set optimizer.lr=0.5");
  EXPECT_EQ(data.location("missing"), "--set data.path=my data.csv");  // table made by --set

  TomlDocument bad = doc("[optimizer]\nlr = 0.1\n");
  bad.set("optimizer.lrr=1");
  bad.set("optimizer.eps=fast");
  TomlTable t = bad.root().table("optimizer");
  t.get_double("lr", 0);
  expect_error<ConfigError>([&] { t.get_double("eps", 0); },
                            {"--set optimizer.eps=fast: optimizer.eps: expected a number, got "
                             "string \"fast\""});
  expect_error<ConfigError>(
      [&] { t.finish(); },
      {"--set optimizer.lrr=1: unknown key 'optimizer.lrr' in [optimizer]", "did you mean 'lr'?"});

  expect_error<ConfigError>([&] { bad.set("optimizer.lr"); },
                            {"--set optimizer.lr: expected key=value"});
  expect_error<ConfigError>([&] { bad.set("optimizer..lr=1"); }, {"bad key 'optimizer..lr'"});
  expect_error<ConfigError>([&] { bad.set("optimizer.lr.x=1"); },
                            {"--set optimizer.lr.x=1: 'optimizer.lr' is not a table"});
}

TEST(IoToml, EditDistanceAndSuggestions) {
  EXPECT_EQ(io::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(io::edit_distance("", "abc"), 3u);
  EXPECT_EQ(io::edit_distance("lr", "lrr"), 1u);
  EXPECT_EQ(io::edit_distance("same", "same"), 0u);
  EXPECT_EQ(io::closest_match("epoch", {"epochs", "steps"}), "epochs");
  EXPECT_EQ(io::closest_match("optimiser", {"optimizer", "model"}), "optimizer");
  EXPECT_EQ(io::closest_match("x", {"lr", "eps"}), "");  // one letter: no sensible guess
  EXPECT_EQ(io::closest_match("batchsize", {"lr"}), "");
}

TEST(IoToml, WriterRoundTripsThroughTheReader) {
  const std::vector<double> doubles = {
      0.1,     1e-8,     3.0,  -2.5,
      1e300,   4.9e-324, 0.15, 123456789.123456789,
      1.0 / 3, -0.0,     2e21, std::numeric_limits<double>::infinity()};
  const std::vector<std::string> strings = {"plain",          "quote \" and \\ backslash",
                                            "tab\tnew\nline", "ctrl \x01 del \x7f",
                                            "unicode é ✓",    ""};
  std::string text;
  for (size_t i = 0; i < doubles.size(); ++i)
    text.append(key("d", i)).append(" = ").append(io::toml_value(doubles[i])).append("\n");
  for (size_t i = 0; i < strings.size(); ++i)
    text.append(key("s", i)).append(" = ").append(io::toml_value(strings[i])).append("\n");
  const std::vector<std::pair<std::string, std::string>> others = {
      {"i", io::toml_value(int64_t{-9007199254740993})},
      {"b", io::toml_value(false)},
      {"v", io::toml_value(std::vector<double>{0.7, 0.15, 0.15})},
      {"w", io::toml_value(std::vector<int64_t>{64, 32})},
      {"x", io::toml_value(std::vector<std::string>{"a", "b\"c"})},
      {"e", io::toml_value(std::vector<std::string>{})}};
  for (const auto& [k, v] : others) text.append(k).append(" = ").append(v).append("\n");
  TomlTable t = doc(text).root();
  for (size_t i = 0; i < doubles.size(); ++i) {
    const double got = t.get_double(key("d", i), 7);
    EXPECT_EQ(got, doubles[i]) << io::toml_value(doubles[i]);
    EXPECT_EQ(std::signbit(got), std::signbit(doubles[i]));
    // Always written as a float, so it never reads back as an integer.
    expect_error<ConfigError>([&] { t.get_int(key("d", i), 0); }, {"expected an integer"});
  }
  for (size_t i = 0; i < strings.size(); ++i) EXPECT_EQ(t.get_string(key("s", i), "?"), strings[i]);
  EXPECT_EQ(t.get_int("i", 0), -9007199254740993);
  EXPECT_FALSE(t.get_bool("b", true));
  EXPECT_EQ(t.get_doubles("v", {}), (std::vector<double>{0.7, 0.15, 0.15}));
  EXPECT_EQ(t.get_ints("w", {}), (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(t.get_strings("x", {}), (std::vector<std::string>{"a", "b\"c"}));
  EXPECT_TRUE(t.get_strings("e", {"z"}).empty());
  t.finish();
  EXPECT_EQ(io::toml_value(3.0), "3.0");
  EXPECT_EQ(io::toml_value("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(io::toml_value(std::nan("")), "nan");
}

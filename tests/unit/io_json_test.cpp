// JSON: parsing every kind of value, exact integers, escapes and UTF-8, errors with line:column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "ember/ember.h"

using namespace ember;
using ::testing::HasSubstr;

namespace {

// The message of the IOError that parsing text throws ("" when it parses).
std::string parse_error(std::string_view text, const json::ParseOptions& opts = {}) {
  try {
    json::parse(text, opts);
  } catch (const IOError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Json, ParsesScalars) {
  EXPECT_TRUE(json::parse("null").is_null());
  EXPECT_TRUE(json::parse(" true ").as_bool());
  EXPECT_FALSE(json::parse("\tfalse\r\n").as_bool());
  EXPECT_EQ(json::parse("0").as_int(), 0);
  EXPECT_TRUE(json::parse("-0").is_int());
  EXPECT_EQ(json::parse("-17").as_int(), -17);
  EXPECT_EQ(json::parse("1.5").as_double(), 1.5);
  EXPECT_EQ(json::parse("-1.25e+2").as_double(), -125.0);
  EXPECT_EQ(json::parse("1E-2").as_double(), 0.01);
  EXPECT_TRUE(json::parse("1e3").is_double());
  EXPECT_EQ(json::parse("1e3").as_int(), 1000);
  EXPECT_EQ(json::parse("\"hi\"").as_string(), "hi");
}

TEST(Json, IntegersStayExact) {
  EXPECT_EQ(json::parse("9223372036854775807").as_int(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(json::parse("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  // 2^53 + 1 is not a double; it must survive a round trip.
  const json::Value v = json::parse("9007199254740993");
  EXPECT_TRUE(v.is_int());
  EXPECT_EQ(v.as_int(), 9007199254740993LL);
  EXPECT_EQ(v.dump(), "9007199254740993");
  // Beyond int64: a double.
  const json::Value big = json::parse("9223372036854775808");
  EXPECT_TRUE(big.is_double());
  EXPECT_EQ(big.as_double(), 9223372036854775808.0);
  EXPECT_THROW(big.as_int(), ValueError);
  EXPECT_THROW(json::parse("2.5").as_int(), ValueError);
}

TEST(Json, NumbersOutOfRange) {
  EXPECT_THAT(parse_error("1e400"), HasSubstr("out of range"));
  EXPECT_THAT(parse_error("-1e400"), HasSubstr("out of range"));
  EXPECT_EQ(json::parse("1e-400").as_double(), 0.0);
  EXPECT_TRUE(std::signbit(json::parse("-1e-400").as_double()));
}

TEST(Json, StringEscapesAndUnicode) {
  EXPECT_EQ(json::parse(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(json::parse(R"("caf\u00e9")").as_string(), "caf\xC3\xA9");
  EXPECT_EQ(json::parse(R"("\u20AC")").as_string(), "\xE2\x82\xAC");
  EXPECT_EQ(json::parse(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(json::parse(R"("a\u0000b")").as_string(), std::string("a\0b", 3));
  EXPECT_EQ(json::parse("\"\xF0\x9F\x98\x80 raw\"").as_string(), "\xF0\x9F\x98\x80 raw");
}

TEST(Json, RejectsBadStrings) {
  EXPECT_THAT(parse_error(R"("\ud83d")"), HasSubstr("low surrogate"));
  EXPECT_THAT(parse_error(R"("\ud83dx")"), HasSubstr("low surrogate"));
  EXPECT_THAT(parse_error(R"("\ude00")"), HasSubstr("unpaired low surrogate"));
  EXPECT_THAT(parse_error(R"("\u12G4")"), HasSubstr("hex digit"));
  EXPECT_THAT(parse_error(R"("\u12")"), HasSubstr("\\u escape"));
  EXPECT_THAT(parse_error(R"("\x")"), HasSubstr("invalid escape"));
  EXPECT_THAT(parse_error("\"a\nb\""), HasSubstr("control character U+000A"));
  EXPECT_THAT(parse_error("\"a\x01\""), HasSubstr("control character U+0001"));
  EXPECT_THAT(parse_error("\"abc"), HasSubstr("unterminated string"));
  EXPECT_THAT(parse_error("\"abc\\"), HasSubstr("unterminated string"));
  // Invalid UTF-8: stray continuation, bad lead byte, overlong '/', encoded surrogate,
  // above U+10FFFF, truncated sequence.
  for (const char* s : {"\"\x80\"", "\"\xFF\"", "\"\xC0\xAF\"", "\"\xE0\x80\xAF\"",
                        "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xE2\x82\""})
    EXPECT_THAT(parse_error(s), HasSubstr("invalid UTF-8")) << s;
}

TEST(Json, RejectsBadSyntax) {
  EXPECT_THAT(parse_error(""), HasSubstr("unexpected end of input"));
  EXPECT_THAT(parse_error("   "), HasSubstr("unexpected end of input"));
  EXPECT_THAT(parse_error("01"), HasSubstr("leading zero"));
  EXPECT_THAT(parse_error("1."), HasSubstr("digit after '.'"));
  EXPECT_THAT(parse_error(".5"), HasSubstr("expected a value"));
  EXPECT_THAT(parse_error("+1"), HasSubstr("expected a value"));
  EXPECT_THAT(parse_error("-"), HasSubstr("invalid number"));
  EXPECT_THAT(parse_error("1e"), HasSubstr("exponent"));
  EXPECT_THAT(parse_error("[1,]"), HasSubstr("expected a value"));
  EXPECT_THAT(parse_error("{\"a\":1,}"), HasSubstr("expected a string key"));
  EXPECT_THAT(parse_error("{a:1}"), HasSubstr("expected a string key"));
  EXPECT_THAT(parse_error("{'a':1}"), HasSubstr("expected a string key"));
  EXPECT_THAT(parse_error("[1 2]"), HasSubstr("expected ',' or ']'"));
  EXPECT_THAT(parse_error("{\"a\":1 \"b\":2}"), HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(parse_error("1 2"), HasSubstr("after the JSON value"));
  EXPECT_THAT(parse_error("nul"), HasSubstr("invalid literal"));
  EXPECT_THAT(parse_error("NaN"), HasSubstr("expected a value"));
  EXPECT_THAT(parse_error("[1"), HasSubstr("end of input"));
  EXPECT_THAT(parse_error("\xEF\xBB\xBF{}"), HasSubstr("byte 0xEF"));  // no BOM
  EXPECT_THAT(parse_error(std::string("[1]\0", 4)), HasSubstr("byte 0x00"));
}

TEST(Json, ErrorsGiveLineColumnAndByte) {
  const std::string text = "{\n  \"a\": 1,\n  \"b\" 2\n}";
  const std::string err = parse_error(text);
  EXPECT_THAT(err, HasSubstr("JSON parse error at line 3, column 7 (byte 18): "));
  EXPECT_THAT(err, HasSubstr("expected ':'"));
  // Columns count characters, not bytes.
  EXPECT_THAT(parse_error("[\"\xC3\xA9\xC3\xA9\" x]"), HasSubstr("line 1, column 7 (byte 8)"));
  // The source name prefixes the message.
  json::ParseOptions opts;
  opts.source = "config.json";
  EXPECT_THAT(parse_error("{", opts), HasSubstr("config.json: JSON parse error at line 1"));
}

TEST(Json, DepthIsLimited) {
  const auto nested = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
  EXPECT_NO_THROW(json::parse(nested(512)));
  EXPECT_THAT(parse_error(nested(513)), HasSubstr("nested deeper than 512"));
  EXPECT_THAT(parse_error(std::string(100000, '[')), HasSubstr("nested deeper than 512"));
  json::ParseOptions opts;
  opts.max_depth = 2;
  EXPECT_NO_THROW(json::parse("{\"a\":[1]}", opts));
  EXPECT_THAT(parse_error("{\"a\":[[1]]}", opts), HasSubstr("nested deeper than 2"));
}

TEST(Json, DuplicateKeys) {
  EXPECT_THAT(parse_error("{\"a\":1,\"a\":2}"), HasSubstr("duplicate key \"a\""));
  json::ParseOptions opts;
  opts.allow_duplicate_keys = true;
  EXPECT_EQ(json::parse("{\"a\":1,\"b\":3,\"a\":2}", opts)["a"].as_int(), 2);
}

TEST(Json, NanAndInfinityOnlyWhenAllowed) {
  json::ParseOptions popts;
  popts.allow_nan = true;
  EXPECT_TRUE(std::isnan(json::parse("NaN", popts).as_double()));
  EXPECT_EQ(json::parse("[Infinity,-Infinity]", popts)[size_t(1)].as_double(),
            -std::numeric_limits<double>::infinity());
  const json::Value v(std::numeric_limits<double>::quiet_NaN());
  EXPECT_THROW(json::dump(v), ValueError);
  json::DumpOptions dopts;
  dopts.allow_nan = true;
  EXPECT_EQ(json::dump(v, dopts), "NaN");
}

TEST(Json, ObjectsKeepInsertionOrder) {
  const std::string text = R"({"z":1,"a":[true,null,"x"],"m":{"k":2.5}})";
  const json::Value v = json::parse(text);
  EXPECT_EQ(v.dump(), text);
  std::vector<std::string> keys;
  for (const auto& [k, val] : v.as_object()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "m"}));
}

TEST(Json, BuildAndAccess) {
  json::Value v;
  v["name"] = "ember";
  v["lr"] = 0.001;
  v["steps"] = 100;
  v["tags"].push_back("a");
  v["tags"].push_back(json::Value());
  v["nested"]["x"] = true;
  EXPECT_EQ(v.dump(), R"({"name":"ember","lr":0.001,"steps":100,"tags":["a",null],)"
                      R"("nested":{"x":true}})");
  EXPECT_EQ(v.size(), 5u);
  EXPECT_TRUE(v.contains("lr"));
  EXPECT_EQ(v.find("missing"), nullptr);
  const json::Value& cv = v;
  EXPECT_THROW(cv["missing"], ValueError);
  EXPECT_THROW(cv["tags"][size_t(5)], IndexError);
  EXPECT_THROW(v["name"].as_int(), ValueError);
  EXPECT_EQ(v["steps"].as_double(), 100.0);
  try {
    v["lr"].as_string();
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("JSON value is number, expected string"));
  }
  json::Value copy = v;  // deep
  copy["nested"]["x"] = false;
  EXPECT_TRUE(v["nested"]["x"].as_bool());
  EXPECT_FALSE(copy == v);
  copy["nested"]["x"] = true;
  EXPECT_TRUE(copy == v);
  EXPECT_TRUE(json::Value(2) == json::Value(2.0));
  EXPECT_FALSE(json::Value(2) == json::Value(2.5));
  EXPECT_THROW(json::Value(static_cast<uint64_t>(1) << 63), ValueError);
}

TEST(Json, LargeObjectsUseTheIndex) {
  json::Object o;
  for (int i = 0; i < 100; ++i) {
    std::string key = "k";
    key +=
        std::to_string(i);  // (`"k" + std::to_string(i)` trips a GCC 12 -Wrestrict false positive)
    EXPECT_TRUE(o.insert(key, i));
  }
  EXPECT_FALSE(o.insert("k7", -1));
  EXPECT_EQ(o.find("k42")->as_int(), 42);
  EXPECT_TRUE(o.erase("k42"));
  EXPECT_FALSE(o.erase("k42"));
  EXPECT_EQ(o.find("k42"), nullptr);
  EXPECT_EQ(o.find("k43")->as_int(), 43);
  o.set("k43", "x");
  EXPECT_EQ(o.find("k43")->as_string(), "x");
  EXPECT_EQ(o.size(), 99u);
  EXPECT_EQ(std::next(o.begin(), 42)->first, "k43");  // position kept
}

TEST(Json, DumpFormatsNumbersAndStrings) {
  EXPECT_EQ(json::Value(1.0).dump(), "1.0");
  EXPECT_EQ(json::Value(-0.0).dump(), "-0.0");
  EXPECT_EQ(json::Value(0.1).dump(), "0.1");
  EXPECT_EQ(json::Value(1e300).dump(), "1e+300");
  EXPECT_TRUE(json::parse(json::Value(1.0).dump()).is_double());
  for (double d : {0.1, 1.0 / 3, 2.5e-308, 1.7976931348623157e308, 123456789.125})
    EXPECT_EQ(json::parse(json::Value(d).dump()).as_double(), d);
  EXPECT_EQ(json::Value(std::string("a\"b\\c\n\x01\x7f\xC3\xA9/")).dump(),
            "\"a\\\"b\\\\c\\n\\u0001\x7f\xC3\xA9/\"");
  EXPECT_THROW(json::Value(std::string("\xFF")).dump(), ValueError);
}

TEST(Json, PrettyPrint) {
  const json::Value v = json::parse(R"({"a":[1,2],"b":{},"c":[],"d":{"e":null}})");
  EXPECT_EQ(v.dump(2),
            "{\n"
            "  \"a\": [\n"
            "    1,\n"
            "    2\n"
            "  ],\n"
            "  \"b\": {},\n"
            "  \"c\": [],\n"
            "  \"d\": {\n"
            "    \"e\": null\n"
            "  }\n"
            "}");
  EXPECT_EQ(json::parse(v.dump(4)), v);
}

TEST(Json, RoundTripsThroughFiles) {
  const std::filesystem::path dir = std::filesystem::path(EMBER_TEST_TMPDIR) / "io_json";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "config.json").string();
  const json::Value v = json::parse(R"({"model":"gpt2","layers":12,"dropout":0.1,"ok":true})");
  json::write_file(path, v);
  EXPECT_EQ(json::parse_file(path), v);
  EXPECT_EQ(io::read_file(path).back(), '\n');
  io::write_file_atomic(path, "{\n\"a\": }");
  try {
    json::parse_file(path);
    FAIL();
  } catch (const IOError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ": JSON parse error at line 2, column 6"));
  }
  EXPECT_THROW(json::parse_file((dir / "missing.json").string()), IOError);
}

// Random edits of valid documents either parse or throw IOError; nothing else.
TEST(Json, RandomInputsNeverCrash) {
  const std::string seed_text =
      R"({"a":[1,-2.5e3,"x\u00e9\ud83d\ude00",{"b":null}],"c":true,"d":"\n"})";
  std::mt19937 rng(1234);
  const std::string alphabet = "{}[]\",:\\u0123456789abcdefnultrE.-+ \n\x80\xC3\xED\xF4\xFF";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = seed_text;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.erase(pos, 1 + rng() % 3);
          break;
        default:
          s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
      }
    }
    try {
      const json::Value v = json::parse(s);
      EXPECT_EQ(json::parse(v.dump()), v) << s;
    } catch (const IOError&) {
    }
  }
}

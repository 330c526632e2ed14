// CSV reader: quoting, line ends, types, missing values, delimiter detection, errors, real files.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "ember/data/data.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

namespace {

Table parse(std::string_view text, const CsvOptions& opts = {}) {
  return parse_csv(text, "t.csv", opts);
}

std::vector<std::string> names(const Table& t) {
  std::vector<std::string> out;
  for (const Column& c : t.columns) out.push_back(c.name);
  return out;
}

// The repository's data/ folder (filled by scripts/get-data.sh).
std::filesystem::path data_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "data";
}

}  // namespace

TEST(DataCsv, ReadsNumericAndCategoricalColumns) {
  const Table t = parse("x,color,y\n1.5,red,3\n-2,blue,4\n1e3,red,5\n");
  EXPECT_EQ(t.source, "t.csv");
  EXPECT_EQ(t.rows(), 3);
  EXPECT_EQ(t.cols(), 3);
  EXPECT_EQ(names(t), (std::vector<std::string>{"x", "color", "y"}));
  const Column& x = t.column("x");
  EXPECT_EQ(x.type, ColumnType::Numeric);
  EXPECT_EQ(x.values, (std::vector<double>{1.5, -2.0, 1000.0}));
  const Column& color = t.column("color");
  EXPECT_EQ(color.type, ColumnType::Categorical);
  EXPECT_EQ(color.categories, (std::vector<std::string>{"red", "blue"}));  // first-seen order
  EXPECT_EQ(color.values, (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_TRUE(t.has_column("y"));
  EXPECT_FALSE(t.has_column("z"));
}

TEST(DataCsv, QuotedFieldsKeepDelimitersQuotesAndNewlines) {
  const Table t = parse(
      "name,note,n\n"
      "\"Smith, J\",\"said \"\"hi\"\"\",1\n"
      "\"two\nlines\",\"a\r\nb\",2\n"
      "plain,x,3\n");
  const Column& name = t.column("name");
  EXPECT_EQ(name.categories, (std::vector<std::string>{"Smith, J", "two\nlines", "plain"}));
  EXPECT_EQ(t.column("note").categories, (std::vector<std::string>{"said \"hi\"", "a\r\nb", "x"}));
  // Row 2 starts on line 3 and holds two line ends, so row 3 starts on line 6.
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 3, 6}));
  EXPECT_EQ(t.column("n").values, (std::vector<double>{1, 2, 3}));
}

TEST(DataCsv, CrlfBomBlankLinesAndTrimming) {
  const Table t = parse(
      "\xEF\xBB\xBF"
      "a,b\r\n 1 ,\t2\r\n\r\n3,4\r\n\r\n");
  EXPECT_EQ(names(t), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.column("a").values, (std::vector<double>{1, 3}));
  EXPECT_EQ(t.column("b").values, (std::vector<double>{2, 4}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 4}));
  // No trailing newline; a leading '+' is a number.
  const Table u = parse("a\n+7\n-0.5");
  EXPECT_EQ(u.column("a").values, (std::vector<double>{7, -0.5}));
}

TEST(DataCsv, MissingValuesAndTheFirstValueRule) {
  const Table t = parse("a,b,c\nNA,x,\n2,,None\n,y,null\n3,N/A,NaN\n");
  const Column& a = t.column("a");
  EXPECT_EQ(a.type, ColumnType::Numeric);
  EXPECT_TRUE(std::isnan(a.values[0]));
  EXPECT_EQ(a.values[1], 2);
  EXPECT_TRUE(std::isnan(a.values[2]));
  EXPECT_EQ(a.missing_count(), 2);
  const Column& b = t.column("b");
  EXPECT_EQ(b.type, ColumnType::Categorical);
  EXPECT_EQ(b.categories, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(b.missing_count(), 2);
  const Column& c = t.column("c");  // all missing: numeric, nothing known
  EXPECT_EQ(c.type, ColumnType::Numeric);
  EXPECT_EQ(c.missing_count(), 4);
  // A column whose first value is text stays categorical even when later values are numbers.
  const Table u = parse("z\nabc\n1\n");
  EXPECT_EQ(u.column("z").type, ColumnType::Categorical);
  EXPECT_EQ(u.column("z").categories, (std::vector<std::string>{"abc", "1"}));
  // Custom NA list.
  CsvOptions opts;
  opts.na_values = {"?"};
  const Table v = parse("z\n?\nNA\n", opts);
  EXPECT_EQ(v.column("z").type, ColumnType::Categorical);
  EXPECT_EQ(v.column("z").missing_count(), 1);
}

TEST(DataCsv, ForcedCategoricalColumns) {
  CsvOptions opts;
  opts.categorical = {"zip"};
  const Table t = parse("zip,n\n10001,1\n02139,2\n10001,3\n", opts);
  const Column& zip = t.column("zip");
  EXPECT_EQ(zip.type, ColumnType::Categorical);
  EXPECT_EQ(zip.categories, (std::vector<std::string>{"10001", "02139"}));
  EXPECT_EQ(zip.values, (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(t.column("n").type, ColumnType::Numeric);
  opts.categorical = {"nope"};
  expect_error<ConfigError>([&] { parse("zip,n\n1,2\n", opts); },
                            {"t.csv: categorical column 'nope'", "columns are: zip, n"});
}

TEST(DataCsv, DetectsTheDelimiter) {
  EXPECT_EQ(names(parse("a;b;c\n1,5;2;3\n")), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(names(parse("a\tb\n1\t2\n")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names(parse("a|b\n1|2\n")), (std::vector<std::string>{"a", "b"}));
  // Space: runs of spaces separate fields, as in aligned text files.
  const Table s = parse("a  b   c\n 1 22  3\n40  5 6  \n");
  EXPECT_EQ(names(s), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s.column("c").values, (std::vector<double>{3, 6}));
  // Comma wins over the spaces inside names; quotes hide delimiters from the detector.
  EXPECT_EQ(names(parse("first name,last name\nJohn Smith,Jane Doe\n")),
            (std::vector<std::string>{"first name", "last name"}));
  EXPECT_EQ(names(parse("\"a;b\",c\n1,2\n")), (std::vector<std::string>{"a;b", "c"}));
  // A single column.
  EXPECT_EQ(parse("only\n1\n2\n").cols(), 1);
  // An explicit delimiter is used as given.
  CsvOptions opts;
  opts.delimiter = ';';
  EXPECT_EQ(names(parse("a,b;c\n1;2\n", opts)), (std::vector<std::string>{"a,b", "c"}));
}

TEST(DataCsv, HeaderOnlyAndNoHeaderOption) {
  const Table t = parse("a,b\n");
  EXPECT_EQ(t.rows(), 0);
  EXPECT_EQ(t.cols(), 2);
  CsvOptions opts;
  opts.header = false;
  const Table u = parse("1,x\n2,y\n", opts);
  EXPECT_EQ(names(u), (std::vector<std::string>{"column_1", "column_2"}));
  EXPECT_EQ(u.rows(), 2);
  EXPECT_EQ(u.lines, (std::vector<int64_t>{1, 2}));
}

TEST(DataCsv, ErrorsNameTheFileLineAndColumn) {
  expect_error<IOError>([] { parse(""); }, {"t.csv: empty file"});
  expect_error<IOError>([] { parse("\n \n\r\n"); }, {"t.csv: empty file"});
  expect_error<IOError>([] { parse("1,2\n3,4\n"); }, {"t.csv:1: the first line is all numbers"});
  expect_error<IOError>([] { parse("a,b,c,d\n1,2,3,4\n1,2,3,4,5\n"); },
                        {"t.csv:3: 5 fields, the header has 4"});
  expect_error<IOError>([] { parse("a,b\n1,2\n3\n"); }, {"t.csv:3: 1 fields, the header has 2"});
  expect_error<IOError>([] { parse("a,b,a\n1,2,3\n"); },
                        {"t.csv:1:5: duplicate column name 'a' (also column 1)"});
  expect_error<IOError>([] { parse("a,,c\n1,2,3\n"); }, {"t.csv:1:3: column 2 has an empty name"});
  expect_error<IOError>(
      [] { parse("sepal,petal_width\n1,0.2\n2,NA\n3, abc\n"); },
      {"t.csv:4:3: column 'petal_width' is numeric (first value '0.2' at line 2) but 'abc' is not "
       "a number; mark missing values as NA or list the column as categorical"});
  expect_error<IOError>([] { parse("a,b\n1,\"open\n2,3\n"); },
                        {"t.csv:2:3: quoted field is never closed"});
  expect_error<IOError>([] { parse("a,b\n1,\"x\"y\n"); },
                        {"t.csv:2:6: unexpected character 'y' after a closing quote"});
  // Columns count characters, not bytes: 'é' is two bytes.
  expect_error<IOError>([] { parse("\xC3\xA9,n\nx,1\n\xC3\xA9,oops\n"); },
                        {"t.csv:3:3: column 'n' is numeric"});
  // Only a ConfigError for the table lookup.
  const Table t = parse("a,b,c\n1,2,3\n");
  expect_error<ConfigError>([&] { t.column("x"); }, {"t.csv: no column 'x'; columns are: a, b, c"});
  expect_error<IndexError>([&] { t.select_rows({1}); }, {"row 1 is out of range"});
}

TEST(DataCsv, RejectsBinaryAndInvalidUtf8) {
  expect_error<IOError>([] { parse(std::string_view("a,b\n1,\0\n", 8)); },
                        {"t.csv: not a text CSV file (byte 0x00 at 2:3)"});
  std::string png = "\x89PNG\r\n\x1a\n";
  for (int i = 0; i < 64; ++i) png += static_cast<char>(0x80 + (i * 37) % 128);
  expect_error<IOError>([&] { parse(png); }, {"t.csv: not a text CSV file (byte 0x89 at 1:1)"});
  // Mostly text with one Latin-1 byte: a located UTF-8 error.
  expect_error<IOError>([] { parse("name,n\ncaf\xE9,1\n"); },
                        {"t.csv:2:4: invalid UTF-8 (byte 0xe9)"});
  // Overlong and surrogate encodings are invalid too.
  const std::string text = "name,note\nsome ordinary text,more text\n";
  expect_error<IOError>([&] { parse(text + "x\xC0\xAF,1\n"); },
                        {"t.csv:3:2: invalid UTF-8 (byte 0xc0)"});
  expect_error<IOError>([&] { parse(text + "\xED\xA0\x80,1\n"); },
                        {"t.csv:3:1: invalid UTF-8 (byte 0xed)"});
}

TEST(DataCsv, ReadsFilesAndReportsMissingOnes) {
  const std::filesystem::path dir = std::filesystem::path(EMBER_TEST_TMPDIR) / "data_csv";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "small.csv").string();
  std::ofstream(path) << "a,b\n1,x\n";
  const Table t = read_csv(path);
  EXPECT_EQ(t.source, path);
  EXPECT_EQ(t.rows(), 1);
  const std::string missing = (dir / "nope.csv").string();
  expect_error<IOError>([&] { read_csv(missing); }, {missing, "No such file"});
}

TEST(DataCsv, SelectRowsKeepsCategoriesAndLines) {
  const Table t = parse("a,c\n1,x\n2,y\n3,z\n");
  const Table s = t.select_rows({2, 0, 2});
  EXPECT_EQ(s.rows(), 3);
  EXPECT_EQ(s.source, "t.csv");
  EXPECT_EQ(s.column("a").values, (std::vector<double>{3, 1, 3}));
  EXPECT_EQ(s.column("c").categories, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(s.column("c").values, (std::vector<double>{2, 0, 2}));
  EXPECT_EQ(s.lines, (std::vector<int64_t>{4, 2, 4}));
}

TEST(DataCsv, HundredThousandRows) {
  std::string text = "id,x,y,label,note\n";
  for (int i = 0; i < 100000; ++i)
    text += std::to_string(i) + "," + std::to_string(i % 7) + ".25," + std::to_string(-i) +
            (i % 3 == 0 ? ",cat" : ",dog") + ",\"n, " + std::to_string(i % 5) + "\"\n";
  const auto start = std::chrono::steady_clock::now();
  const Table t = parse(text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(t.rows(), 100000);
  EXPECT_EQ(t.column("x").values[99999], 99999 % 7 + 0.25);
  EXPECT_EQ(t.column("y").values[12345], -12345);
  EXPECT_EQ(t.column("label").categories, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(t.column("note").categories.size(), 5u);
  EXPECT_EQ(t.lines.back(), 100001);
  EXPECT_LT(seconds, 5.0) << "parsing 100k rows took " << seconds << " s";
}

TEST(DataCsv, RealDatasets) {
  struct Expect {
    const char* file;
    int64_t rows, cols;
    const char* target;
    ColumnType target_type;
  };
  const Expect sets[] = {{"iris.csv", 150, 5, "species", ColumnType::Categorical},
                         {"wine.csv", 178, 14, "class", ColumnType::Categorical},
                         {"breast_cancer.csv", 569, 31, "diagnosis", ColumnType::Categorical},
                         {"digits.csv", 1797, 65, "digit", ColumnType::Numeric},
                         {"diabetes.csv", 442, 11, "progression", ColumnType::Numeric}};
  for (const Expect& e : sets) {
    const std::filesystem::path path = data_dir() / e.file;
    if (!std::filesystem::exists(path))
      GTEST_SKIP() << path << " is missing: run scripts/get-data.sh";
    const Table t = read_csv(path.string());
    EXPECT_EQ(t.rows(), e.rows) << e.file;
    EXPECT_EQ(t.cols(), e.cols) << e.file;
    EXPECT_EQ(t.column(e.target).type, e.target_type) << e.file;
    for (const Column& c : t.columns) {
      EXPECT_EQ(c.missing_count(), 0) << e.file << " " << c.name;
      if (c.name != e.target) {
        EXPECT_EQ(c.type, ColumnType::Numeric) << e.file << " " << c.name;
      }
    }
  }
  const Table iris = read_csv((data_dir() / "iris.csv").string());
  EXPECT_EQ(iris.column("species").categories,
            (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  // Reference: awk -F, 'NR>1{s+=$1}END{print s/(NR-1)}' data/iris.csv -> 5.84333
  double sum = 0;
  for (double v : iris.column("sepal_length").values) sum += v;
  EXPECT_NEAR(sum / 150, 5.843333333, 1e-8);
  const Table bc = read_csv((data_dir() / "breast_cancer.csv").string());
  const Column& d = bc.column("diagnosis");
  int64_t malignant = 0;
  for (double v : d.values) malignant += d.categories[size_t(v)] == "malignant";
  EXPECT_EQ(malignant, 212);  // scikit-learn: 212 malignant, 357 benign
}

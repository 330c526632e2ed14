// CSV reading: RFC 4180 files into a typed, column-major Table (numeric and categorical columns).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::data {

/// How read_csv / parse_csv read a file.
struct CsvOptions {
  /// Field separator. 0: detected from the first lines (quotes respected) as the first of
  /// ',' ';' '\t' '|' ' ' that splits every sampled line into the same number (> 1) of fields.
  /// With ' ', runs of spaces separate fields (aligned text files).
  char delimiter = 0;
  /// The first line names the columns. Without a header the columns are named column_1, ...
  bool header = true;
  /// Fields (after trimming) that mean "missing".
  std::vector<std::string> na_values = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"};
  /// Columns read as categorical even when their values look numeric.
  std::vector<std::string> categorical;
};

enum class ColumnType { Numeric, Categorical };

/// One column of a Table.
struct Column {
  std::string name;
  ColumnType type = ColumnType::Numeric;
  /// Numeric: the number; Categorical: index into categories. NaN marks a missing value.
  std::vector<double> values;
  /// Categorical only: the distinct strings in first-seen order.
  std::vector<std::string> categories;
  /// Number of missing (NaN) values.
  int64_t missing_count() const;
};

/// A table read from a CSV file: columns of equal length, plus where each row came from.
class Table {
 public:
  std::string source;           ///< the file name, for error messages
  std::vector<Column> columns;  ///< all of the same length, rows()
  std::vector<int64_t> lines;   ///< 1-based line in the file where each row starts

  int64_t rows() const { return static_cast<int64_t>(lines.size()); }    ///< data rows
  int64_t cols() const { return static_cast<int64_t>(columns.size()); }  ///< columns
  /// Whether a column has this name.
  bool has_column(std::string_view name) const;
  /// The named column; ConfigError "source: no column 'x'; columns are: a, b, c" when absent.
  const Column& column(std::string_view name) const;
  /// The given rows (in that order; repeats allowed) with the same columns and categories.
  /// IndexError when a row is out of range.
  Table select_rows(const std::vector<int64_t>& rows) const;
};

/// Shortest text that reads back as v: 31 -> "31", 4.5 -> "4.5".
std::string number_text(double v);
/// The text of value v of column c: a category's string, a number's number_text, "" when missing.
std::string value_text(const Column& c, double v);

/// Reads a CSV file (see parse_csv). A missing or unreadable file is an IOError naming path.
Table read_csv(const std::string& path, const CsvOptions& options = {});

/// Parses CSV text; source names it in error messages ("source:line:column: ...").
///
/// Format: RFC 4180 quoting ("" inside quotes is a quote; delimiters and newlines may appear inside
/// quotes), LF or CRLF line ends, an optional UTF-8 byte order mark, blank lines skipped. Unquoted
/// fields are trimmed of spaces and tabs. The text must be UTF-8 without NUL bytes.
///
/// Types: a column is Numeric when its first non-missing value is a number (the whole field reads
/// as a finite decimal or scientific number, optionally with a leading '+'), Categorical otherwise
/// or when listed in options.categorical. A later value in a numeric column that is neither a
/// number nor an NA value is an error.
///
/// Errors (IOError): an empty file; a header that is all numbers (the file has no header); empty
/// or duplicate column names; a row whose field count differs from the header's; unterminated
/// quotes; invalid UTF-8; binary data ("source: not a text CSV file (byte 0x00 at 3:7)").
/// A header with no rows is a table with 0 rows. A name in options.categorical that is not a
/// column is a ConfigError.
Table parse_csv(std::string_view text, const std::string& source, const CsvOptions& options = {});

}  // namespace ember::data

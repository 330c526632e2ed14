// CSV reader: UTF-8 check, delimiter detection, an RFC 4180 tokenizer and typed column building.
#include "ember/data/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_map>

#include "core/utf8.h"
#include "ember/core/error.h"
#include "ember/io/file.h"

namespace ember::data {

namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// "line:column" of byte `to`, scanning from byte `from` which is the start of line `line`.
// Columns count characters (UTF-8 lead bytes), from 1. "\r\n", "\n" and a lone "\r" end a line.
std::string line_col(std::string_view text, size_t from, int64_t line, size_t to) {
  int64_t col = 1;
  for (size_t i = from; i < to && i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || (c == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) {
      ++line;
      col = 1;
    } else if (c != '\r' && (static_cast<uint8_t>(c) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

std::string hex_byte(char c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", static_cast<unsigned>(static_cast<uint8_t>(c)));
  return buf;
}

// Rejects NUL bytes and invalid UTF-8. A file that is mostly invalid UTF-8 (over 10% of its first
// 4 KiB) or has a NUL byte is reported as binary; otherwise the first bad byte gets a location.
void check_text(std::string_view text, const std::string& source) {
  size_t bad = text.size();
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    const size_t len =
        (c >= 0x01 && c < 0x80) ? 1 : (c == 0 ? 0 : detail::utf8_sequence_length(text, i));
    if (len == 0) {
      bad = i;
      break;
    }
    i += len;
  }
  if (bad == text.size()) return;
  const size_t sample = std::min<size_t>(text.size(), 4096);
  size_t invalid = 0;
  for (size_t i = 0; i < sample;) {
    const size_t len = detail::utf8_sequence_length(text, i);
    invalid += len == 0;
    i += std::max<size_t>(len, 1);
  }
  const std::string where = line_col(text, 0, 1, bad);
  EMBER_CHECK_IO(text[bad] != 0 && invalid * 10 <= sample, source, ": not a text CSV file (byte ",
                 hex_byte(text[bad]), " at ", where, ")");
  EMBER_THROW(IOError, source, ":", where, ": invalid UTF-8 (byte ", hex_byte(text[bad]),
              "); save the file as UTF-8 text");
}

// One record of the file. Vectors are reused from record to record; only the first n are valid.
struct Record {
  std::vector<std::string> fields;
  std::vector<size_t> starts;  // byte offset of each field
  size_t n = 0;
  int64_t line = 0;   // line where the record starts
  size_t offset = 0;  // byte offset where it starts
};

// RFC 4180 tokenizer over the whole text.
class Reader {
 public:
  Reader(std::string_view text, char delim, const std::string& source)
      : text_(text), delim_(delim), source_(source) {}

  // Reads the next non-blank record; false at the end of the text.
  bool next(Record& r) {
    skip_blank_lines();
    if (pos_ >= text_.size()) return false;
    r.n = 0;
    r.line = line_;
    r.offset = pos_;
    if (delim_ == ' ') skip_blanks();
    while (true) {
      if (r.n == r.fields.size()) {
        r.fields.emplace_back();
        r.starts.push_back(0);
      }
      r.starts[r.n] = pos_;
      read_field(r, r.fields[r.n]);
      ++r.n;
      if (pos_ < text_.size() && text_[pos_] == delim_) {
        ++pos_;
        if (delim_ == ' ') skip_blanks();
        if (delim_ != ' ' || !at_line_end()) continue;
      }
      end_line();
      return true;
    }
  }

 private:
  bool is_blank(char c) const { return (c == ' ' || c == '\t') && c != delim_; }
  void skip_blanks() {
    while (pos_ < text_.size() && (is_blank(text_[pos_]) || text_[pos_] == delim_)) ++pos_;
  }
  bool at_line_end() const {
    return pos_ >= text_.size() || text_[pos_] == '\n' || text_[pos_] == '\r';
  }
  // Consumes "\n", "\r\n" or "\r" at pos_ (if any) and counts the line.
  void end_line() {
    if (pos_ >= text_.size()) return;
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }
  void skip_blank_lines() {
    while (pos_ < text_.size()) {
      size_t p = pos_;
      while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
      if (p < text_.size() && text_[p] != '\n' && text_[p] != '\r') return;
      pos_ = p;
      end_line();
    }
  }

  void read_field(const Record& r, std::string& out) {
    out.clear();
    size_t p = pos_;
    while (p < text_.size() && is_blank(text_[p])) ++p;
    if (p < text_.size() && text_[p] == '"') {
      read_quoted(r, p, out);
      return;
    }
    size_t end = pos_;
    while (end < text_.size() && text_[end] != delim_ && text_[end] != '\n' && text_[end] != '\r')
      ++end;
    size_t b = pos_, e = end;
    while (b < e && is_blank(text_[b])) ++b;
    while (e > b && is_blank(text_[e - 1])) --e;
    out.assign(text_.data() + b, e - b);
    pos_ = end;
  }

  // A quoted field opening at text_[open]: "" is a quote; delimiters and line ends are literal.
  void read_quoted(const Record& r, size_t open, std::string& out) {
    size_t p = open + 1;
    while (true) {
      const size_t q = text_.find('"', p);
      EMBER_CHECK_IO(q != std::string_view::npos, source_, ":", where(r, open),
                     ": quoted field is never closed (its opening quote is here); end it with \"");
      for (size_t i = p; i < q; ++i) {
        const char c = text_[i];
        if (c == '\n' || (c == '\r' && (i + 1 == text_.size() || text_[i + 1] != '\n'))) ++line_;
      }
      out.append(text_.data() + p, q - p);
      if (q + 1 < text_.size() && text_[q + 1] == '"') {
        out += '"';
        p = q + 2;
        continue;
      }
      p = q + 1;
      break;
    }
    while (p < text_.size() && is_blank(text_[p])) ++p;
    pos_ = p;
    EMBER_CHECK_IO(at_line_end() || text_[p] == delim_, source_, ":", where(r, p),
                   ": unexpected character '", text_[p],
                   "' after a closing quote; inside quotes write a quote as \"\"");
  }

  std::string where(const Record& r, size_t offset) const {
    return line_col(text_, r.offset, r.line, offset);
  }

  std::string_view text_;
  char delim_;
  const std::string& source_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

// The first of , ; \t | and space that splits each of the first 20 records into the same number
// (> 1) of fields; else the first that splits the first record; else ','.
char detect_delimiter(std::string_view text) {
  static const std::string source = "(delimiter detection)";
  const char candidates[] = {',', ';', '\t', '|', ' '};
  char fallback = 0;
  for (char d : candidates) {
    Reader reader(text, d, source);
    Record r;
    std::vector<size_t> counts;
    try {
      while (counts.size() < 20 && reader.next(r)) counts.push_back(r.n);
    } catch (const IOError&) {
      continue;
    }
    if (counts.empty() || counts[0] < 2) continue;
    if (std::all_of(counts.begin(), counts.end(), [&](size_t c) { return c == counts[0]; }))
      return d;
    if (!fallback) fallback = d;
  }
  return fallback ? fallback : ',';
}

// A finite number filling the whole field: decimal or scientific notation, optional leading '+'.
bool parse_number(const std::string& s, double& out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+' && b + 1 != e && b[1] != '-') ++b;
  const auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && b != e && std::isfinite(out);
}

std::string join_names(const std::vector<Column>& columns) {
  std::string out;
  for (const Column& c : columns) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

// Builds one column value by value; the first non-missing value fixes the type.
struct ColumnBuilder {
  bool decided = false;
  bool force_categorical = false;
  std::string first_value;
  int64_t first_line = 0;
  std::unordered_map<std::string, int64_t> index;  // category -> position
};

}  // namespace

int64_t Column::missing_count() const {
  return std::count_if(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

bool Table::has_column(std::string_view name) const {
  return std::any_of(columns.begin(), columns.end(),
                     [&](const Column& c) { return c.name == name; });
}

const Column& Table::column(std::string_view name) const {
  for (const Column& c : columns)
    if (c.name == name) return c;
  EMBER_THROW(ConfigError, source, ": no column '", name, "'; columns are: ", join_names(columns));
}

std::string number_text(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

std::string value_text(const Column& c, double v) {
  if (std::isnan(v)) return "";
  return c.type == ColumnType::Categorical ? c.categories[static_cast<size_t>(v)] : number_text(v);
}

Table Table::select_rows(const std::vector<int64_t>& rows) const {
  Table out;
  out.source = source;
  out.lines.reserve(rows.size());
  for (int64_t r : rows) {
    EMBER_CHECK_INDEX(r >= 0 && r < this->rows(), source, ": select_rows: row ", r,
                      " is out of range for a table of ", this->rows(), " rows");
    out.lines.push_back(lines[r]);
  }
  for (const Column& c : columns) {
    Column col{c.name, c.type, {}, c.categories};
    col.values.reserve(rows.size());
    for (int64_t r : rows) col.values.push_back(c.values[r]);
    out.columns.push_back(std::move(col));
  }
  return out;
}

Table read_csv(const std::string& path, const CsvOptions& options) {
  return parse_csv(io::read_file(path), path, options);
}

Table parse_csv(std::string_view text, const std::string& source, const CsvOptions& options) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  check_text(text, source);
  const char delim = options.delimiter ? options.delimiter : detect_delimiter(text);
  EMBER_CHECK_T(ConfigError, delim != '"' && delim != '\n' && delim != '\r', source,
                ": the delimiter cannot be a quote or a line end");

  Reader reader(text, delim, source);
  Record rec;
  EMBER_CHECK_IO(reader.next(rec), source,
                 ": empty file; a CSV file starts with a header line naming the columns");
  const size_t ncols = rec.n;
  const auto is_na = [&](const std::string& f) {
    return std::find(options.na_values.begin(), options.na_values.end(), f) !=
           options.na_values.end();
  };

  Table t;
  t.source = source;
  t.columns.resize(ncols);
  for (size_t j = 0; j < ncols; ++j) {
    std::string& name = t.columns[j].name;
    if (!options.header) {
      name = "column_" + std::to_string(j + 1);
      continue;
    }
    name = rec.fields[j];
    const std::string at = source + ":" + line_col(text, rec.offset, rec.line, rec.starts[j]);
    EMBER_CHECK_IO(!name.empty(), at, ": column ", j + 1,
                   " has an empty name; every column needs a name");
    for (size_t k = 0; k < j; ++k)
      EMBER_CHECK_IO(t.columns[k].name != name, at, ": duplicate column name '", name,
                     "' (also column ", k + 1, "); column names must be unique");
  }
  if (options.header) {
    double unused = 0;
    bool all_numbers = true;
    for (size_t j = 0; j < ncols; ++j) all_numbers &= parse_number(rec.fields[j], unused);
    EMBER_CHECK_IO(!all_numbers, source, ":", rec.line,
                   ": the first line is all numbers, so the file has no header; add a header "
                   "line naming the columns (or read it with header = false)");
  }

  std::vector<ColumnBuilder> builders(ncols);
  for (const std::string& name : options.categorical) {
    auto it = std::find_if(t.columns.begin(), t.columns.end(),
                           [&](const Column& c) { return c.name == name; });
    EMBER_CHECK_T(ConfigError, it != t.columns.end(), source, ": categorical column '", name,
                  "' is not in the file; columns are: ", join_names(t.columns));
    builders[it - t.columns.begin()].force_categorical = true;
  }

  bool have = options.header ? reader.next(rec) : true;
  while (have) {
    EMBER_CHECK_IO(rec.n == ncols, source, ":", rec.line, ": ", rec.n, " fields, the ",
                   options.header ? "header has " : "first row has ", ncols);
    for (size_t j = 0; j < ncols; ++j) {
      const std::string& field = rec.fields[j];
      Column& col = t.columns[j];
      ColumnBuilder& b = builders[j];
      if (is_na(field)) {
        col.values.push_back(kMissing);
        continue;
      }
      double v = 0;
      if (!b.decided) {
        b.decided = true;
        b.first_value = field;
        b.first_line = rec.line;
        col.type = !b.force_categorical && parse_number(field, v) ? ColumnType::Numeric
                                                                  : ColumnType::Categorical;
      }
      if (col.type == ColumnType::Numeric) {
        EMBER_CHECK_IO(parse_number(field, v), source, ":",
                       line_col(text, rec.offset, rec.line, rec.starts[j]), ": column '", col.name,
                       "' is numeric (first value '", b.first_value, "' at line ", b.first_line,
                       ") but '", field,
                       "' is not a number; mark missing values as NA or list the column as "
                       "categorical");
        col.values.push_back(v);
      } else {
        const auto [it, inserted] = b.index.try_emplace(field, col.categories.size());
        if (inserted) col.categories.push_back(field);
        col.values.push_back(static_cast<double>(it->second));
      }
    }
    t.lines.push_back(rec.line);
    have = reader.next(rec);
  }
  for (size_t j = 0; j < ncols; ++j)
    if (!builders[j].decided && builders[j].force_categorical)
      t.columns[j].type = ColumnType::Categorical;
  return t;
}

}  // namespace ember::data

// PNG plots drawn with PLplot's cairo driver: training curves, scatter plots, confusion matrices.
#include "ember/train/plot.h"

#include <plplot/plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "ember/core/error.h"
#include "ember/io/file.h"

namespace ember::train {

namespace {

// Note [PLplot streams]
// PLplot keeps its state in global streams, so every plot holds one process-wide mutex, draws on a
// fresh stream (plmkstrm) and ends it (plend1). The cairo driver writes the PNG into a memory
// stream (plsfile + open_memstream); we then write those bytes atomically. Nothing is printed:
// plsError collects PLplot's error messages, and the situations in which PLplot would prompt on
// stdin or call exit() (no output file, unknown device) cannot arise. As a last resort the exit
// handler throws instead of ending the process.

std::mutex& plplot_mutex() {
  static std::mutex m;
  return m;
}

int throw_instead_of_exit(const char* message) {
  EMBER_THROW(IOError, "PLplot failed: ", message);
}

bool pngcairo_available() {
  std::vector<const char*> menus(256), names(256);
  const char** menu_ptr = menus.data();
  const char** name_ptr = names.data();
  int n = static_cast<int>(names.size());
  plgDevs(&menu_ptr, &name_ptr, &n);
  for (int i = 0; i < n; ++i) {
    if (std::strcmp(names[i], "pngcairo") == 0) return true;
  }
  return false;
}

// Colour map 0: background, text, grid, guide lines, then ten series colours (matplotlib's tab10).
constexpr PLINT kBackground = 0, kText = 1, kGrid = 2, kGuide = 3, kFirstSeries = 4;
constexpr PLINT kNumSeriesColors = 10;
constexpr PLINT kRed[] = {255, 34, 225, 110, 31, 255, 44, 214, 148, 140, 227, 127, 188, 23};
constexpr PLINT kGreen[] = {255, 34, 225, 110, 119, 127, 160, 39, 103, 86, 119, 127, 189, 190};
constexpr PLINT kBlue[] = {255, 34, 225, 110, 180, 14, 44, 40, 189, 75, 194, 127, 34, 207};

// One PNG of width x height pixels drawn on a fresh PLplot stream; finish() writes it to png.
class PngPage {
 public:
  PngPage(const std::string& png, int width, int height) : lock_(plplot_mutex()), png_(png) {
    static const bool available = pngcairo_available();
    EMBER_CHECK_IO(available, png,
                   ": PLplot's pngcairo driver is not installed (Debian: "
                   "apt-get install plplot-driver-cairo)");
    file_ = open_memstream(&buffer_, &size_);
    EMBER_CHECK_IO(file_ != nullptr, png, ": cannot open a memory stream for the plot");
    try {
      plsexit(throw_instead_of_exit);
      plgstrm(&previous_stream_);
      plmkstrm(&stream_);
      EMBER_CHECK_IO(stream_ >= 0, png, ": PLplot has no free stream");
      plsError(&error_code_, error_message_);
      plsdev("pngcairo");
      plsfile(file_);
      plspage(0, 0, width, height, 0, 0);
      plscmap0(kRed, kGreen, kBlue, std::size(kRed));
      plinit();
      PLINT level = 0;
      plglevel(&level);
      file_owned_by_plplot_ = level > 0;  // the driver closes it in plend1
      check("plinit");
      pladv(0);
    } catch (...) {
      close();
      std::free(buffer_);
      throw;
    }
  }
  ~PngPage() {
    close();
    std::free(buffer_);
  }
  PngPage(const PngPage&) = delete;
  PngPage& operator=(const PngPage&) = delete;

  /// Throws IOError when PLplot has reported an error.
  void check(const char* what) const {
    EMBER_CHECK_IO(error_code_ == 0, png_, ": PLplot failed in ", what, ": ", error_message_);
  }

  /// Ends the stream (the driver encodes the PNG) and writes the PNG atomically.
  void finish() {
    check("drawing");
    close();
    check("plend1");
    EMBER_CHECK_IO(buffer_ != nullptr && size_ > 8, png_, ": PLplot produced no image");
    io::write_file_atomic(png_, std::string_view(buffer_, size_));
  }

 private:
  void close() {
    if (stream_ >= 0) {
      plend1();
      plsstrm(previous_stream_);
      stream_ = -1;
    }
    if (file_ != nullptr && !file_owned_by_plplot_) fclose(file_);
    file_ = nullptr;
  }

  std::lock_guard<std::mutex> lock_;
  std::string png_;
  FILE* file_ = nullptr;
  bool file_owned_by_plplot_ = false;
  char* buffer_ = nullptr;
  size_t size_ = 0;
  PLINT previous_stream_ = 0;
  PLINT stream_ = -1;
  PLINT error_code_ = 0;
  char error_message_[4096] = {};
};

// PLplot reads '#' as the start of an escape sequence; "##" is a literal '#'.
std::string pl_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '#') out += '#';
  }
  return out;
}

// The extent of the finite values added.
struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
  // Widened by fraction of its width on each side (a unit width when it is a single value).
  Range padded(double fraction) const {
    const double width = hi > lo ? hi - lo : std::max(1.0, std::abs(lo));
    const double pad = hi > lo ? fraction * width : 0.5 * width;
    return {lo - pad, hi + pad};
  }
};

// Extends x and y by the points of s where both coordinates are finite.
void extend(Range& x, Range& y, const Series& s) {
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
    x.add(s.x[i]);
    y.add(s.y[i]);
  }
}

void check_series(const Series& s, const std::string& png, const char* what) {
  EMBER_CHECK(s.x.size() == s.y.size(), png, ": ", what, " '", s.label, "' has ", s.x.size(),
              " x values but ", s.y.size(), " y values");
}

// The viewport in millimetres of the page, leaving margins (in character heights) for labels.
void set_viewport(double left, double right, double bottom, double top) {
  PLFLT x0, x1, y0, y1, default_height, height;
  plgspa(&x0, &x1, &y0, &y1);
  plgchr(&default_height, &height);
  plsvpa(left * height, x1 - x0 - right * height, bottom * height, y1 - y0 - top * height);
}

// Axes with a light grid, tick labels, title and axis labels.
void draw_axes(const std::string& title, const std::string& xlabel, const std::string& ylabel,
               bool log_y) {
  plcol0(kGrid);
  plwidth(1);
  plbox("g", 0, 0, log_y ? "gl" : "g", 0, 0);
  plcol0(kText);
  plbox("bcnst", 0, 0, log_y ? "bcnstvl" : "bcnstv", 0, 0);
  plschr(0, 1.35);
  plmtex("t", 1.3, 0.5, 0.5, pl_text(title).c_str());
  plschr(0, 1.1);
  plmtex("b", 2.9, 0.5, 0.5, pl_text(xlabel).c_str());
  plmtex("l", 5.2, 0.5, 0.5, pl_text(ylabel).c_str());
  plschr(0, 1.0);
}

// Draws x/y as lines through runs of finite points, with a marker for a point on its own.
void draw_runs(const std::vector<double>& x, const std::vector<double>& y) {
  size_t i = 0;
  while (i < x.size()) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < x.size() && std::isfinite(x[j]) && std::isfinite(y[j])) ++j;
    if (j - i == 1) {
      plstring(1, &x[i], &y[i], "•");
    } else {
      plline(static_cast<PLINT>(j - i), &x[i], &y[i]);
    }
    i = j;
  }
}

// The legend's corner inside the plot (a PL_POSITION_* pair): the one with the fewest points.
PLINT legend_corner(const std::vector<Series>& series, const Range& x, const Range& y) {
  const PLINT corners[] = {
      PL_POSITION_TOP | PL_POSITION_RIGHT, PL_POSITION_BOTTOM | PL_POSITION_RIGHT,
      PL_POSITION_TOP | PL_POSITION_LEFT, PL_POSITION_BOTTOM | PL_POSITION_LEFT};
  size_t counts[4] = {0, 0, 0, 0};
  for (const Series& s : series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double u = (s.x[i] - x.lo) / (x.hi - x.lo), v = (s.y[i] - y.lo) / (y.hi - y.lo);
      if (!std::isfinite(u) || !std::isfinite(v)) continue;
      const bool top = v > 0.65, bottom = v < 0.35;
      if (u > 0.6) {
        counts[0] += top;
        counts[1] += bottom;
      } else if (u < 0.4) {
        counts[2] += top;
        counts[3] += bottom;
      }
    }
  }
  return corners[std::min_element(counts, counts + 4) - counts];
}

// Average glyph width of the font, in character heights (for sizing label margins).
constexpr double kCharWidth = 0.66;

// How far below a text's centre its reference point lies, in world units of the current window's
// y axis (spanning `units`), for the current character height.
double text_center_offset(size_t units) {
  PLFLT x0, x1, y0, y1, vx0, vx1, vy0, vy1, default_height, height;
  plgspa(&x0, &x1, &y0, &y1);
  plgvpd(&vx0, &vx1, &vy0, &vy1);
  plgchr(&default_height, &height);
  return 0.5 * height / ((vy1 - vy0) * (y1 - y0)) * static_cast<double>(units);
}

struct LegendEntry {
  std::string text;
  PLINT color = kText;
  PLINT line_style = 1;  // 0: a symbol instead of a line
  double line_width = 2;
};

void draw_legend(const std::vector<LegendEntry>& entries, PLINT position) {
  if (entries.empty()) return;
  const size_t n = entries.size();
  std::vector<std::string> texts;
  std::vector<const char*> text_ptrs, symbols(n, "•");
  std::vector<PLINT> opts, colors, styles, text_colors(n, kText), symbol_numbers(n, 1);
  std::vector<PLFLT> widths, symbol_scales(n, 1.0);
  for (const LegendEntry& e : entries) {
    texts.push_back(pl_text(e.text));
    opts.push_back(e.line_style > 0 ? PL_LEGEND_LINE : PL_LEGEND_SYMBOL);
    colors.push_back(e.color);
    styles.push_back(std::max<PLINT>(e.line_style, 1));
    widths.push_back(e.line_width);
  }
  for (const std::string& t : texts) text_ptrs.push_back(t.c_str());
  PLFLT width = 0, height = 0;
  pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           position | PL_POSITION_INSIDE, 0.02, 0.03, 0.07, kBackground, kGrid, 1, 0, 0,
           static_cast<PLINT>(n), opts.data(), 0.8, 1.0, 2.2, 0.0, text_colors.data(),
           text_ptrs.data(), nullptr, nullptr, nullptr, nullptr, colors.data(), styles.data(),
           widths.data(), colors.data(), symbol_scales.data(), symbol_numbers.data(),
           symbols.data());
}

}  // namespace

void line_plot(const std::string& png, const std::string& title, const std::string& xlabel,
               const std::string& ylabel, const std::vector<Series>& series, bool log_y) {
  EMBER_CHECK(!series.empty(), png, ": line_plot needs at least one series");
  std::vector<Series> shown = series;  // y as drawn: log10(y) on a log axis, <= 0 a gap
  Range x, y;
  for (Series& s : shown) {
    check_series(s, png, "line_plot: series");
    if (log_y) {
      for (double& v : s.y) v = v > 0 ? std::log10(v) : NAN;
    }
    extend(x, y, s);
  }
  EMBER_CHECK(!x.empty(), png, ": line_plot has no finite points to draw",
              log_y ? " (a log axis shows only values > 0)" : "");
  x = x.padded(0.02);
  y = y.padded(0.05);

  PngPage page(png, 900, 600);
  set_viewport(8.5, 2.0, 4.5, 3.0);
  plwind(x.lo, x.hi, y.lo, y.hi);
  draw_axes(title, xlabel, ylabel, log_y);
  std::vector<LegendEntry> legend;
  for (size_t k = 0; k < shown.size(); ++k) {
    const PLINT color = kFirstSeries + static_cast<PLINT>(k) % kNumSeriesColors;
    const PLINT style = 1 + static_cast<PLINT>(k / kNumSeriesColors) % 8;
    plcol0(color);
    pllsty(style);
    plwidth(2);
    draw_runs(shown[k].x, shown[k].y);
    if (!shown[k].label.empty()) legend.push_back({shown[k].label, color, style, 2});
  }
  pllsty(1);
  draw_legend(legend, legend_corner(shown, x, y));
  page.finish();
}

void scatter_plot(const std::string& png, const std::string& title, const std::string& xlabel,
                  const std::string& ylabel, const Series& points, const Series* line,
                  bool diagonal) {
  check_series(points, png, "scatter_plot: points");
  if (line != nullptr) check_series(*line, png, "scatter_plot: line");
  std::vector<double> px, py;  // the finite points
  for (size_t i = 0; i < points.x.size(); ++i) {
    if (!std::isfinite(points.x[i]) || !std::isfinite(points.y[i])) continue;
    px.push_back(points.x[i]);
    py.push_back(points.y[i]);
  }
  EMBER_CHECK(!px.empty(), png, ": scatter_plot has no finite points to draw");
  Range x, y;
  extend(x, y, points);
  if (line != nullptr) extend(x, y, *line);
  if (diagonal) {  // one range for both axes, so that y = x runs corner to corner
    x.add(y.lo);
    x.add(y.hi);
    y = x;
  }
  x = x.padded(0.04);
  y = y.padded(0.04);

  PngPage page(png, 900, 600);
  set_viewport(8.5, 2.0, 4.5, 3.0);
  plwind(x.lo, x.hi, y.lo, y.hi);
  draw_axes(title, xlabel, ylabel, false);
  std::vector<LegendEntry> legend;
  if (diagonal) {
    const double ends[] = {x.lo, x.hi};
    plcol0(kGuide);
    pllsty(2);
    plwidth(1.5);
    plline(2, ends, ends);
    pllsty(1);
    legend.push_back({"y = x", kGuide, 2, 1.5});
  }
  plscol0a(kFirstSeries, kRed[kFirstSeries], kGreen[kFirstSeries], kBlue[kFirstSeries], 0.6);
  plcol0(kFirstSeries);
  plstring(static_cast<PLINT>(px.size()), px.data(), py.data(), "•");
  if (!points.label.empty()) legend.push_back({points.label, kFirstSeries, 0, 1});
  if (line != nullptr) {
    plcol0(kFirstSeries + 1);
    plwidth(2.5);
    draw_runs(line->x, line->y);
    if (!line->label.empty()) legend.push_back({line->label, kFirstSeries + 1, 1, 2.5});
  }
  std::vector<Series> all = {points};
  if (line != nullptr) all.push_back(*line);
  draw_legend(legend, legend_corner(all, x, y));
  page.finish();
}

void heatmap(const std::string& png, const std::string& title,
             const std::vector<std::vector<double>>& values,
             const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
             const std::string& xlabel, const std::string& ylabel, bool annotate) {
  const size_t rows = values.size();
  const size_t cols = rows > 0 ? values[0].size() : 0;
  EMBER_CHECK(rows > 0 && cols > 0, png, ": heatmap needs at least one row and one column");
  Range range;
  bool integers = true;
  for (size_t r = 0; r < rows; ++r) {
    EMBER_CHECK(values[r].size() == cols, png, ": heatmap row ", r, " has ", values[r].size(),
                " values but row 0 has ", cols);
    for (double v : values[r]) {
      range.add(v);
      integers = integers && (!std::isfinite(v) || v == std::round(v));
    }
  }
  EMBER_CHECK(row_labels.size() == rows && col_labels.size() == cols, png, ": heatmap has ", rows,
              "x", cols, " values but ", row_labels.size(), " row labels and ", col_labels.size(),
              " column labels");
  const double lo = range.empty() ? 0 : std::min(0.0, range.lo);
  const double hi = range.empty() ? 1 : range.hi;
  size_t row_chars = 0, col_chars = 0;
  for (const std::string& s : row_labels) row_chars = std::max(row_chars, s.size());
  for (const std::string& s : col_labels) col_chars = std::max(col_chars, s.size());
  // Margins in character heights: labels, a gap, then the axis title.
  const bool vertical_cols = col_chars * cols > 60;  // too wide to write side by side
  // Labels shrink when there are more than 24 rows or columns, so they do not overlap.
  const double label_size = std::min(1.0, 24.0 / static_cast<double>(std::max(rows, cols)));
  const double row_extent = (0.8 + kCharWidth * static_cast<double>(row_chars)) * label_size;
  const double col_extent =
      vertical_cols ? (0.8 + kCharWidth * static_cast<double>(col_chars)) * label_size : 2.9;
  const double ylabel_at = row_extent + 1.6, xlabel_at = col_extent + 0.9;

  PngPage page(png, 760, 680);
  set_viewport(ylabel_at + 1.2, 1.5, xlabel_at + 2.0, 3.0);
  plwind(0, static_cast<double>(cols), 0, static_cast<double>(rows));
  const PLFLT stops[] = {0.0, 0.5, 1.0};  // white, light blue, dark blue (matplotlib's Blues)
  const PLFLT red[] = {0.97, 0.42, 0.03}, green[] = {0.98, 0.68, 0.19}, blue[] = {1.0, 0.84, 0.42};
  plscmap1l(1, 3, stops, red, green, blue, nullptr);
  const double cell_chars = 30.0 / static_cast<double>(std::max(rows, cols));
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const double v = values[r][c];
      if (!std::isfinite(v)) continue;
      const double t = hi > lo ? (v - lo) / (hi - lo) : 0.0;
      const double x0 = static_cast<double>(c), y0 = static_cast<double>(rows - 1 - r);
      const PLFLT xs[] = {x0, x0 + 1, x0 + 1, x0}, ys[] = {y0, y0, y0 + 1, y0 + 1};
      plcol1(t);
      plfill(4, xs, ys);
      if (!annotate) continue;
      char text[32];
      std::snprintf(text, sizeof(text), integers ? "%.0f" : "%.3g", v);
      plcol0(t > 0.5 ? kBackground : kText);
      plschr(0, std::clamp(cell_chars / std::max<double>(3, std::strlen(text)), 0.6, 1.3));
      plptex(x0 + 0.5, y0 + 0.5 - text_center_offset(rows), 1, 0, 0.5, text);
    }
  }
  plschr(0, 1.0);
  plcol0(kText);
  plwidth(1);
  plbox("bc", 0, 0, "bc", 0, 0);
  const double row_shift = text_center_offset(rows) / static_cast<double>(rows);
  plschr(0, label_size);
  for (size_t r = 0; r < rows; ++r) {
    const double pos = 1.0 - (static_cast<double>(r) + 0.5) / static_cast<double>(rows);
    plmtex("lv", 0.8, pos - row_shift, 1.0, pl_text(row_labels[r]).c_str());
  }
  for (size_t c = 0; c < cols; ++c) {
    const double pos = (static_cast<double>(c) + 0.5) / static_cast<double>(cols);
    if (vertical_cols) {
      plmtex("bv", 0.8, pos + 0.3 * row_shift, 1.0, pl_text(col_labels[c]).c_str());
    } else {
      plmtex("b", 1.6, pos, 0.5, pl_text(col_labels[c]).c_str());
    }
  }
  plschr(0, 1.35);
  plmtex("t", 1.3, 0.5, 0.5, pl_text(title).c_str());
  plschr(0, 1.1);
  plmtex("b", xlabel_at / 1.1, 0.5, 0.5, pl_text(xlabel).c_str());
  plmtex("l", ylabel_at / 1.1, 0.5, 0.5, pl_text(ylabel).c_str());
  page.finish();
}

}  // namespace ember::train

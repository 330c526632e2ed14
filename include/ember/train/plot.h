// PNG plots drawn with PLplot's cairo driver: training curves, scatter plots, confusion matrices.
#pragma once

#include <string>
#include <vector>

namespace ember::train {

/// One named set of points; x and y have the same length.
struct Series {
  std::string label;
  std::vector<double> x, y;
};

// All plots are written atomically (PLplot draws into memory, then io::write_file_atomic), on a
// white background, serialized by a process-wide mutex (PLplot keeps global state) and silent on
// stdout/stderr. Bad input (no series, no finite points, x/y of different lengths, label counts
// that don't match) throws ValueError naming the file; a failure to write throws IOError.

/// Line plot (900×600) of one or more series with a legend (for labelled series). NaN values are
/// gaps; a point between two gaps is drawn as a marker. With log_y the y axis is logarithmic and
/// values <= 0 are gaps too.
void line_plot(const std::string& png, const std::string& title, const std::string& xlabel,
               const std::string& ylabel, const std::vector<Series>& series, bool log_y = false);

/// Scatter plot (900×600) of points, optionally with a line (e.g. a fit, drawn in order) and the
/// y = x diagonal (for predicted-vs-true plots; both axes then share one range).
void scatter_plot(const std::string& png, const std::string& title, const std::string& xlabel,
                  const std::string& ylabel, const Series& points, const Series* line = nullptr,
                  bool diagonal = false);

/// Heat map (about 760×680) of values[row][col] (e.g. a confusion matrix: rows = true class,
/// columns = predicted), row 0 at the top, each cell shaded from white (lowest) to dark blue
/// (highest) and labelled with its value (integers when every value is one); NaN cells stay
/// blank. row_labels/col_labels name the rows and columns. Without annotate the cells carry no
/// numbers (for maps too large to read them, e.g. attention).
void heatmap(const std::string& png, const std::string& title,
             const std::vector<std::vector<double>>& values,
             const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
             const std::string& xlabel, const std::string& ylabel, bool annotate = true);

}  // namespace ember::train

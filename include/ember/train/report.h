// The run report: one self-contained HTML page (inline CSS, plots as data: URIs) per training run.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ember/io/json.h"
#include "ember/train/metrics.h"

namespace ember::train {

/// A table of text cells under a heading (e.g. per-class accuracy).
struct ReportTable {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  ///< each as long as header
};

/// What a run report shows (the page: title, facts, final metrics, plots, data, config).
struct Report {
  std::string title;  ///< e.g. "iris — softmax MLP"
  /// Run facts as (name, value): run dir, started, duration, device, parameters, best step, ...
  std::vector<std::pair<std::string, std::string>> facts;
  std::string config_toml;  ///< the resolved config, shown verbatim
  /// The data-quality summary of ember::data::inspect (optional; null: no data section): its
  /// source, rows, columns and duplicate_rows as a line, "column_stats" as a table (name, type,
  /// missing %, min, max, mean), the class balance of "target" and the "findings" as a list.
  /// Members that are absent or of another type are left out.
  json::Value data_summary;
  Metrics final_metrics;  ///< a table of name and value
  /// (caption, PNG path): each image is embedded as a data:image/png;base64 URI.
  std::vector<std::pair<std::string, std::string>> plots;
  std::vector<ReportTable> tables;  ///< shown after the plots
};

/// Writes the report as one HTML file (atomically) with everything inline: no external CSS,
/// scripts, fonts or images. All text is HTML-escaped. A plot that cannot be read or is not a PNG
/// throws IOError naming its path.
void write_report(const std::string& html_path, const Report& report);

/// Adds a figure (caption, PNG embedded as a data: URI) to the "Explanations" section of a report
/// that write_report wrote, creating the section on first use; the file is rewritten atomically.
/// IOError when the report is missing or was not written by write_report.
void add_report_figure(const std::string& html_path, const std::string& caption,
                       const std::string& png);

}  // namespace ember::train

// The run report: one self-contained HTML page (inline CSS, plots as data: URIs) per training run.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ember/io/json.h"
#include "ember/train/metrics.h"

namespace ember::train {

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
};

/// Writes the report as one HTML file (atomically) with everything inline: no external CSS,
/// scripts, fonts or images. All text is HTML-escaped. A plot that cannot be read or is not a PNG
/// throws IOError naming its path.
void write_report(const std::string& html_path, const Report& report);

}  // namespace ember::train

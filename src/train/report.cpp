// The run report: one self-contained HTML page (inline CSS, plots as data: URIs) per training run.
#include "ember/train/report.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>

#include "ember/io/file.h"

namespace ember::train {

namespace {

constexpr const char* kStyle = R"css(
body { margin: 0; background: #f6f8fa; color: #1f2328;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 1.75em; margin: 0 0 12px; }
h2 { font-size: 1.15em; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; background: #fff; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: 5px 12px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; }
td.num { text-align: right; }
.scroll { overflow-x: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(440px, 100%), 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
figure img { display: block; width: 100%; height: auto; }
figcaption { text-align: center; color: #57606a; font-size: 0.92em; margin-top: 4px; }
pre { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px;
  overflow-x: auto; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.muted { color: #57606a; }
footer { margin-top: 40px; color: #8c959f; font-size: 0.85em; }
)css";

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = 0;
    for (size_t k = 0; k < 3; ++k)
      group = group << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kDigits[(group >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

// A JSON scalar as table text ("" for null, objects and arrays).
std::string cell_text(const json::Value* v) {
  if (v == nullptr) return "";
  switch (v->type()) {
    case json::Type::Bool:
      return v->as_bool() ? "true" : "false";
    case json::Type::Int:
      return std::to_string(v->as_int());
    case json::Type::Double:
      return format_number(v->as_double());
    case json::Type::String:
      return v->as_string();
    default:
      return "";
  }
}

// A JSON number as "33.3%" ("" otherwise).
std::string percent(const json::Value* v) {
  if (v == nullptr || !v->is_number()) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", v->as_double());
  return buf;
}

std::string row(std::initializer_list<std::string> cells, const char* tag = "td") {
  std::string out = "<tr>";
  for (const std::string& c : cells)
    out += std::string("<") + tag + ">" + escape(c) + "</" + tag + ">";
  return out + "</tr>\n";
}

std::string facts_section(const Report& r) {
  std::string out = "<h2>Run</h2>\n<table>\n";
  for (const auto& [name, value] : r.facts)
    out += "<tr><th>" + escape(name) + "</th><td>" + escape(value) + "</td></tr>\n";
  return out + "</table>\n";
}

std::string metrics_section(const Report& r) {
  std::string out = "<h2>Final metrics</h2>\n<table>\n<tr><th>metric</th><th>value</th></tr>\n";
  for (const auto& [name, value] : r.final_metrics)
    out += "<tr><td>" + escape(name) + "</td><td class=\"num\">" + format_number(value) +
           "</td></tr>\n";
  return out + "</table>\n";
}

std::string figure(const std::string& caption, const std::string& path) {
  const std::string png = io::read_file(path);
  EMBER_CHECK_IO(png.starts_with("\x89PNG\r\n\x1a\n"), path, ": not a PNG image (figure '", caption,
                 "' of the report)");
  return "<figure><img src=\"data:image/png;base64," + base64(png) + "\" alt=\"" + escape(caption) +
         "\"><figcaption>" + escape(caption) + "</figcaption></figure>\n";
}

std::string plots_section(const Report& r) {
  std::string out = "<h2>Plots</h2>\n<div class=\"grid\">\n";
  for (const auto& [caption, path] : r.plots) out += figure(caption, path);
  return out + "</div>\n";
}

std::string table_section(const ReportTable& t) {
  std::string out = "<h2>" + escape(t.title) + "</h2>\n<div class=\"scroll\"><table>\n<tr>";
  for (const std::string& h : t.header) out += "<th>" + escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& cells : t.rows) {
    out += "<tr>";
    for (size_t i = 0; i < cells.size(); ++i)
      out += (i == 0 ? "<td>" : "<td class=\"num\">") + escape(cells[i]) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table></div>\n";
}

// Where add_report_figure inserts: the end of the explanations grid, before the data section.
constexpr const char* kExplanationsMark = "<!-- ember:explanations -->\n";
constexpr const char* kExplanationsHead = "<h2>Explanations</h2>\n<div class=\"grid\">\n";

std::string data_section(const json::Value& d) {
  std::string out = "<h2>Data</h2>\n";
  if (!d.is_object()) return out + "<p class=\"muted\">(no summary)</p>\n";
  std::string line;
  for (const char* key : {"source", "rows", "columns", "duplicate_rows"}) {
    const std::string text = cell_text(d.find(key));
    if (text.empty()) continue;
    if (!line.empty()) line += " · ";
    line += std::string(key) + ": " + text;
  }
  if (!line.empty()) out += "<p>" + escape(line) + "</p>\n";
  const json::Value* stats = d.find("column_stats");
  if (stats != nullptr && stats->is_array()) {
    out += "<div class=\"scroll\"><table>\n" +
           row({"column", "type", "missing %", "min", "max", "mean"}, "th");
    for (const json::Value& c : stats->as_array()) {
      if (!c.is_object()) continue;
      out += "<tr><td>" + escape(cell_text(c.find("name"))) + "</td><td>" +
             escape(cell_text(c.find("type"))) + "</td>";
      for (const char* key : {"missing_pct", "min", "max", "mean"})
        out += "<td class=\"num\">" + escape(cell_text(c.find(key))) + "</td>";
      out += "</tr>\n";
    }
    out += "</table></div>\n";
  }
  const json::Value* target = d.find("target");
  const json::Value* classes = target && target->is_object() ? target->find("classes") : nullptr;
  if (classes != nullptr && classes->is_array()) {
    std::string balance;
    for (const json::Value& c : classes->as_array()) {
      if (!c.is_object()) continue;
      if (!balance.empty()) balance += ", ";
      balance += cell_text(c.find("name")) + " " + cell_text(c.find("count")) + " (" +
                 percent(c.find("pct")) + ")";
    }
    out += "<p>Target '" + escape(cell_text(target->find("name"))) + "': " + escape(balance) +
           "</p>\n";
  }
  const json::Value* findings = d.find("findings");
  if (findings != nullptr && findings->is_array() && findings->size() > 0) {
    out += "<p>Findings:</p>\n<ul>\n";
    for (const json::Value& f : findings->as_array())
      out += "<li>" + escape(cell_text(&f)) + "</li>\n";
    out += "</ul>\n";
  }
  return out;
}

}  // namespace

void write_report(const std::string& html_path, const Report& report) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      escape(report.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  html += "<h1>" + escape(report.title) + "</h1>\n";
  if (!report.facts.empty()) html += facts_section(report);
  if (!report.final_metrics.empty()) html += metrics_section(report);
  if (!report.plots.empty()) html += plots_section(report);
  for (const ReportTable& t : report.tables) html += table_section(t);
  html += kExplanationsMark;
  if (!report.data_summary.is_null()) html += data_section(report.data_summary);
  if (!report.config_toml.empty())
    html += "<h2>Configuration</h2>\n<pre>" + escape(report.config_toml) + "</pre>\n";
  html += "<footer>Generated by Ember.</footer>\n</main>\n</body>\n</html>\n";
  io::write_file_atomic(html_path, html);
}

void add_report_figure(const std::string& html_path, const std::string& caption,
                       const std::string& png) {
  std::string html = io::read_file(html_path);
  const size_t mark = html.find(kExplanationsMark);
  EMBER_CHECK_IO(mark != std::string::npos, html_path,
                 ": not a report written by this version of ember (no explanations marker)");
  const std::string fig = figure(caption, png);
  const std::string close = "</div>\n";
  if (html.find(kExplanationsHead) == std::string::npos)
    html.insert(mark, kExplanationsHead + fig + close);
  else  // the grid's closing tag ends right before the mark
    html.insert(mark - close.size(), fig);
  io::write_file_atomic(html_path, html);
}

}  // namespace ember::train

// Report: one self-contained HTML page with escaped text, inline images and no external links.
#include <gtest/gtest.h>

#include <filesystem>

#include "ember/ember.h"
#include "ember/train/report.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using namespace ember::train;
using ember::testing::expect_error;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return ember::testing::fresh_dir("train_report", name);
}

const std::string kSignature("\x89PNG\r\n\x1a\n", 8);

// A file that starts like a PNG (the report checks only the signature).
std::string fake_png(const fs::path& dir, const std::string& name, const std::string& tail) {
  const std::string path = (dir / name).string();
  io::write_file_atomic(path, kSignature + tail);
  return path;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST(TrainReport, WritesSelfContainedHtml) {
  const fs::path dir = fresh_dir("full");
  Report r;
  r.title = "iris — softmax <MLP> & co";
  r.facts = {{"run dir", "runs/iris-1"}, {"device", "cpu"}, {"best step", "120"}};
  r.config_toml = "[model]\nname = \"<script>alert('x')</script>\"\n";
  r.final_metrics = {{"val_accuracy", 0.96666666666}, {"val_loss", 0.0812}};
  // Tails of 1, 2 and 3 bytes exercise every base64 padding; the expected encodings come from
  // /usr/bin/python3: base64.b64encode(b'\x89PNG\r\n\x1a\n' + tail).
  r.plots = {{"loss", fake_png(dir, "loss.png", "e")},
             {"accuracy", fake_png(dir, "acc.png", "em")},
             {"confusion \"matrix\"", fake_png(dir, "cm.png", "emb")},
             {"bytes", fake_png(dir, "b.png", std::string("\x00\xff\x10", 3))}};
  r.data_summary = json::parse(R"json({
    "source": "data/iris.csv", "rows": 150, "columns": 5,
    "column_stats": [
      {"name": "sepal_length", "type": "numeric", "missing": 0, "missing_pct": 0.0,
       "min": 4.3, "max": 7.9, "mean": 5.843333},
      {"name": "species", "type": "categorical", "missing": 3, "missing_pct": 2.0, "top": "setosa"}
    ],
    "duplicate_rows": 1,
    "target": {"name": "species", "kind": "classes",
               "classes": [{"name": "setosa", "count": 50, "pct": 33.33}]},
    "findings": ["1 duplicate row (equal to an earlier row)", "column 'x<y' is constant"]
  })json");
  const std::string path = (dir / "report.html").string();
  write_report(path, r);
  const std::string html = io::read_file(path);

  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(contains(html, "<title>iris — softmax &lt;MLP&gt; &amp; co</title>"));
  EXPECT_TRUE(contains(html, "<h1>iris — softmax &lt;MLP&gt; &amp; co</h1>"));
  EXPECT_TRUE(contains(html, "<th>best step</th><td>120</td>"));
  EXPECT_TRUE(contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_TRUE(contains(html, "val_accuracy</td><td class=\"num\">0.966667</td>"));
  EXPECT_TRUE(contains(html, "src=\"data:image/png;base64,iVBORw0KGgpl\""));
  EXPECT_TRUE(contains(html, "src=\"data:image/png;base64,iVBORw0KGgplbQ==\""));
  EXPECT_TRUE(contains(html, "src=\"data:image/png;base64,iVBORw0KGgplbWI=\""));
  EXPECT_TRUE(contains(html, "src=\"data:image/png;base64,iVBORw0KGgoA/xA=\""));
  EXPECT_TRUE(contains(html, "<figcaption>confusion &quot;matrix&quot;</figcaption>"));
  EXPECT_FALSE(contains(html, "http://"));
  EXPECT_FALSE(contains(html, "https://"));
  EXPECT_TRUE(contains(html, "<style>"));
  // The data summary: a line, the column table, the class balance, the findings.
  EXPECT_TRUE(contains(html, "rows: 150"));
  EXPECT_TRUE(contains(html, "<td>sepal_length</td><td>numeric</td>"));
  EXPECT_TRUE(contains(html, "<td class=\"num\">7.9</td>"));
  EXPECT_TRUE(contains(html, "<td>species</td><td>categorical</td><td class=\"num\">2</td>"));
  EXPECT_TRUE(contains(html, "setosa 50 (33.3%)"));
  EXPECT_TRUE(contains(html, "<li>column &#39;x&lt;y&#39; is constant</li>"));
  // Sections in order; nothing but the report (and the fake PNGs) in the directory.
  const size_t metrics = html.find("Final metrics"), plots = html.find("<h2>Plots"),
               data = html.find("<h2>Data"), config = html.find("<h2>Configuration");
  EXPECT_LT(metrics, plots);
  EXPECT_LT(plots, data);
  EXPECT_LT(data, config);
  EXPECT_NE(config, std::string::npos);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 5);
}

TEST(TrainReport, OptionalSectionsAreOmitted) {
  const fs::path dir = fresh_dir("minimal");
  Report r;
  r.title = "tiny";
  write_report((dir / "r.html").string(), r);
  const std::string html = io::read_file((dir / "r.html").string());
  EXPECT_TRUE(contains(html, "<h1>tiny</h1>"));
  for (const char* section : {"<h2>Data", "<h2>Plots", "Final metrics", "<h2>Configuration"})
    EXPECT_FALSE(contains(html, section)) << section;
}

TEST(TrainReport, BadPlotsAreIOErrors) {
  const fs::path dir = fresh_dir("errors");
  Report r;
  r.title = "t";
  const std::string missing = (dir / "missing.png").string();
  r.plots = {{"loss", missing}};
  expect_error<IOError>([&] { write_report((dir / "r.html").string(), r); }, {missing});
  const std::string text = (dir / "notes.png").string();
  io::write_file_atomic(text, "not an image");
  r.plots = {{"loss", text}};
  expect_error<IOError>([&] { write_report((dir / "r.html").string(), r); },
                        {text, "not a PNG", "'loss'"});
  EXPECT_FALSE(fs::exists(dir / "r.html"));
  expect_error<IOError>([&] { write_report((dir / "no/such/dir/r.html").string(), Report{}); },
                        {"no/such/dir/r.html"});
}

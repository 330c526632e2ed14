// Training progress on the terminal: a redrawn progress bar on a TTY, plain periodic lines
// otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace ember::train {

/// How progress is shown.
enum class ProgressMode {
  Bar,    ///< a single redrawn line (stderr is a terminal)
  Lines,  ///< one plain line every log_every steps (logs, CI, pipes)
  Quiet,  ///< nothing but messages marked important
};

/// Picks Bar when the stream is a terminal, Lines otherwise; Quiet when quiet is set.
ProgressMode detect_progress_mode(std::FILE* stream, bool quiet);

/// Shows epoch, step, loss, the main metric, it/s and the ETA while a run trains.
class Progress {
 public:
  Progress(ProgressMode mode, int64_t total_steps, int64_t epochs, int64_t log_every,
           std::FILE* stream = stderr);
  /// Called after every optimizer step.
  void update(int64_t step, int64_t epoch, double loss);
  /// Sets the main metric shown next to the loss (e.g. "val_accuracy", 0.93).
  void set_metric(const std::string& name, double value);
  /// Prints a whole line above the bar (skipped in Quiet mode unless important).
  void message(const std::string& line, bool important = false);
  /// Ends the bar's line.
  void finish();
  /// Steps per second since the start.
  double steps_per_second() const;

 private:
  void draw(bool force);
  std::string status_text() const;

  ProgressMode mode_;
  int64_t total_steps_, epochs_, log_every_;
  std::FILE* stream_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t step_ = 0, first_step_ = -1, epoch_ = 0;
  double loss_ = 0;
  std::string metric_name_;
  double metric_value_ = 0;
  bool bar_on_screen_ = false;
};

}  // namespace ember::train

// Training progress: a progress bar redrawn at most ten times a second, or plain periodic lines.
#include "ember/train/progress.h"

#include <unistd.h>

#include <cmath>

namespace ember::train {

namespace {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

ProgressMode detect_progress_mode(std::FILE* stream, bool quiet) {
  if (quiet) return ProgressMode::Quiet;
  return isatty(fileno(stream)) ? ProgressMode::Bar : ProgressMode::Lines;
}

Progress::Progress(ProgressMode mode, int64_t total_steps, int64_t epochs, int64_t log_every,
                   std::FILE* stream)
    : mode_(mode),
      total_steps_(total_steps),
      epochs_(epochs),
      log_every_(log_every > 0 ? log_every : std::max<int64_t>(1, total_steps / 20)),
      stream_(stream),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::steps_per_second() const {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = first_step_ < 0 ? 0 : step_ - first_step_;
  return secs > 0 ? static_cast<double>(done) / secs : 0.0;
}

std::string Progress::status_text() const {
  const double rate = steps_per_second();
  const double eta = rate > 0 ? static_cast<double>(total_steps_ - step_) / rate : NAN;
  char buf[256];
  std::snprintf(buf, sizeof buf, "epoch %lld/%lld  step %lld/%lld  loss %.4g",
                static_cast<long long>(epoch_), static_cast<long long>(epochs_),
                static_cast<long long>(step_), static_cast<long long>(total_steps_), loss_);
  std::string s = buf;
  if (!metric_name_.empty()) {
    std::snprintf(buf, sizeof buf, "  %s %.4g", metric_name_.c_str(), metric_value_);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "  %.1f it/s  ETA %s", rate, format_duration(eta).c_str());
  return s + buf;
}

void Progress::draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double frac =
      total_steps_ > 0 ? std::min(1.0, static_cast<double>(step_) / total_steps_) : 0.0;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stream_, "\r\033[K[%s] %3d%%  %s", bar.c_str(), static_cast<int>(frac * 100),
               status_text().c_str());
  std::fflush(stream_);
  bar_on_screen_ = true;
}

void Progress::update(int64_t step, int64_t epoch, double loss) {
  if (first_step_ < 0) {
    first_step_ = step - 1;
    start_ = std::chrono::steady_clock::now();
  }
  step_ = step;
  epoch_ = epoch;
  loss_ = loss;
  if (mode_ == ProgressMode::Bar) {
    draw(step == total_steps_);
  } else if (mode_ == ProgressMode::Lines && (step % log_every_ == 0 || step == total_steps_)) {
    std::fprintf(stream_, "%s\n", status_text().c_str());
    std::fflush(stream_);
  }
}

void Progress::set_metric(const std::string& name, double value) {
  metric_name_ = name;
  metric_value_ = value;
}

void Progress::message(const std::string& line, bool important) {
  if (mode_ == ProgressMode::Quiet && !important) return;
  if (bar_on_screen_) std::fprintf(stream_, "\r\033[K");
  std::fprintf(stream_, "%s\n", line.c_str());
  if (bar_on_screen_) draw(true);
  std::fflush(stream_);
}

void Progress::finish() {
  if (mode_ == ProgressMode::Bar && bar_on_screen_) {
    draw(true);
    std::fprintf(stream_, "\n");
    bar_on_screen_ = false;
  }
  std::fflush(stream_);
}

}  // namespace ember::train

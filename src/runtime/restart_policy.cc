#include "runtime/restart_policy.h"

#include <algorithm>
#include <utility>

namespace ofn::runtime {
namespace {

std::string Seconds(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

}  // namespace

RestartPolicy::RestartPolicy(RestartOptions options, NowFn now)
    : options_(options), now_(std::move(now)), next_backoff_(options.initial_backoff) {
  started_ = now_();
}

void RestartPolicy::Started() { started_ = now_(); }

RestartDecision RestartPolicy::Crashed() {
  TimePoint now = now_();
  if (now - started_ >= options_.reset_after) next_backoff_ = options_.initial_backoff;

  crashes_.push_back(now);
  while (!crashes_.empty() && now - crashes_.front() >= options_.crash_loop_window) crashes_.pop_front();

  RestartDecision d;
  d.crashes_in_window = static_cast<int>(crashes_.size());
  if (options_.crash_loop_crashes > 0 && d.crashes_in_window >= options_.crash_loop_crashes) {
    d.crash_loop = true;
    return d;
  }
  d.delay = next_backoff_;
  next_backoff_ = std::min(next_backoff_ * 2, options_.max_backoff);
  return d;
}

std::string CrashLoopReason(const RestartDecision& decision, const RestartOptions& options,
                            std::string_view last_exit, std::string_view log_tail) {
  std::string r = "crash loop: " + std::to_string(decision.crashes_in_window) + " crashes within " +
                  Seconds(options.crash_loop_window) + "; last " + std::string(last_exit);
  if (log_tail.empty()) return r + "; the log is empty";
  r += "; last log lines:";
  size_t pos = 0;
  while (pos < log_tail.size()) {
    size_t nl = log_tail.find('\n', pos);
    size_t end = nl == std::string_view::npos ? log_tail.size() : nl;
    r += "\n| ";
    r.append(log_tail.substr(pos, end - pos));
    pos = end + 1;
  }
  return r;
}

std::string LastLines(std::string_view text, std::size_t max_lines, std::size_t max_bytes) {
  if (max_lines == 0 || text.empty()) return "";
  // A final newline ends the last line; it does not start an empty one.
  size_t end = text.size();
  if (text[end - 1] == '\n') --end;
  size_t start = end;
  size_t pos = end;  // search for line starts before this index
  for (size_t lines = 0; lines < max_lines;) {
    size_t nl = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
    start = nl == std::string_view::npos ? 0 : nl + 1;
    ++lines;
    if (nl == std::string_view::npos) break;
    pos = nl;
  }
  if (end - start > max_bytes) {
    size_t cut = end - max_bytes;
    size_t nl = text.find('\n', cut);
    start = (nl != std::string_view::npos && nl + 1 < end) ? nl + 1 : cut;
  }
  return std::string(text.substr(start, end - start));
}

}  // namespace ofn::runtime

#include "common/log.h"

#include "common/rfc3339.h"

#include "common/json_text.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace ofn::log {
namespace {

std::atomic<Format> g_format{Format::kText};
std::atomic<Level> g_level{Level::kInfo};

const char* LevelName(Level l, bool upper) {
  switch (l) {
    case Level::kDebug: return upper ? "DEBUG" : "debug";
    case Level::kInfo: return upper ? "INFO" : "info";
    case Level::kWarn: return upper ? "WARN" : "warn";
    case Level::kError: return upper ? "ERROR" : "error";
  }
  return "?";
}

std::string Now() { return FormatRfc3339(std::chrono::system_clock::now(), 3); }

// Text values with spaces or quotes are quoted so a line stays parseable.
void AppendTextValue(std::string& out, std::string_view v) {
  bool plain = !v.empty();
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=') plain = false;
  }
  if (plain) {
    out.append(v);
  } else {
    jsontext::AppendQuoted(out, v);
  }
}

}  // namespace

void SetFormat(Format f) { g_format = f; }
void SetLevel(Level l) { g_level = l; }
bool Enabled(Level l) { return l >= g_level.load(std::memory_order_relaxed); }

bool ParseFormat(std::string_view s, Format* out) {
  if (s == "text") return *out = Format::kText, true;
  if (s == "json") return *out = Format::kJson, true;
  return false;
}

bool ParseLevel(std::string_view s, Level* out) {
  if (s == "debug") return *out = Level::kDebug, true;
  if (s == "info") return *out = Level::kInfo, true;
  if (s == "warn") return *out = Level::kWarn, true;
  if (s == "error") return *out = Level::kError, true;
  return false;
}

std::string FormatLine(Level level, std::string_view msg, Fields fields, Format format) {
  std::string line;
  if (format == Format::kJson) {
    line = "{\"time\":\"" + Now() + "\",\"level\":\"" + LevelName(level, false) + "\",\"msg\":";
    jsontext::AppendQuoted(line, msg);
    for (const auto& [k, v] : fields) {
      line.push_back(',');
      jsontext::AppendQuoted(line, k);
      line.push_back(':');
      jsontext::AppendQuoted(line, v);
    }
    line += "}\n";
  } else {
    line = Now() + " " + LevelName(level, true) + " ";
    line.append(msg);
    for (const auto& [k, v] : fields) {
      line.push_back(' ');
      line.append(k);
      line.push_back('=');
      AppendTextValue(line, v);
    }
    line.push_back('\n');
  }
  return line;
}

void Write(Level level, std::string_view msg, Fields fields) {
  if (!Enabled(level)) return;
  std::string line = FormatLine(level, msg, fields, g_format.load(std::memory_order_relaxed));
  ssize_t r = ::write(STDERR_FILENO, line.data(), line.size());
  (void)r;
}

}  // namespace ofn::log

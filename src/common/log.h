// Log: one line per event on stderr, readable by people by default and JSON
// on request (SetFormat(kJson), or OFN_LOG_FORMAT=json read by the framework).
//
//   log::Info("listening", {{"port", "8080"}});
//   -> 2026-11-26T13:00:00.123Z INFO listening port=8080
//   -> {"time":"2026-11-26T13:00:00.123Z","level":"info","msg":"listening","port":"8080"}
//
// Thread-safe: each line is written with one write(2).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace ofn::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

void SetFormat(Format f);
void SetLevel(Level l);
bool Enabled(Level l);
// Parses "text"/"json"; false if neither.
bool ParseFormat(std::string_view s, Format* out);
bool ParseLevel(std::string_view s, Level* out);

void Write(Level level, std::string_view msg, Fields fields = {});
inline void Debug(std::string_view msg, Fields f = {}) { if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, f); }
inline void Info(std::string_view msg, Fields f = {}) { Write(Level::kInfo, msg, f); }
inline void Warn(std::string_view msg, Fields f = {}) { Write(Level::kWarn, msg, f); }
inline void Error(std::string_view msg, Fields f = {}) { Write(Level::kError, msg, f); }

// Formats one line without writing it (for tests).
std::string FormatLine(Level level, std::string_view msg, Fields fields, Format format);

}  // namespace ofn::log

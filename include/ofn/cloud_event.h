// CloudEvent: a CloudEvents 1.0 event (v0.3 events are upgraded when the
// framework accepts them: OFN_CLOUDEVENTS_V03=true).
//
// Attributes are kept as received: `time` keeps its exact RFC 3339 spelling and
// precision, extensions keep their JSON kind (string, boolean, integer) and
// data keeps its bytes. A plain value type; not synchronized.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn {

// An extension attribute's value. Binary-mode headers always give strings;
// structured JSON may give booleans and integers.
struct ExtensionValue {
  enum class Kind { kString, kBool, kInteger };
  Kind kind = Kind::kString;
  std::string text;  // canonical string form ("true", "5", or the string itself)

  static ExtensionValue String(std::string s) { return {Kind::kString, std::move(s)}; }
  static ExtensionValue Bool(bool b) { return {Kind::kBool, b ? "true" : "false"}; }
  static ExtensionValue Integer(std::int64_t i) { return {Kind::kInteger, std::to_string(i)}; }
  bool operator==(const ExtensionValue&) const = default;
};

class CloudEvent {
 public:
  CloudEvent() = default;
  CloudEvent(std::string id, std::string source, std::string type)
      : id_(std::move(id)), source_(std::move(source)), type_(std::move(type)) {}

  const std::string& spec_version() const { return spec_version_; }
  const std::string& id() const { return id_; }
  const std::string& source() const { return source_; }
  const std::string& type() const { return type_; }
  const std::optional<std::string>& data_content_type() const { return data_content_type_; }
  const std::optional<std::string>& data_schema() const { return data_schema_; }
  const std::optional<std::string>& subject() const { return subject_; }
  const std::optional<std::string>& time() const { return time_; }
  const std::map<std::string, ExtensionValue>& extensions() const { return extensions_; }
  // The data's bytes; nullopt when the event has no data.
  const std::optional<std::string>& data() const { return data_; }
  // True when data holds JSON text (a JSON datacontenttype, or structured mode
  // with a `data` member and no datacontenttype).
  bool data_is_json() const;

  CloudEvent& set_spec_version(std::string v) { spec_version_ = std::move(v); return *this; }
  CloudEvent& set_id(std::string v) { id_ = std::move(v); return *this; }
  CloudEvent& set_source(std::string v) { source_ = std::move(v); return *this; }
  CloudEvent& set_type(std::string v) { type_ = std::move(v); return *this; }
  CloudEvent& set_data_content_type(std::optional<std::string> v) { data_content_type_ = std::move(v); return *this; }
  CloudEvent& set_data_schema(std::optional<std::string> v) { data_schema_ = std::move(v); return *this; }
  CloudEvent& set_subject(std::optional<std::string> v) { subject_ = std::move(v); return *this; }
  // Must be RFC 3339; checked by Validate() (the framework validates reply events).
  CloudEvent& set_time(std::optional<std::string> v) { time_ = std::move(v); return *this; }
  CloudEvent& set_extension(std::string name, ExtensionValue v) { extensions_[std::move(name)] = std::move(v); return *this; }
  CloudEvent& set_data(std::optional<std::string> bytes) { data_ = std::move(bytes); json_hint_ = false; return *this; }
  // Data that is JSON text even without a JSON datacontenttype.
  CloudEvent& set_json_data(std::string json) { data_ = std::move(json); json_hint_ = true; return *this; }

  // Checks required attributes, names and formats; the message names the attribute.
  Status Validate() const;

  // The event in the CloudEvents JSON format (structured mode body).
  std::string ToJson() const;
  // Parses one event in the CloudEvents JSON format; the error names the member.
  static Result<CloudEvent> FromJson(std::string_view json);

  bool operator==(const CloudEvent&) const = default;

 private:
  std::string spec_version_ = "1.0";
  std::string id_, source_, type_;
  std::optional<std::string> data_content_type_, data_schema_, subject_, time_;
  std::map<std::string, ExtensionValue> extensions_;
  std::optional<std::string> data_;
  bool json_hint_ = false;
};

}  // namespace ofn

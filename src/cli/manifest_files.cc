#include "cli/manifest_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace ofn::cli {

namespace fs = std::filesystem;

namespace {

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return Status::NotFound("cannot read " + path);
  return ss.str();
}

bool IsManifestFile(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

Status AddRef(const YAML::Node& doc, const std::string& source, std::vector<ObjectRef>& out) {
  if (!doc.IsMap()) {
    return Status::InvalidArgument(source + ":" + std::to_string(doc.Mark().line + 1) + ": not an object");
  }
  auto str = [](const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); };
  std::string kind = str(doc["kind"]);
  if (kind == "List" && doc["items"] && doc["items"].IsSequence()) {
    for (const YAML::Node& item : doc["items"]) {
      Status s = AddRef(item, source, out);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
  ObjectRef ref;
  ref.api_version = str(doc["apiVersion"]);
  ref.kind = kind;
  if (doc["metadata"] && doc["metadata"].IsMap()) {
    ref.name = str(doc["metadata"]["name"]);
    ref.ns = str(doc["metadata"]["namespace"]);
  }
  const std::string where = source + ":" + std::to_string(doc.Mark().line + 1);
  if (ref.kind.empty()) return Status::InvalidArgument(where + ": kind: required");
  if (ref.name.empty()) return Status::InvalidArgument(where + ": metadata.name: required");
  out.push_back(std::move(ref));
  return Status::Ok();
}

}  // namespace

Result<std::vector<ManifestInput>> ReadManifests(const std::vector<std::string>& paths, std::istream& in) {
  std::vector<ManifestInput> out;
  for (const std::string& path : paths) {
    if (path == "-") {
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back({"<stdin>", ss.str()});
      continue;
    }
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) return Status::InvalidArgument("the path \"" + path + "\" does not exist");
    if (fs::is_directory(st)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        if (IsManifestFile(entry.path()) && entry.is_regular_file()) files.push_back(entry.path());
      }
      if (ec) return Status::NotFound("cannot list " + path + ": " + ec.message());
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        Result<std::string> text = ReadWhole(f.string());
        if (!text.ok()) return text.status();
        out.push_back({f.string(), std::move(text).value()});
      }
      continue;
    }
    Result<std::string> text = ReadWhole(path);
    if (!text.ok()) return text.status();
    out.push_back({path, std::move(text).value()});
  }
  return out;
}

Result<std::vector<ObjectRef>> ObjectRefs(const ManifestInput& input) {
  std::vector<ObjectRef> out;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(input.text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(input.source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  for (const YAML::Node& doc : docs) {
    if (!doc || doc.IsNull()) continue;  // empty documents ("---" at the end) are fine
    Status s = AddRef(doc, input.source, out);
    if (!s.ok()) return s;
  }
  return out;
}

}  // namespace ofn::cli

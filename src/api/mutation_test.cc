// A corpus of mutated manifests: every sample from ../shared/specs (plus a
// v1beta1 Function and events resources), changed one field at a time. Each
// mutation must give an error naming exactly that field, at its line, or be
// accepted where the schema allows it; nothing may crash.
#include <gtest/gtest.h>

#include "api/load.h"
#include "api/schema.h"
#include "api/schema_registry.h"
#include "api/testing_specs.h"

namespace ofn::api {
namespace {

using nlohmann::json;

constexpr const char* kEvents = R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: my-eventsource
spec:
  logLevel: "2"
  eventBus: default
  kafka:
    sample-one:
      brokers: "kafka-server-kafka-brokers.default.svc.cluster.local:9092"
      topic: events-sample
      authRequired: false
      maxMessageBytes: 2048
  cron:
    every-minute:
      schedule: "@every 1m"
---
apiVersion: events.openfunction.io/v1alpha1
kind: EventBus
metadata:
  name: default
spec:
  natsStreaming:
    natsURL: "nats://nats.default:4222"
    natsStreamingClusterID: "stan"
    subscriptionType: queue
    durableSubscriptionName: "ImDurable"
    maxInFlight: 10
---
apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: trigger-a
spec:
  logLevel: "2"
  eventBus: default
  inputs:
    inputDemo:
      eventSource: my-eventsource
      event: sample-one
  subscribers:
    - condition: inputDemo
      sink:
        ref:
          apiVersion: serving.knative.dev/v1
          kind: Service
          name: function-sample-serving-ksvc
      deadLetterTopic: dead
)";

struct Case {
  std::string label;
  Document doc;
};

std::vector<Case> Corpus() {
  std::vector<Case> corpus;
  for (const auto& path : specs::SampleManifests()) {
    std::string rel = std::filesystem::relative(path, specs::SpecsDir()).string();
    auto docs = ParseManifests(specs::ReadFile(path), rel);
    EXPECT_TRUE(docs.ok()) << docs.status().message();
    if (!docs.ok()) continue;
    for (Document& d : *docs) {
      if (d.kind == "Function" && d.annotations.count("kubectl.kubernetes.io/last-applied-configuration")) {
        auto v1 = ParseManifests(d.annotations.at("kubectl.kubernetes.io/last-applied-configuration"),
                                 rel + " (last-applied, v1beta1)");
        if (v1.ok()) corpus.push_back({v1->front().source, std::move(v1->front())});
      }
      if (FindKind(d.group(), d.kind) != nullptr) corpus.push_back({d.Describe(), std::move(d)});
    }
  }
  auto events = ParseManifests(kEvents, "events.yaml");
  EXPECT_TRUE(events.ok());
  for (Document& d : *events) corpus.push_back({d.Describe(), std::move(d)});
  return corpus;
}

const std::vector<Case>& TheCorpus() {
  static const auto* corpus = new std::vector<Case>(Corpus());
  return *corpus;
}

void Leaves(const json& v, const std::string& at, std::vector<std::string>* scalars,
            std::vector<std::string>* objects) {
  if (v.is_object()) {
    objects->push_back(at);
    for (auto it = v.begin(); it != v.end(); ++it) {
      Leaves(it.value(), at + "/" + EscapePointerToken(it.key()), scalars, objects);
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) Leaves(v[i], at + "/" + std::to_string(i), scalars, objects);
  } else if (!v.is_null()) {
    scalars->push_back(at);
  }
}

// Fields whose checks are Ofn's own (ObjectMeta is not in CRD schemas).
bool CheckedMetadata(const std::string& pointer) {
  std::vector<std::string> t = SplitPointer(pointer);
  if (t.size() == 1) return t[0] == "apiVersion" || t[0] == "kind";
  if (t.size() < 2 || t[0] != "metadata") return false;
  return t[1] == "name" || t[1] == "namespace" || ((t[1] == "labels" || t[1] == "annotations") && t.size() == 3);
}

bool Under(const std::string& pointer, const char* prefix) { return PointerHasPrefix(pointer, prefix); }

// Loads the mutated document (and decodes it regardless of validation, to
// prove the typed views never crash), and checks every message is complete.
Resource LoadMutant(const Document& mutant) {
  Resource r = LoadResource(mutant);
  for (const Diagnostic& d : r.errors) {
    EXPECT_EQ(d.source, mutant.source);
    EXPECT_GT(d.position.line, 0) << d.ToString();
    EXPECT_FALSE(d.message.empty());
  }
  std::vector<Diagnostic> ignored;
  if (mutant.kind == "Function") DecodeFunction(mutant, &ignored);
  if (mutant.kind == "Gateway") DecodeGateway(mutant, &ignored);
  return r;
}

const Diagnostic* ErrorAt(const Resource& r, const std::string& pointer) {
  for (const Diagnostic& d : r.errors) {
    if (d.pointer == pointer) return &d;
  }
  return nullptr;
}

std::string Listing(const Resource& r) { return FormatDiagnostics(r.errors); }

TEST(Mutation, CorpusIsComplete) {
  ASSERT_TRUE(std::filesystem::is_directory(specs::SpecsDir() / "openfunction-samples"))
      << specs::MissingSpecsMessage();
  EXPECT_GE(TheCorpus().size(), 40u);
  for (const Case& c : TheCorpus()) {
    Resource r = LoadResource(c.doc);
    EXPECT_TRUE(r.ok()) << c.label << "\n" << Listing(r);
    EXPECT_TRUE(r.supported) << c.label;
  }
}

TEST(Mutation, WrongTypeAtEveryLeafNamesThatField) {
  ASSERT_FALSE(TheCorpus().empty()) << specs::MissingSpecsMessage();
  int checked = 0;
  for (const Case& c : TheCorpus()) {
    const Schema* schema = FindSchema(c.doc.group(), c.doc.version(), c.doc.kind);
    ASSERT_NE(schema, nullptr) << c.label;
    std::vector<std::string> scalars, objects;
    Leaves(c.doc.object, "", &scalars, &objects);
    for (const std::string& p : scalars) {
      if (Under(p, "/status")) continue;
      const json& original = c.doc.object.at(json::json_pointer(p));
      Schema::FieldInfo info = schema->Lookup(c.doc.object, p);
      bool meta = CheckedMetadata(p);

      // A map where a scalar was: wrong for every typed field.
      Document a = c.doc;
      a.object.at(json::json_pointer(p)) = json{{"mutated", true}};
      Resource ra = LoadMutant(a);
      const Diagnostic* e = ErrorAt(ra, p);
      if (meta || info.kind == Schema::FieldInfo::Kind::kTyped) {
        ASSERT_NE(e, nullptr) << c.label << ": " << p << " as a map\n" << Listing(ra);
        EXPECT_EQ(e->position.line, c.doc.PositionOf(p).line) << p;
        EXPECT_FALSE(e->path.empty());
        ++checked;
      } else {
        EXPECT_EQ(e, nullptr) << c.label << ": " << p << " is kept as is, any value goes\n" << Listing(ra);
      }

      // The other scalar type.
      Document b = c.doc;
      json swapped = original.is_string() ? json(12345) : original.is_boolean() ? json("maybe") : json("twelve");
      b.object.at(json::json_pointer(p)) = swapped;
      Resource rb = LoadMutant(b);
      bool must_fail =
          (info.type == "string" && !swapped.is_string()) ||
          ((info.type == "integer" || info.type == "number" || info.type == "boolean") && swapped.is_string()) ||
          (meta && p != "/metadata/name" && p != "/metadata/namespace" && !swapped.is_string());
      if (must_fail) {
        EXPECT_NE(ErrorAt(rb, p), nullptr) << c.label << ": " << p << " = " << swapped.dump() << "\n" << Listing(rb);
      }
    }
  }
  EXPECT_GT(checked, 500);
  std::cout << "typed leaves checked: " << checked << "\n";
}

TEST(Mutation, MissingRequiredFieldIsNamed) {
  ASSERT_FALSE(TheCorpus().empty()) << specs::MissingSpecsMessage();
  int checked = 0;
  for (const Case& c : TheCorpus()) {
    const Schema* schema = FindSchema(c.doc.group(), c.doc.version(), c.doc.kind);
    ASSERT_NE(schema, nullptr);
    std::vector<std::string> scalars, objects;
    Leaves(c.doc.object, "", &scalars, &objects);
    std::vector<std::string> required = {"/apiVersion", "/kind", "/metadata/name"};
    for (const std::string& p : objects) {
      if (Under(p, "/status")) continue;
      for (const std::string& r : schema->Lookup(c.doc.object, p).required) {
        std::string field = p + "/" + EscapePointerToken(r);
        if (c.doc.object.contains(json::json_pointer(field))) required.push_back(field);
      }
    }
    for (const std::string& field : required) {
      Document m = c.doc;
      json::json_pointer ptr(field);
      m.object.at(ptr.parent_pointer()).erase(ptr.back());
      Resource r = LoadMutant(m);
      const Diagnostic* e = ErrorAt(r, field);
      ASSERT_NE(e, nullptr) << c.label << ": without " << field << "\n" << Listing(r);
      EXPECT_EQ(e->message, "required field missing");
      ++checked;
    }
  }
  EXPECT_GT(checked, 150);
  std::cout << "required fields checked: " << checked << "\n";
}

// Text-level damage: every line of every sample dropped or doubled in turn.
// Each result parses or fails with a message naming the file and a line.
TEST(Mutation, DamagedTextNeverCrashes) {
  auto files = specs::SampleManifests();
  ASSERT_FALSE(files.empty()) << specs::MissingSpecsMessage();
  int failures = 0;
  for (const auto& path : files) {
    std::string text = specs::ReadFile(path);
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t nl = text.find('\n', start);
      lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
      for (int mode = 0; mode < 3; ++mode) {
        std::string mutated;
        for (std::size_t k = 0; k < lines.size(); ++k) {
          if (k == i && mode == 0) continue;  // drop the line
          mutated += lines[k] + "\n";
          if (k == i && mode == 1) mutated += lines[k] + "\n";         // double it
          if (k == i && mode == 2) mutated += "\t" + lines[k] + "\n";  // a tab: not YAML indentation
        }
        auto loaded = LoadManifests(mutated, "m.yaml");
        if (!loaded.ok()) {
          ++failures;
          EXPECT_TRUE(loaded.status().message().starts_with("m.yaml:")) << loaded.status().message();
          continue;
        }
        for (const Resource& r : *loaded) {
          for (const Diagnostic& d : r.errors) EXPECT_GT(d.position.line, 0) << d.ToString();
        }
      }
    }
  }
  EXPECT_GT(failures, 100) << "doubled keys and stray tabs must be caught";
  std::cout << "damaged texts rejected: " << failures << "\n";
}

}  // namespace
}  // namespace ofn::api

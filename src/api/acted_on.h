// Which fields Ofn acts on, per kind: the one list to update when Ofn learns
// to do something with another field.
//
// Everything a schema allows is kept in the store and exported unchanged;
// fields outside this list are reported once, as "kept, not acted on yet",
// so that no setting is silently without effect. Patterns are dotted paths:
// "[*]" is any list item, "[name=function]" the item whose name is
// "function", "*" any map key, and a pattern covers everything below it. The
// lists are constants: thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/diagnostic.h"
#include "api/manifest.h"

namespace ofn::api {

// The patterns for one kind (empty for kinds Ofn only stores so far).
const std::vector<std::string>& ActedOnPatterns(std::string_view group, std::string_view kind);

// Whether Ofn acts on the field at `pointer` of doc.object.
bool IsActedOn(const Document& doc, std::string_view pointer);

// Appends a "kept, not acted on yet" note for each top-most field under
// metadata and spec that no pattern covers; fields at or below a pointer in
// `skip` (e.g. unknown fields, reported already) are left out.
void CollectNotActedOn(const Document& doc, const std::vector<std::string>& skip, std::vector<Diagnostic>* out);

}  // namespace ofn::api

// Typed functions: the user names the request and response types; the
// framework decodes the body before the call (a body that does not decode gets
// 400 and the function is not called) and encodes the result.
//
// JSON is the default, through nlohmann::json's to_json/from_json. Another
// format: specialise ofn::Codec<T> with
//   static Result<T> Decode(std::string_view body);
//   static std::string Encode(const T& value);
//   static constexpr const char* kContentType = "...";
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "ofn/function.h"

namespace ofn {

template <typename T>
struct Codec {
  static constexpr const char* kContentType = "application/json";
  static Result<T> Decode(std::string_view body) {
    try {
      return nlohmann::json::parse(body).template get<T>();
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("request body does not decode: ") + e.what());
    }
  }
  static std::string Encode(const T& value) { return nlohmann::json(value).dump(); }
};

template <typename Req, typename Resp, typename ReqCodec = Codec<Req>, typename RespCodec = Codec<Resp>>
Function TypedFunction(std::string name, std::function<Resp(const Req&)> fn) {
  return HttpFunction(std::move(name), [fn = std::move(fn)](const HttpRequest& req) {
    Result<Req> in = ReqCodec::Decode(req.body());
    if (!in.ok()) return HttpResponse(400, in.status().message() + "\n");
    Resp out = fn(*in);
    return HttpResponse(200, RespCodec::Encode(out), RespCodec::kContentType);
  });
}

}  // namespace ofn

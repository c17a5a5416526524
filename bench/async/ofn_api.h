// The few calls of Ofn's control API the benchmark driver makes (apply a
// manifest, delete or look up an object), over plain HTTP/1.1 with the
// server's token. Not thread-safe; one request at a time.
#pragma once

#include <string>

namespace bench {

class OfnApi {
 public:
  OfnApi(int port, std::string token) : port_(port), token_(std::move(token)) {}
  // The HTTP status (-1: no answer); `body` gets the answer's body.
  int Apply(const std::string& manifest, std::string* body = nullptr);
  int Delete(const std::string& kind, const std::string& name);
  int Get(const std::string& kind, const std::string& name);
  // The value of the first sample of `metric` whose labels contain
  // `label` (e.g. name="sink-redis"); -1 when there is none.
  double Metric(const std::string& metric, const std::string& label);

 private:
  int Exchange(const std::string& method, const std::string& path, const std::string& body, std::string* answer);

  int port_;
  std::string token_;
};

}  // namespace bench

// Table: kubectl's column layout for `ofn get`. Upper-case headers, each
// column as wide as its widest cell plus three spaces (at least six), the last
// column unpadded — what kubectl's tabwriter settings produce.
//
// A value type; not thread-safe to mutate concurrently.
#pragma once

#include <string>
#include <vector>

namespace ofn::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  // Missing cells print empty; extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace ofn::cli

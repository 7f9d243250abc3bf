// Keeps secrets (the API key) out of log output: every occurrence of a secret in a formatted
// line is replaced by ********, whether it appears raw (in a message) or JSON-escaped (inside a
// context string, where " and \ and control characters are escaped). Immutable after
// construction, so one redactor is safely shared by every logging thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace synccore::log {

class redactor {
 public:
  // What a secret is replaced with.
  static constexpr std::string_view mask = "********";

  // Empty strings in `secrets` are ignored (there is nothing to hide).
  explicit redactor(const std::vector<std::string>& secrets = {});

  // Returns `line` with every secret replaced by `mask`. Where secrets overlap at one position
  // the longest is replaced. A line without secrets is returned unchanged.
  std::string apply(std::string_view line) const;

  // True when there is nothing to redact.
  bool empty() const noexcept { return patterns_.empty(); }

 private:
  std::vector<std::string> patterns_;  // non-empty, unique, longest first
};

}  // namespace synccore::log

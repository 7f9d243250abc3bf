#include <synccore/log/redactor.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace synccore::log {

redactor::redactor(const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    patterns_.push_back(secret);
    // The form the secret takes inside a JSON string (context values), without the quotes;
    // it is also how format_log_line writes line breaks in messages.
    std::string escaped = boost::json::serialize(boost::json::string_view(secret));
    escaped = escaped.substr(1, escaped.size() - 2);
    if (escaped != secret) patterns_.push_back(std::move(escaped));
  }
  std::sort(patterns_.begin(), patterns_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  patterns_.erase(std::unique(patterns_.begin(), patterns_.end()), patterns_.end());
}

std::string redactor::apply(std::string_view line) const {
  if (patterns_.empty()) return std::string(line);
  std::string out;
  out.reserve(line.size());
  std::size_t i = 0;
  while (i < line.size()) {
    bool matched = false;
    for (const auto& pattern : patterns_) {  // longest first
      if (line.compare(i, pattern.size(), pattern) == 0) {
        out += mask;
        i += pattern.size();
        matched = true;
        break;
      }
    }
    if (!matched) out += line[i++];
  }
  return out;
}

}  // namespace synccore::log

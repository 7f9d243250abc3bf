#include <synccore/config/environment.hpp>

#include <string_view>

namespace synccore::config {

env_map snapshot_environment(const char* const* envp) {
  env_map out;
  if (envp == nullptr) return out;
  for (; *envp != nullptr; ++envp) {
    const std::string_view entry(*envp);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

}  // namespace synccore::config

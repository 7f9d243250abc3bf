// backoff_delay: capped exponential backoff with multiplicative jitter.
#include <synccore/net/retry_policy.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace synccore::net {

std::chrono::milliseconds backoff_delay(const retry_policy& policy, int retry, double unit_random) {
  const double cap = static_cast<double>(std::max<std::int64_t>(0, policy.max_backoff.count()));
  const double initial =
      static_cast<double>(std::max<std::int64_t>(0, policy.initial_backoff.count()));
  const double growth = std::pow(std::max(1.0, policy.multiplier), std::max(0, retry - 1));
  const double base = std::min(cap, initial * growth);  // pow may overflow to inf: min caps it
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double factor = 1.0 - jitter + 2.0 * jitter * std::clamp(unit_random, 0.0, 1.0);
  const double delay = std::clamp(base * factor, 0.0, cap);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(delay)));
}

}  // namespace synccore::net

// When and how long the HTTP client waits before trying a failed request again: exponential
// backoff with jitter, bounded in attempts and in delay, so a dead master never causes an
// endless loop and many slaves coming back at once do not retry in lockstep.
#pragma once

#include <chrono>

namespace synccore::net {

struct retry_policy {
  // Tries of one request in total, the first included; 1 disables retries. Default: 4.
  int max_attempts = 4;
  // Delay before the first retry. Default: 1 s.
  std::chrono::milliseconds initial_backoff{1000};
  // Each further delay is the previous one times this. Default: 2.
  double multiplier = 2.0;
  // Upper bound of a delay (also applied to a server's Retry-After). Default: 30 s.
  std::chrono::milliseconds max_backoff{30000};
  // Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter], then capped by
  // max_backoff. 0 disables jitter. Default: 0.2.
  double jitter = 0.2;
};

// Returns the delay before retry number `retry` (1 = after the first failed attempt) given a
// uniform random value `unit_random` in [0, 1): min(initial * multiplier^(retry-1), max)
// scaled by the jitter factor, never negative, never above max_backoff.
// REQUIRES: retry >= 1.
std::chrono::milliseconds backoff_delay(const retry_policy& policy, int retry, double unit_random);

}  // namespace synccore::net

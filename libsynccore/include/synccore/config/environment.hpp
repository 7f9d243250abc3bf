// Name/value maps for configuration sources (a parsed .env file, a snapshot of the process
// environment, command-line flag values) and the one helper that reads the process environment.
// The configuration logic never reads global state itself: a binary takes a snapshot of
// `environ` once in main() and passes the map down, so tests control every input.
#pragma once

#include <map>
#include <string>

namespace synccore::config {

// Variable name -> value. Ordered so that output (status, docs, tests) is deterministic.
using env_map = std::map<std::string, std::string, std::less<>>;

// Copies a NULL-terminated "NAME=value" array (POSIX `environ`, or main's third argument) into a
// map. Entries without '=' are skipped; when a name appears twice the first one wins (as
// getenv(3) does). `envp` may be null (returns an empty map). Reads only its argument.
env_map snapshot_environment(const char* const* envp);

}  // namespace synccore::config

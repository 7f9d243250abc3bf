// How the HTTP server and client report events (a handler that threw, a slow client cut off, a
// retry) without depending on the logging module: the caller passes a callback that forwards
// to its logger. An empty callback discards the messages.
#pragma once

#include <functional>
#include <string_view>

namespace synccore::net {

enum class log_level { debug, info, warning, error };

// Called from I/O and worker threads, possibly concurrently: the callee must be thread-safe.
// Messages are one line, never contain secrets (no header values, no bodies).
using log_sink = std::function<void(log_level level, std::string_view message)>;

}  // namespace synccore::net

// Turning a low-level transfer failure (phase + error code) into the client_error the agent
// sees, with a one-line message naming the server. Internal.
#pragma once

#include <synccore/net/http_client.hpp>

#include "client_connection.hpp"

namespace synccore::net::detail {

// Returns the classified error for `failure` against `url` (attempts left at 0).
client_error classify_failure(const transfer_failure& failure, const base_url& url,
                              const client_options& options);

// True when `failure`, on a connection reused from an earlier request, means the server had
// closed it while idle (nothing of a response arrived): resending on a new connection is safe.
bool is_stale_connection(const transfer_failure& failure);

}  // namespace synccore::net::detail

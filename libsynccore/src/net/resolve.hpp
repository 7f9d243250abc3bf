// Host name resolution with a real deadline. getaddrinfo cannot be cancelled (Asio's resolver
// only reports the cancellation once the lookup returns), so a lookup that outlives its deadline
// is left to finish on a detached helper thread while the caller gets a timeout. Internal.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace synccore::net::detail {

struct resolve_result {
  boost::system::error_code ec;  // beast::error::timeout when the deadline passed
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
};

// Returns the addresses of `host` (an IP literal is returned as is, without a lookup).
// Throws std::system_error only if no helper thread can be started.
resolve_result resolve_with_deadline(const std::string& host, std::uint16_t port,
                                     std::chrono::steady_clock::time_point deadline);

}  // namespace synccore::net::detail

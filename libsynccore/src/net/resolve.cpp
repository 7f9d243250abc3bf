// resolve_with_deadline: a blocking lookup on a helper thread, awaited with a timeout.
#include "resolve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace synccore::net::detail {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Shared by the caller and the helper thread; whoever leaves last frees it.
struct lookup_state {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  resolve_result result;
};

}  // namespace

resolve_result resolve_with_deadline(const std::string& host, std::uint16_t port,
                                     std::chrono::steady_clock::time_point deadline) {
  boost::system::error_code literal_ec;
  const asio::ip::address literal = asio::ip::make_address(host, literal_ec);
  if (!literal_ec) return resolve_result{{}, {tcp::endpoint(literal, port)}};

  auto state = std::make_shared<lookup_state>();
  std::thread([state, host, port] {
    resolve_result r;
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    const auto results =
        resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, r.ec);
    if (!r.ec) {
      for (const auto& entry : results) r.endpoints.push_back(entry.endpoint());
    }
    const std::lock_guard lock(state->mutex);
    state->result = std::move(r);
    state->done = true;
    state->done_cv.notify_all();
  }).detach();

  std::unique_lock lock(state->mutex);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; })) {
    return resolve_result{boost::beast::error::timeout, {}};
  }
  return std::move(state->result);
}

}  // namespace synccore::net::detail

// session_registry and server_context::log.
#include "server_context.hpp"

namespace synccore::net::detail {

void session_registry::add(const std::shared_ptr<session_handle>& session) {
  const std::lock_guard lock(mutex_);
  sessions_.emplace(session.get(), session);
}

void session_registry::remove(const session_handle* session) {
  const std::lock_guard lock(mutex_);
  sessions_.erase(session);
  if (sessions_.empty()) emptied_.notify_all();
}

std::vector<std::shared_ptr<session_handle>> session_registry::snapshot() const {
  std::vector<std::shared_ptr<session_handle>> alive;
  const std::lock_guard lock(mutex_);
  alive.reserve(sessions_.size());
  for (const auto& [key, weak] : sessions_) {
    if (auto session = weak.lock()) alive.push_back(std::move(session));
  }
  return alive;
}

std::size_t session_registry::size() const {
  const std::lock_guard lock(mutex_);
  return sessions_.size();
}

bool session_registry::wait_empty_until(std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mutex_);
  return emptied_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
}

void server_context::log(log_level level, std::string_view message) const noexcept {
  if (!options.log) return;
  try {
    options.log(level, message);
  } catch (...) {  // a failing logger must not take a connection or the server down
  }
}

}  // namespace synccore::net::detail

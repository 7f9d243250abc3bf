#include "connection_pool.hpp"

namespace master {

connection_pool::connection_pool(const std::filesystem::path& path, std::size_t size,
                                 synccore::db::wal_checkpointer& checkpointer) {
  for (std::size_t i = 0; i < std::max<std::size_t>(size, 1); ++i) {
    free_.push_back(std::make_unique<synccore::db::connection>(path));
    checkpointer.attach(*free_.back());
  }
}

connection_pool::lease::~lease() {
  if (pool_ && conn_) pool_->give_back(std::move(conn_));
}

connection_pool::lease connection_pool::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !free_.empty(); });
  auto conn = std::move(free_.back());
  free_.pop_back();
  return lease(*this, std::move(conn));
}

void connection_pool::give_back(std::unique_ptr<synccore::db::connection> conn) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(conn));
  }
  available_.notify_one();
}

}  // namespace master

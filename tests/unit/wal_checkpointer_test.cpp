#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/db/wal_checkpointer.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "temp_dir.hpp"

using namespace synccore::db;
using namespace std::chrono_literals;

namespace {

// One transaction writing `rows` rows of 2 KiB each: about rows / 2 new pages in the WAL.
void write_rows(connection& conn, int rows) {
  transaction tx(conn);
  auto st = conn.prepare("INSERT INTO blobs (body) VALUES (zeroblob(2048))");
  for (int i = 0; i < rows; ++i) {
    st.run();
    st.reset();
  }
  tx.commit();
}

// Pages of the database file itself: a page reaches it only through a checkpoint.
std::uintmax_t file_pages(const std::filesystem::path& db) {
  return std::filesystem::file_size(db) / 4096;
}

bool waits_for(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A fresh database with one table, a checkpointer with `policy` and a writer attached to it
// (declared in this order, so the writer closes before the checkpointer stops).
struct attached_writer {
  explicit attached_writer(checkpoint_policy policy) : checkpointer(path, policy), writer(path) {
    checkpointer.attach(writer);
  }
  static std::uintmax_t create(const std::filesystem::path& db) {
    connection(db).execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)");
    return file_pages(db);
  }
  ruxx_test::temp_dir dir;
  std::filesystem::path path = dir / "wal.sqlite";
  std::uintmax_t pages_before = create(path);
  wal_checkpointer checkpointer;
  connection writer;
};

}  // namespace

TEST_CASE("wal_checkpointer: commits do not checkpoint; the thread does once they go quiet",
          "[db][checkpoint]") {
  attached_writer db({.idle = 1500ms, .soon_pages = 100000, .backstop_pages = 100000});
  // 3000 rows: 1500 pages, past SQLite's own autocheckpoint threshold (1000), which would
  // have copied them into the file inside this commit.
  write_rows(db.writer, 3000);
  CHECK(file_pages(db.path) == db.pages_before);
  CHECK(db.checkpointer.background_checkpoints() == 0);
  // A commit within `idle` of the last one moves the checkpoint on again.
  std::this_thread::sleep_for(800ms);
  write_rows(db.writer, 10);
  std::this_thread::sleep_for(900ms);  // 1.7 s after the first commit, 0.9 s after the last
  CHECK(db.checkpointer.background_checkpoints() == 0);
  REQUIRE(waits_for([&] { return db.checkpointer.background_checkpoints() == 1; }, 10s));
  CHECK(file_pages(db.path) >= db.pages_before + 1500);
  // Everything the writer committed is in the file and readable.
  auto count = db.writer.prepare("SELECT count(*) FROM blobs");
  REQUIRE(count.step());
  CHECK(count.column_int64(0) == 3010);
}

TEST_CASE("wal_checkpointer: a long WAL is checkpointed at once, in the background",
          "[db][checkpoint]") {
  // An idle time no test waits for: only the page count can start this checkpoint.
  attached_writer db({.idle = 1h, .soon_pages = 500, .backstop_pages = 100000});
  write_rows(db.writer, 200);  // 100 pages: not yet
  std::this_thread::sleep_for(100ms);
  CHECK(db.checkpointer.background_checkpoints() == 0);
  write_rows(db.writer, 1000);  // 600 pages now
  REQUIRE(waits_for([&] { return db.checkpointer.background_checkpoints() == 1; }, 10s));
  CHECK(file_pages(db.path) >= db.pages_before + 600);
}

TEST_CASE("wal_checkpointer: past the backstop the commit checkpoints itself",
          "[db][checkpoint]") {
  attached_writer db({.idle = 1h, .soon_pages = 100000, .backstop_pages = 400});
  write_rows(db.writer, 1000);  // 500 pages: past the backstop when this commit returns
  CHECK(file_pages(db.path) >= db.pages_before + 500);
  CHECK(db.checkpointer.background_checkpoints() == 0);
}

TEST_CASE("wal_checkpointer: stops at once with nothing to do and with work pending",
          "[db][checkpoint]") {
  const auto started = std::chrono::steady_clock::now();
  {
    ruxx_test::temp_dir dir;
    wal_checkpointer idle_one(dir / "wal.sqlite", {.idle = 1h});
  }
  {
    attached_writer pending({.idle = 1h});
    write_rows(pending.writer, 10);
  }
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

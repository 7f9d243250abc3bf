#include <synccore/db/connection.hpp>
#include <synccore/db/schema_watch.hpp>
#include <synccore/db/statement.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "temp_dir.hpp"

using namespace synccore::db;
using namespace std::chrono_literals;

namespace {

// Waits up to 10 s for `count` to reach `want`; returns whether it did.
bool reaches(const std::atomic<int>& count, int want) {
  for (int i = 0; i < 1000 && count.load() < want; ++i) std::this_thread::sleep_for(10ms);
  return count.load() >= want;
}

}  // namespace

TEST_CASE("schema_watch calls back at its first look and after each schema change only",
          "[db][watch]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "w.sqlite";
  connection app(path);
  app.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  std::atomic<int> calls{0};
  schema_watch watch(path, 20ms, "test", [&](connection& conn) {
    ++calls;
    // What the callback changes itself does not call it again.
    conn.execute("CREATE TABLE IF NOT EXISTS from_callback (x)");
  });
  REQUIRE(reaches(calls, 1));
  std::this_thread::sleep_for(150ms);
  CHECK(calls.load() == 1);  // data writes are no schema change
  app.execute("INSERT INTO t DEFAULT VALUES");
  std::this_thread::sleep_for(150ms);
  CHECK(calls.load() == 1);
  app.execute("CREATE TABLE u (id INTEGER PRIMARY KEY)");  // a migration
  REQUIRE(reaches(calls, 2));
  std::this_thread::sleep_for(150ms);
  CHECK(calls.load() == 2);
}

TEST_CASE("schema_watch never creates the file nor turns an empty one into a database",
          "[db][watch]") {
  ruxx_test::temp_dir dir;
  const auto missing = dir / "missing.sqlite";
  const auto empty = dir / "empty.sqlite";
  std::ofstream(empty).close();
  std::atomic<int> calls{0};
  {
    schema_watch on_missing(missing, 20ms, "test", [&](connection&) { ++calls; });
    schema_watch on_empty(empty, 20ms, "test", [&](connection&) { ++calls; });
    REQUIRE(reaches(calls, 1));  // the empty file is looked at (schema version 0)
    std::this_thread::sleep_for(150ms);
  }
  CHECK_FALSE(std::filesystem::exists(missing));
  CHECK(std::filesystem::file_size(empty) == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "empty.sqlite-wal"));
  CHECK(calls.load() == 1);
}

// sync::v1_row_stream, the master's version 1 pull: chunks joined are the answer of one read,
// whatever the chunk size; each chunk may run on another connection; rows committed between
// chunks are sent once at most, never twice; `since` filters by instant.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/pull_reader.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "sync_nodes.hpp"
#include "temp_dir.hpp"

namespace json = boost::json;
using namespace synccore;

namespace {

void add_users(ruxx_test::node& n, int from, int to, const char* updated_at) {
  auto st = n.conn.prepare(
      "INSERT INTO users (id, name, email, password, created_at, updated_at) "
      "VALUES (?, ?, ?, 'h', '2026-11-01 08:00:00', ?)");
  for (int id = from; id <= to; ++id) {
    st.reset();
    st.bind(1, static_cast<std::int64_t>(id))
        .bind(2, "User \"" + std::to_string(id) + "\" \u00e9")
        .bind(3, "u" + std::to_string(id) + "@x")
        .bind(4, std::string_view(updated_at));
    st.run();
  }
}

// Runs the stream to its end in chunks of `target` bytes, calling `between` after each chunk,
// and returns the rows of `[` + text + `]`.
template <class Between>
json::array read_all(db::connection& conn, sync::v1_row_stream& stream, std::size_t target,
                     Between between, std::size_t* chunks = nullptr) {
  std::string text = "[";
  std::size_t n = 0;
  while (stream.next_chunk(conn, text, target)) {
    ++n;
    between();
  }
  if (chunks) *chunks = n + 1;
  text += "]";
  return json::parse(text).as_array();
}

}  // namespace

TEST_CASE("v1 pull chunks join into the answer of one read, on any connection", "[pull][v1]") {
  ruxx_test::temp_dir dir;
  ruxx_test::node master(dir / "m.sqlite", sync::node_role::master);
  add_users(master, 1, 300, "2026-11-02 08:00:00");
  const auto& users = *tables::find_table("users");
  const std::vector<std::string_view> omit;

  sync::v1_row_stream whole(users, ruxx_test::lagos(), std::nullopt, omit);
  std::size_t whole_chunks = 0;
  const json::array expected = read_all(master.conn, whole, 1 << 30, [] {}, &whole_chunks);
  CHECK(whole_chunks == 1);
  REQUIRE(expected.size() == 300);
  CHECK(expected.front().at("name") == "User \"1\" \u00e9");
  CHECK(expected.back().at("id") == 300);

  db::connection other(dir / "m.sqlite");
  for (const std::size_t target : {std::size_t{1}, std::size_t{100}, std::size_t{5000}}) {
    sync::v1_row_stream chunked(users, ruxx_test::lagos(), std::nullopt, omit);
    std::size_t chunks = 0;
    bool use_other = false;
    std::string text = "[";
    while (chunked.next_chunk(use_other ? other : master.conn, text, target)) {
      use_other = !use_other;
      ++chunks;
    }
    text += "]";
    CHECK(json::parse(text).as_array() == expected);
    CHECK(chunked.count() == 300);
    if (target == 1) CHECK(chunks == 300);  // one row per call; the last call finds the end
    CHECK_FALSE(chunked.next_chunk(master.conn, text, target));  // done stays done
  }
}

TEST_CASE("v1 pull: rows written between chunks are never sent twice", "[pull][v1]") {
  ruxx_test::temp_dir dir;
  ruxx_test::node master(dir / "m.sqlite", sync::node_role::master);
  add_users(master, 1, 100, "2026-11-02 08:00:00");
  const auto& users = *tables::find_table("users");
  const std::vector<std::string_view> omit;
  sync::v1_row_stream stream(users, ruxx_test::lagos(), std::nullopt, omit);
  int round = 0;
  const json::array rows = read_all(master.conn, stream, 2000, [&] {
    ++round;
    // Rows already sent change, a row still ahead changes, a new row arrives at the end.
    master.conn.execute("UPDATE users SET name = 'changed " + std::to_string(round) +
                        "' WHERE id IN (1, 2, 99)");
    master.conn.execute("INSERT INTO users (id, name, email, password) VALUES (" +
                        std::to_string(1000 + round) + ", 'late', 'late" +
                        std::to_string(round) + "@x', 'h')");
  });
  REQUIRE(round > 3);
  std::map<std::int64_t, int> seen;
  for (const auto& row : rows) ++seen[row.at("id").as_int64()];
  for (const auto& [id, times] : seen) CHECK(times == 1);
  CHECK(seen.size() == 100 + static_cast<std::size_t>(round));  // every late row too
  // Row 99 was still ahead when it first changed: it goes out changed (the walk reads each
  // chunk afresh), while the pull started before the change.
  for (const auto& row : rows) {
    if (row.at("id") == 99) {
      CHECK(json::value_to<std::string>(row.at("name")).rfind("changed ", 0) == 0);
    }
  }
}

TEST_CASE("v1 pull with since sends the rows changed at or after that instant", "[pull][v1]") {
  ruxx_test::temp_dir dir;
  ruxx_test::node master(dir / "m.sqlite", sync::node_role::master);
  add_users(master, 1, 50, "2026-11-02 08:00:00");
  add_users(master, 51, 80, "2026-11-03 09:30:00");
  add_users(master, 81, 90, "2026-11-02 08:00:00");
  const auto& users = *tables::find_table("users");
  const std::vector<std::string_view> omit{"password"};
  sync::v1_row_stream stream(users, ruxx_test::lagos(), std::string("2026-11-03 09:30:00"), omit);
  const json::array rows = read_all(master.conn, stream, 300, [] {});
  REQUIRE(rows.size() == 30);
  CHECK(rows.front().at("id") == 51);
  CHECK(rows.back().at("id") == 80);
  CHECK(rows.front().as_object().if_contains("password") == nullptr);
  CHECK(rows.front().at("updated_at") == "2026-11-03T08:30:00.000000Z");
}

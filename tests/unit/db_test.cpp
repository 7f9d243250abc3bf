#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <fstream>

#include "temp_dir.hpp"

using namespace synccore::db;

namespace {
long long count_rows(connection& c, const char* table) {
  auto st = c.prepare(std::string("SELECT count(*) FROM ") + table);
  st.step();
  return st.column_int64(0);
}
}  // namespace

TEST_CASE("connection opens with WAL, foreign keys, a busy timeout and temp data in memory",
          "[db]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  auto mode = c.prepare("PRAGMA journal_mode");
  REQUIRE(mode.step());
  CHECK(mode.column_text(0) == "wal");
  auto fk = c.prepare("PRAGMA foreign_keys");
  REQUIRE(fk.step());
  CHECK(fk.column_int64(0) == 1);
  auto bt = c.prepare("PRAGMA busy_timeout");
  REQUIRE(bt.step());
  CHECK(bt.column_int64(0) == 10000);
  auto temp = c.prepare("PRAGMA temp_store");
  REQUIRE(temp.step());
  CHECK(temp.column_int64(0) == 2);  // MEMORY: statement journals never spill to files
  auto map = c.prepare("PRAGMA mmap_size");
  REQUIRE(map.step());
  CHECK(map.column_int64(0) == 0);  // reads go through SQLite's page cache, never a map (SIGBUS)
}

TEST_CASE("errors carry SQLite's extended code and message", "[db]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  c.execute("CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE k(id INTEGER PRIMARY KEY, "
            "p_id INTEGER NOT NULL REFERENCES p(id), u TEXT UNIQUE)");
  c.execute("INSERT INTO p(id) VALUES (1); INSERT INTO k(id, p_id, u) VALUES (1, 1, 'x')");
  try {
    c.execute("INSERT INTO k(p_id, u) VALUES (1, 'x')");
    FAIL("expected a constraint error");
  } catch (const sqlite_error& e) {
    CHECK(e.extended_code() == SQLITE_CONSTRAINT_UNIQUE);
    CHECK(e.is_constraint());
    CHECK(std::string(e.what()).find("UNIQUE constraint failed") != std::string::npos);
  }
  auto st = c.prepare("INSERT INTO k(p_id, u) VALUES (?, ?)");
  st.bind(1, 42).bind(2, "y");
  try {
    st.run();
    FAIL("expected a foreign key error");
  } catch (const sqlite_error& e) {
    CHECK(e.extended_code() == SQLITE_CONSTRAINT_FOREIGNKEY);
  }
  CHECK_THROWS_AS(c.prepare("SELEC nonsense"), sqlite_error);
}

TEST_CASE("a file that is not a database is refused at open with a corrupt code", "[db]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "garbage.sqlite";
  std::ofstream(path) << std::string(8192, 'x');
  try {
    connection c(path);
    FAIL("expected open to fail");
  } catch (const sqlite_error& e) {
    CHECK(e.is_corrupt());
  }
}

TEST_CASE("transaction rolls back unless committed", "[db]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  c.execute("CREATE TABLE t(v INTEGER)");
  {
    transaction tx(c);
    c.execute("INSERT INTO t VALUES (1)");
  }
  CHECK(count_rows(c, "t") == 0);
  CHECK_FALSE(c.in_transaction());
  try {
    transaction tx(c);
    c.execute("INSERT INTO t VALUES (1)");
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  CHECK(count_rows(c, "t") == 0);
  {
    transaction tx(c);
    c.execute("INSERT INTO t VALUES (2)");
    tx.commit();
  }
  CHECK(count_rows(c, "t") == 1);
}

TEST_CASE("statement binds and reads every storage class", "[db]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  c.execute("CREATE TABLE t(i, r, s, b, n)");
  auto ins = c.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)");
  ins.bind(1, std::int64_t{9007199254740993}).bind(2, 12.5).bind(3, "Chiké ₦").bind_blob(4, "\x01\x02").bind_null(5);
  ins.run();
  auto sel = c.prepare("SELECT i, r, s, b, n FROM t");
  REQUIRE(sel.step());
  CHECK(sel.column_type(0) == value_type::integer);
  CHECK(sel.column_int64(0) == 9007199254740993);
  CHECK(sel.column_double(1) == 12.5);
  CHECK(sel.column_text(2) == "Chiké ₦");
  CHECK(sel.column_blob(3).size() == 2);
  CHECK(sel.is_null(4));
  CHECK_FALSE(sel.column_optional_string(4).has_value());
  CHECK_FALSE(sel.step());
}

TEST_CASE("a reusable statement is compiled once and never shared while held", "[db]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  c.execute("CREATE TABLE t(x)");
  const std::string insert = "INSERT INTO t VALUES (?)";
  const statement* first = nullptr;
  {
    auto st = c.reusable(insert);
    first = st.get();
    st->bind(1, 7);
    // Held: asking again gets a statement of its own, so neither resets the other mid-use.
    auto other = c.reusable(insert);
    CHECK(other.get() != first);
    other->bind(1, 8);
    other->run();
    st->run();
  }
  {
    // Released: the same compiled statement comes back, reset and with no bindings left.
    auto again = c.reusable(insert);
    CHECK(again.get() == first);
    again->run();  // binds nothing: NULL
  }
  auto sel = c.prepare("SELECT group_concat(ifnull(x, 'null'), ',') FROM t");
  REQUIRE(sel.step());
  CHECK(sel.column_string(0) == "8,7,null");
  // Past the limit the connection forgets its statements; a holder's stays valid.
  auto held = c.reusable(insert);
  for (std::size_t i = 0; i < connection::reusable_statement_limit; ++i) {
    c.reusable("SELECT " + std::to_string(i));
  }
  held->bind(1, 9);
  held->run();
  CHECK(c.reusable(insert).get() != held.get());
}

TEST_CASE("a second writer waits for the first instead of failing", "[db]") {
  ruxx_test::temp_dir dir;
  connection a(dir / "a.sqlite");
  a.execute("CREATE TABLE t(v INTEGER)");
  open_options quick;
  quick.busy_timeout = std::chrono::milliseconds(50);
  connection b(dir / "a.sqlite", quick);
  transaction hold(a);
  a.execute("INSERT INTO t VALUES (1)");
  try {
    transaction tx(b);
    FAIL("expected busy");
  } catch (const sqlite_error& e) {
    CHECK(e.is_busy());
  }
  // Readers are never blocked by the writer (WAL).
  CHECK(count_rows(b, "t") == 0);
}

TEST_CASE("quote_identifier doubles inner quotes", "[db]") {
  CHECK(quote_identifier("users") == "\"users\"");
  CHECK(quote_identifier("a\"b") == "\"a\"\"b\"");
}

// ruxx_bench_db: the database side of the benchmarks in docs/PERFORMANCE.md.
//
//   ruxx_bench_db seed DB [--users N] [--transactions N] [--inventory N]
//       Creates the app tables (the embedded Laravel schema) when missing and inserts
//       deterministic rows with one prepared INSERT per table in one transaction: N users
//       (cashiers), N transactions (TXN-YYYYMMDD-XXXXXX numbers, 1000 a day from 2023-01-01,
//       a pseudo-random suffix, cashier_id pointing at the users), N inventory rows and one
//       company_settings row.
//   ruxx_bench_db bare-insert SRC DST [--commit-every N] [--cache-kib N]
//       The floor for a slave's full recovery: creates DST from the same schema (app and
//       bookkeeping tables, as the recovery does) and copies every row of the synced tables of
//       SRC into it with one prepared INSERT per table in one transaction, through the same
//       synccore connection settings (WAL, foreign keys on, SQLite's default page cache).
//       Prints the seconds spent. Variants for comparison: --commit-every N commits after every
//       N rows (0, the default: one transaction); --cache-kib N sets PRAGMA cache_size to N KiB.
//   ruxx_bench_db upgrade DB --role master|slave
//       Brings a cached seed to this build's bookkeeping schema and capture triggers, as the
//       binaries do when they start, so that no measured run pays a one-time migration.
//   ruxx_bench_db sync-spread FILE [--pages N] [--rounds N]
//       What the disk charges for where a checkpoint's pages lie: rewrites N 4 KiB pages of
//       FILE with their own bytes (the content never changes) and times the fdatasync, once
//       with the pages spread evenly over the whole file (as 100 edits scattered over a 1M-row
//       table) and once with the same number of pages packed into the file's first 5N pages
//       (as the same edits in a 10k-row table), alternated for --rounds rounds (default 9),
//       each round on other pages. Prints the median milliseconds of each.
//
// Output: one line of key=value pairs on stdout (rows=..., seconds=...). Exit 0 on success,
// 2 on bad usage, 1 on a database error.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/sync/change_capture.hpp>

#include <sqlite3.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <algorithm>
#include <utility>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using synccore::db::connection;
using synccore::db::statement;

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::int64_t parse_count(std::string_view text, std::string_view flag) {
  std::int64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size() || value < 0) {
    throw usage_error(std::string(flag) + " needs a count, got \"" + std::string(text) + "\"");
  }
  return value;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "YYYY-MM-DD" of 2023-01-01 plus `days`.
std::string date_text(std::int64_t days) {
  using namespace std::chrono;
  const year_month_day d{sys_days{year{2023} / January / 1} + std::chrono::days{days}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

std::string time_text(std::int64_t second_of_day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld",
                static_cast<long long>(second_of_day / 3600),
                static_cast<long long>(second_of_day / 60 % 60),
                static_cast<long long>(second_of_day % 60));
  return buf;
}

// Six characters of [0-9A-Z], unique for distinct `slot` values of one day: multiplication by a
// number coprime with 36^6 is a bijection modulo 36^6.
std::string suffix_text(std::int64_t slot, std::int64_t day) {
  constexpr std::int64_t space = 2176782336;  // 36^6
  std::int64_t v = (slot * 1000003 + day * 7919) % space;
  static constexpr char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out(6, '0');
  for (int i = 5; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = digits[v % 36];
    v /= 36;
  }
  return out;
}

double round2(double v) {
  return static_cast<double>(static_cast<std::int64_t>(v * 100 + 0.5)) / 100;
}

void seed(const fs::path& path, std::int64_t users, std::int64_t transactions,
          std::int64_t inventory) {
  const auto start = std::chrono::steady_clock::now();
  connection conn(path);
  synccore::schema::ensure_app_tables(conn);
  synccore::db::transaction tx(conn);
  auto max_id = [&](const char* table) {
    auto st = conn.prepare(std::string("SELECT COALESCE(MAX(id), 0) FROM ") + table);
    st.step();
    return st.column_int64(0);
  };
  const std::int64_t first_user = max_id("users") + 1;
  {
    auto st = conn.prepare(
        "INSERT INTO users (id, name, email, email_verified_at, password, role, is_active, "
        "remember_token, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?, 1, NULL, "
        "'2023-01-01 08:00:00', '2023-01-01 08:00:00')");
    for (std::int64_t id = first_user; id < first_user + users; ++id) {
      st.reset();
      st.bind(1, id)
          .bind(2, "Cashier " + std::to_string(id))
          .bind(3, "cashier" + std::to_string(id) + "@depot.example")
          .bind(4, "$2y$10$abcdefghijklmnopqrstuv" + std::string(31, 'x'))
          .bind(5, id == 1 ? "admin" : "cashier");
      st.run();
    }
  }
  const std::int64_t user_count = max_id("users");
  if (transactions > 0 && user_count == 0) throw usage_error("transactions need --users >= 1");
  const std::int64_t first_txn = max_id("transactions") + 1;
  {
    auto st = conn.prepare(
        "INSERT INTO transactions (id, transaction_number, cashier_id, quantity_kg, "
        "price_per_kg, total_amount, customer_name, customer_phone, notes, status, created_at, "
        "updated_at, payment_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    static constexpr std::array<const char*, 3> payment{"cash", "card", "transfer"};
    for (std::int64_t id = first_txn; id < first_txn + transactions; ++id) {
      const std::int64_t day = (id - 1) / 1000;
      const std::int64_t slot = (id - 1) % 1000;
      const std::string day_text = date_text(day);
      const std::string compact =
          day_text.substr(0, 4) + day_text.substr(5, 2) + day_text.substr(8, 2);
      const double qty = 1.0 + static_cast<double>(id % 5000) / 100.0;
      const double price = 850.0 + static_cast<double>(id % 3) * 0.25;
      const std::string at = day_text + " " + time_text(6 * 3600 + slot * 50);
      st.reset();
      st.bind(1, id)
          .bind(2, "TXN-" + compact + "-" + suffix_text(slot, day))
          .bind(3, 1 + (id * 7) % user_count)
          .bind(4, qty)
          .bind(5, price)
          .bind(6, round2(qty * price));
      if (id % 4 == 0) st.bind_null(7);
      else st.bind(7, "Customer " + std::to_string(id % 997));
      if (id % 3 == 0) st.bind_null(8);
      else st.bind(8, "+23480" + std::to_string(10000000 + id % 89999999));
      if (id % 10 == 0) st.bind(9, "POS/transfer, refill of a 12.5 kg cylinder");
      else st.bind_null(9);
      st.bind(10, id % 50 == 0 ? "refunded" : (id % 40 == 0 ? "cancelled" : "completed"))
          .bind(11, at)
          .bind(12, at)
          .bind(13, payment[static_cast<std::size_t>(id % 3)]);
      st.run();
    }
  }
  {
    const std::int64_t first_inv = max_id("inventory") + 1;
    auto st = conn.prepare(
        "INSERT INTO inventory (id, current_stock, minimum_stock, price_per_kg, notes, "
        "created_at, updated_at) VALUES (?, 12500.5, 100, 850, 'Main tank', "
        "'2023-01-01 08:00:00', '2023-01-01 08:00:00')");
    for (std::int64_t id = first_inv; id < first_inv + inventory; ++id) {
      st.reset();
      st.bind(1, id);
      st.run();
    }
  }
  if (max_id("company_settings") == 0) {
    conn.execute(
        "INSERT INTO company_settings (company_name, company_address, company_phone, "
        "created_at, updated_at) VALUES ('Ruxxen LPG Gas Plant', '1 Depot Road', "
        "'+2348000000000', '2023-01-01 08:00:00', '2023-01-01 08:00:00')");
  }
  tx.commit();
  std::cout << "users=" << users << " transactions=" << transactions
            << " inventory=" << inventory << " seconds=" << seconds_since(start) << "\n";
}

std::vector<std::string> columns_of(connection& conn, const std::string& table) {
  std::vector<std::string> out;
  auto st = conn.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid");
  st.bind(1, table);
  while (st.step()) out.push_back(st.column_string(0));
  return out;
}

void bare_insert(const fs::path& src_path, const fs::path& dst_path, std::int64_t commit_every,
                 std::int64_t cache_kib) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    fs::remove(dst_path.string() + suffix, ec);
  }
  const auto start = std::chrono::steady_clock::now();
  connection src(src_path, {.read_only = true});
  connection dst(dst_path);
  synccore::schema::ensure_app_tables(dst);
  synccore::schema::ensure_sync_tables(dst);
  if (cache_kib > 0) dst.execute("PRAGMA cache_size = -" + std::to_string(cache_kib));
  std::int64_t rows = 0;
  const auto insert_start = std::chrono::steady_clock::now();
  dst.execute("BEGIN");
  // Parents before children (foreign keys are on, as in the agent).
  for (const std::string table :
       {"users", "inventory", "transactions", "inventory_adjustments", "company_settings"}) {
    const auto columns = columns_of(dst, table);
    std::string names;
    std::string params;
    for (const auto& c : columns) {
      if (!names.empty()) {
        names += ", ";
        params += ", ";
      }
      names += synccore::db::quote_identifier(c);
      params += "?";
    }
    const std::string quoted = synccore::db::quote_identifier(table);
    auto select = src.prepare("SELECT " + names + " FROM " + quoted + " ORDER BY id");
    auto insert = dst.prepare("INSERT INTO " + quoted + " (" + names + ") VALUES (" + params + ")");
    const int n = static_cast<int>(columns.size());
    while (select.step()) {
      insert.reset();
      for (int i = 0; i < n; ++i) {
        sqlite3_bind_value(insert.handle(), i + 1, sqlite3_column_value(select.handle(), i));
      }
      insert.run();
      ++rows;
      if (commit_every > 0 && rows % commit_every == 0) dst.execute("COMMIT; BEGIN");
    }
  }
  dst.execute("COMMIT");
  const double insert_seconds = seconds_since(insert_start);
  std::cout << "rows=" << rows << " insert_seconds=" << insert_seconds
            << " seconds=" << seconds_since(start) << "\n";
}

void upgrade(const fs::path& path, synccore::sync::node_role role) {
  if (!fs::exists(path)) throw std::runtime_error("no database at " + path.string());
  synccore::db::connection conn(path);
  synccore::schema::ensure_app_tables(conn);
  synccore::schema::ensure_sync_tables(conn);
  synccore::sync::install_change_capture(conn, role);
  std::cout << "schema_version=" << synccore::schema::read_sync_schema_version(conn) << "\n";
}

// Rewrites the 4 KiB pages `pages` of `fd` with their own bytes, then times fdatasync (ms).
double rewrite_and_sync(int fd, const std::vector<std::int64_t>& pages) {
  std::array<char, 4096> page{};
  for (const auto p : pages) {
    if (pread(fd, page.data(), page.size(), p * 4096) != static_cast<ssize_t>(page.size()) ||
        pwrite(fd, page.data(), page.size(), p * 4096) != static_cast<ssize_t>(page.size())) {
      throw std::runtime_error("cannot rewrite page " + std::to_string(p));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  if (fdatasync(fd) != 0) throw std::runtime_error("fdatasync failed");
  return seconds_since(start) * 1000;
}

void sync_spread(const fs::path& path, std::int64_t pages, std::int64_t rounds) {
  const std::int64_t file_pages = static_cast<std::int64_t>(fs::file_size(path) / 4096);
  if (pages < 1 || file_pages < 5 * pages) {
    throw usage_error("sync-spread needs a file of at least 5 x --pages pages");
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string());
  std::vector<double> spread_ms;
  std::vector<double> packed_ms;
  try {
    for (std::int64_t round = 0; round < rounds; ++round) {
      std::vector<std::int64_t> spread;
      std::vector<std::int64_t> packed;
      for (std::int64_t i = 0; i < pages; ++i) {
        spread.push_back((i * file_pages) / pages + round % (file_pages / pages));
        packed.push_back(i * 5 + round % 5);
      }
      spread_ms.push_back(rewrite_and_sync(fd, spread));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      packed_ms.push_back(rewrite_and_sync(fd, packed));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::cout << "file_pages=" << file_pages << " pages=" << pages << " rounds=" << rounds
            << " spread_ms=" << median(spread_ms) << " packed_ms=" << median(packed_ms) << "\n";
}

// Reads "--name COUNT" pairs from args[first...] into the counts named in `targets`.
void parse_counts(const std::vector<std::string_view>& args, std::size_t first,
                  std::initializer_list<std::pair<std::string_view, std::int64_t*>> targets) {
  for (std::size_t i = first; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) throw usage_error(std::string(args[i]) + " needs a value");
    const auto target = std::find_if(targets.begin(), targets.end(),
                                     [&](const auto& t) { return t.first == args[i]; });
    if (target == targets.end()) throw usage_error("unknown option " + std::string(args[i]));
    *target->second = parse_count(args[i + 1], args[i]);
  }
}

int run(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) throw usage_error(
        "usage: ruxx_bench_db seed DB [...] | bare-insert SRC DST | upgrade DB | sync-spread FILE");
  const auto command = args[0];
  if (command == "seed") {
    if (args.size() < 2) throw usage_error("seed needs a database path");
    std::int64_t users = 20;
    std::int64_t transactions = 0;
    std::int64_t inventory = 1;
    parse_counts(args, 2, {{"--users", &users},
                           {"--transactions", &transactions},
                           {"--inventory", &inventory}});
    seed(fs::path(std::string(args[1])), users, transactions, inventory);
    return 0;
  }
  if (command == "bare-insert") {
    if (args.size() < 3) throw usage_error("bare-insert needs SRC and DST");
    std::int64_t commit_every = 0;
    std::int64_t cache_kib = 0;
    parse_counts(args, 3, {{"--commit-every", &commit_every}, {"--cache-kib", &cache_kib}});
    bare_insert(fs::path(std::string(args[1])), fs::path(std::string(args[2])), commit_every,
                cache_kib);
    return 0;
  }
  if (command == "upgrade") {
    if (args.size() != 4 || args[2] != "--role" || (args[3] != "master" && args[3] != "slave")) {
      throw usage_error("usage: ruxx_bench_db upgrade DB --role master|slave");
    }
    upgrade(fs::path(std::string(args[1])), args[3] == "master" ? synccore::sync::node_role::master
                                                               : synccore::sync::node_role::slave);
    return 0;
  }
  if (command == "sync-spread") {
    if (args.size() < 2) throw usage_error("sync-spread needs a file");
    std::int64_t pages = 120;
    std::int64_t rounds = 9;
    parse_counts(args, 2, {{"--pages", &pages}, {"--rounds", &rounds}});
    sync_spread(fs::path(std::string(args[1])), pages, std::max<std::int64_t>(rounds, 1));
    return 0;
  }
  throw usage_error("unknown command " + std::string(command));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "ruxx_bench_db: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ruxx_bench_db: " << e.what() << "\n";
    return 1;
  }
}

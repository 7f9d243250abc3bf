// The rows and deletes of one push, validated and converted for the apply engine
// (push_apply.cpp). A big push is decoded on a second thread while the caller already stores the
// rows before it: decoding is a seventh of a 10k-row push's time and the other core would
// otherwise idle (docs/PERFORMANCE.md). The caller sees rows in order, each once decoded, and a
// row that cannot be stored stops it; every problem of every row is still reported, in row
// order, exactly as when everything was decoded first. Internal.
#pragma once

#include <synccore/codec/row_codec.hpp>
#include <synccore/sync/push_apply.hpp>
#include <synccore/util/expected.hpp>

#include <boost/json/value.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace synccore::sync::detail {

struct row_meta {
  std::string op;  // "insert", "update" or empty (version 1)
  std::optional<std::string> base_updated_at;  // database text
  std::vector<std::pair<std::string, double>> deltas;
  // The slave changed nothing but the counter column since it last saw the master's row (a
  // sale): the row's other values are not its edits, so differing ones are no conflict.
  bool counter_only = false;
};

struct pending_row {
  const boost::json::object* raw = nullptr;
  codec::decoded_row decoded;
  row_meta meta;
  std::string key;  // identity value as sent (local id or transaction number)
  std::int64_t pushed_id = 0;
  bool has_id = false;
};

struct pending_delete {
  std::string key;
  std::optional<std::string> base_updated_at;  // database text
};

// "data.3" or "data.3.cashier_id": how a row's problems are named in a rejection.
std::string field(std::size_t index, std::string_view column = {});

// The text of an identity value (an id or a transaction number) as row keys carry it.
std::string key_text(const codec::sql_value& v);

// A JSON number or numeric string as a finite double.
std::optional<double> parse_number(const boost::json::value& v);

// Validates and converts the version 2 deletes; problems go to `errors`.
std::vector<pending_delete> prepare_deletes(const push_request& req, const time::app_zone& zone,
                                            std::vector<input_error>& errors);

class push_rows {
 public:
  // From this many rows on, decoding runs on a helper thread (starting one costs about 0.1 ms).
  static constexpr std::size_t decode_ahead_rows = 2000;

  // Starts decoding req.data (on a helper thread for a big push, else here and now).
  // `req`, `decoder` and `zone` must outlive this object.
  push_rows(const push_request& req, const codec::row_decoder& decoder,
            const time::app_zone& zone);
  // Stops the helper early (its remaining rows are not needed any more) and waits for it.
  ~push_rows();
  push_rows(const push_rows&) = delete;
  push_rows& operator=(const push_rows&) = delete;

  std::size_t size() const noexcept { return rows_.size(); }

  // Row i, once decoded (waits for it); nullptr when it cannot be stored (see errors()).
  // Rethrows what the decoding thread threw (out of memory).
  const pending_row* get(std::size_t i);

  // Waits for every row and returns every problem in row order; empty when all rows are good.
  const std::vector<input_error>& errors();

 private:
  void decode_range(std::size_t first, std::size_t last, std::vector<input_error>& errors);
  bool decode_one(std::size_t i, std::vector<input_error>& errors);
  void wait_until_ready(std::size_t count);
  void join();

  const push_request& req_;
  const codec::row_decoder& decoder_;
  const time::app_zone& zone_;
  std::vector<pending_row> rows_;  // slot i written once, by the decoding thread
  std::vector<char> good_;         // good_[i]: row i can be stored
  std::vector<input_error> errors_;          // this thread's (the meta check, inline decoding)
  std::vector<input_error> helper_errors_;   // the helper's, merged by join()
  std::atomic<std::size_t> ready_{0};        // rows [0, ready_) are decoded
  std::atomic<bool> stop_{false};
  std::exception_ptr failure_;  // set by the helper before its last publication
  std::thread helper_;
};

}  // namespace synccore::sync::detail

#include "push_rows.hpp"

#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json/object.hpp>

#include <charconv>
#include <cmath>
#include <system_error>

namespace synccore::sync::detail {

namespace json = boost::json;

namespace {

// Rows decoded between two publications to the applying thread: each publication may wake it.
constexpr std::size_t rows_per_publication = 64;

}  // namespace

std::string field(std::size_t index, std::string_view column) {
  std::string f = "data." + std::to_string(index);
  if (!column.empty()) f += "." + std::string(column);
  return f;
}

std::optional<double> parse_number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  // A numeral too large for a double (1e400) parses as infinity: not a number to add.
  if (v.is_double()) {
    return std::isfinite(v.get_double()) ? std::optional<double>(v.get_double()) : std::nullopt;
  }
  if (v.is_string()) {
    const auto& s = v.get_string();
    double out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return out;
  }
  return std::nullopt;
}

std::string key_text(const codec::sql_value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

std::vector<pending_delete> prepare_deletes(const push_request& req, const time::app_zone& zone,
                                            std::vector<input_error>& errors) {
  std::vector<pending_delete> out;
  if (!req.deleted) return out;
  for (std::size_t i = 0; i < req.deleted->size(); ++i) {
    const auto& item = (*req.deleted)[i];
    const std::string f = "deleted." + std::to_string(i);
    pending_delete del;
    const json::value* key = nullptr;
    if (const auto* o = item.if_object()) {
      key = o->if_contains("key");
      if (const auto* base = o->if_contains("base_updated_at"); base && base->is_string()) {
        auto parsed = zone.parse(base->get_string());
        if (!parsed) {
          errors.push_back({f + ".base_updated_at", "must be a timestamp"});
          continue;
        }
        del.base_updated_at = zone.to_db(*parsed);
      }
    } else {
      key = &item;
    }
    if (key && key->is_string() && !key->get_string().empty()) {
      del.key = std::string(key->get_string());
    } else if (key && key->is_int64()) {
      del.key = std::to_string(key->get_int64());
    } else {
      errors.push_back({f + ".key", "is required: the identity of the deleted row"});
      continue;
    }
    out.push_back(std::move(del));
  }
  return out;
}

push_rows::push_rows(const push_request& req, const codec::row_decoder& decoder,
                     const time::app_zone& zone)
    : req_(req), decoder_(decoder), zone_(zone), rows_(req.data->size()),
      good_(req.data->size(), 0) {
  const std::size_t n = rows_.size();
  if (req.meta && req.meta->size() != n) {
    errors_.push_back({"meta", "must have one entry per row of data"});
  }
  if (n >= decode_ahead_rows) {
    try {
      helper_ = std::thread([this, n] {
        try {
          decode_range(0, n, helper_errors_);
        } catch (...) {
          failure_ = std::current_exception();
        }
        ready_.store(n, std::memory_order_release);
        ready_.notify_all();
      });
      return;
    } catch (const std::system_error&) {
      // No thread to be had: decode everything here.
    }
  }
  decode_range(0, n, errors_);
}

push_rows::~push_rows() {
  stop_.store(true, std::memory_order_relaxed);
  if (helper_.joinable()) helper_.join();
}

void push_rows::decode_range(std::size_t first, std::size_t last,
                             std::vector<input_error>& errors) {
  for (std::size_t i = first; i < last; ++i) {
    if (stop_.load(std::memory_order_relaxed)) return;
    const std::size_t errors_before = errors.size();
    good_[i] = decode_one(i, errors) && errors.size() == errors_before ? 1 : 0;
    if ((i + 1) % rows_per_publication == 0 || i + 1 == last) {
      ready_.store(i + 1, std::memory_order_release);
      ready_.notify_all();
    }
  }
}

// Validates and converts row i into rows_[i]; false when it cannot be stored.
bool push_rows::decode_one(std::size_t i, std::vector<input_error>& errors) {
  const auto& t = *req_.table;
  const auto& item = (*req_.data)[i];
  if (!item.is_object()) {
    errors.push_back({field(i), "must be an object of column names to values"});
    return false;
  }
  auto decoded = decoder_.decode(item.get_object());
  if (!decoded) {
    errors.push_back({field(i, decoded.error().field), decoded.error().message});
    return false;
  }
  pending_row& row = rows_[i];
  row.raw = &item.get_object();
  row.decoded = std::move(decoded).value();
  // A JSON numeral beyond the double range (1e400) arrives as infinity; never store it.
  bool finite = true;
  for (const auto& v : row.decoded.values) {
    if (const auto* d = std::get_if<double>(&v.value); d && !std::isfinite(*d)) {
      errors.push_back({field(i, v.column->name), "must be a finite number"});
      finite = false;
    }
  }
  if (!finite) return false;
  const auto* identity = row.decoded.find(t.identity_column);
  if (!identity || std::holds_alternative<std::monostate>(*identity) ||
      (t.identity_column == "id" && !std::holds_alternative<std::int64_t>(*identity))) {
    errors.push_back({field(i, t.identity_column),
                      "is required: it identifies the row on every node"});
    return false;
  }
  row.key = key_text(*identity);
  // Last writer wins compares updated_at: a row without one would win against every version.
  if (t.rule == tables::conflict_rule::last_writer_wins) {
    const auto* updated = row.decoded.find("updated_at");
    if (!updated || std::holds_alternative<std::monostate>(*updated)) {
      errors.push_back({field(i, "updated_at"),
                        "is required: the newer updated_at wins a conflict on " +
                            std::string(t.name)});
      return false;
    }
  }
  if (const auto* id = row.decoded.find("id"); id && std::holds_alternative<std::int64_t>(*id)) {
    row.pushed_id = std::get<std::int64_t>(*id);
    row.has_id = true;
  }
  if (req_.meta && i < req_.meta->size()) {
    const auto& m = (*req_.meta)[i];
    const auto* mo = m.if_object();
    const auto* op = mo ? mo->if_contains("op") : nullptr;
    if (!mo || !op || !op->is_string() ||
        (op->get_string() != "insert" && op->get_string() != "update")) {
      errors.push_back({"meta." + std::to_string(i) + ".op", "must be \"insert\" or \"update\""});
      return false;
    }
    row.meta.op = std::string(op->get_string());
    if (const auto* base = mo->if_contains("base_updated_at"); base && !base->is_null()) {
      auto parsed = base->is_string() ? zone_.parse(base->get_string())
                                      : expected<time::utc_instant>(input_error{"", ""});
      if (!parsed) {
        errors.push_back(
            {"meta." + std::to_string(i) + ".base_updated_at", "must be a timestamp"});
        return false;
      }
      row.meta.base_updated_at = zone_.to_db(*parsed);
    }
    if (const auto* only = mo->if_contains("counter_only"); only && !only->is_null()) {
      if (!only->is_bool()) {
        errors.push_back({"meta." + std::to_string(i) + ".counter_only", "must be true or false"});
        return false;
      }
      row.meta.counter_only = only->get_bool();
    }
    if (const auto* deltas = mo->if_contains("deltas"); deltas && !deltas->is_null()) {
      const auto* d = deltas->if_object();
      if (!d) {
        errors.push_back({"meta." + std::to_string(i) + ".deltas", "must be an object"});
        return false;
      }
      for (const auto& [column, value] : *d) {
        const auto number = parse_number(value);
        if (column != t.counter_column || !number) {
          errors.push_back({"meta." + std::to_string(i) + ".deltas." + std::string(column),
                            "must be a number for the counter column " +
                                std::string(t.counter_column)});
          continue;
        }
        row.meta.deltas.emplace_back(std::string(column), *number);
      }
    }
  }
  return true;
}

void push_rows::wait_until_ready(std::size_t count) {
  auto ready = ready_.load(std::memory_order_acquire);
  while (ready < count) {
    ready_.wait(ready, std::memory_order_acquire);
    ready = ready_.load(std::memory_order_acquire);
  }
  // failure_ is written before the helper's last publication, the only one that reaches size().
  if (ready == rows_.size() && failure_) std::rethrow_exception(failure_);
}

const pending_row* push_rows::get(std::size_t i) {
  wait_until_ready(i + 1);
  return good_[i] ? &rows_[i] : nullptr;
}

void push_rows::join() {
  if (!helper_.joinable()) return;
  helper_.join();
  errors_.insert(errors_.end(), std::make_move_iterator(helper_errors_.begin()),
                 std::make_move_iterator(helper_errors_.end()));
  helper_errors_.clear();
}

const std::vector<input_error>& push_rows::errors() {
  join();
  if (failure_) std::rethrow_exception(failure_);
  return errors_;
}

}  // namespace synccore::sync::detail

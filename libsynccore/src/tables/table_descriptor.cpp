#include <synccore/tables/table_descriptor.hpp>

#include <array>

namespace synccore::tables {

namespace {
constexpr std::array<std::string_view, 1> users_never_sent{"remember_token"};
constexpr std::array<std::string_view, 2> users_hidden_v1{"password", "remember_token"};
constexpr std::array<std::string_view, 1> users_natural{"email"};
constexpr std::array<std::string_view, 1> company_hidden_v1{"smtp_password"};
// The SMTP password stays on the master (the PHP master never sent it either).
constexpr std::array<std::string_view, 1> company_never_sent{"smtp_password"};

// Apply order: parents first (users before the tables whose foreign keys point at it).
constexpr std::array<table_descriptor, 5> descriptors{{
    {"users", "id", conflict_rule::last_writer_wins, true, true, "", users_never_sent,
     users_hidden_v1, users_natural, false},
    {"inventory", "id", conflict_rule::master_wins, true, true, "current_stock", {}, {}, {},
     true},
    {"transactions", "transaction_number", conflict_rule::last_writer_wins, true, false, "", {},
     {}, {}, false},
    {"inventory_adjustments", "id", conflict_rule::last_writer_wins, true, true, "", {}, {}, {},
     false},
    {"company_settings", "id", conflict_rule::master_wins_insert_if_empty, false, true, "",
     company_never_sent, company_hidden_v1, {}, true},
}};
}  // namespace

std::span<const table_descriptor> all_tables() noexcept { return descriptors; }

const table_descriptor* find_table(std::string_view name) noexcept {
  for (const auto& d : descriptors) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace synccore::tables

// The slave's change capture kept whole: the triggers a Laravel migration dropped (rebuilding a
// table) or an older ruxx-sync defined differently are put back, and the rows the app changed
// meanwhile are logged as pending changes so they are still pushed. Used before every run and,
// in service mode, whenever the database's schema changes (db::schema_watch).
#pragma once

#include <synccore/db/connection.hpp>

namespace slave {

// Reinstalls missing or outdated capture triggers; for a table whose insert or update trigger
// was missing, logs the rows changed since its last sync (see capture_repair.cpp), with a
// warning. Nothing changes when capture is whole. Leaves the app tables' shape alone.
void repair_capture(synccore::db::connection& conn);

}  // namespace slave

#pragma once
// PrefLab's schema as a list of migrations: migration i takes schema version i
// to i+1. They are applied in one transaction on open. Never edit a released
// step; append a new one. Each step has a text for each engine: PostgreSQL's
// is SQLite's with PostgreSQL's types, except where the dialects differ.
#include "storage/sql_connection.h"

#include <string>
#include <vector>

namespace preflab {

const std::vector<std::string>& schemaMigrations(SqlDialect dialect = SqlDialect::Sqlite);
inline int latestSchemaVersion() { return static_cast<int>(schemaMigrations().size()); }

}  // namespace preflab

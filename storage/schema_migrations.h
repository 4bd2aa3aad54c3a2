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
// The part of the step to schema `version` that SQL alone cannot do (v7:
// each stored pair's identity key, a SHA-256 of its texts); run in the
// migration's transaction right after that step's SQL.
void migrationCode(int version, SqlConnection& connection);

}  // namespace preflab

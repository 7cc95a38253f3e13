#!/bin/sh
# One-shot job (temporalio/admin-tools image): prepares Temporal's own storage on the shared PostgreSQL.
#   1. creates Temporal's login role (it owns nothing of the billing database),
#   2. creates the databases `temporal` and `temporal_visibility` (separate from `ev_billing`),
#   3. brings both schemas to the version this server release needs (postgres12 plugin, schema v12).
# Every step is idempotent, so the job runs on each `docker compose up`; it is also the upgrade path:
# bump the admin-tools and server images together and the next start migrates the schemas first.
# Same steps as Temporal's compose setup-postgres.sh (temporal-sql-tool create / setup-schema -v 0.0 /
# update-schema -d .../versioned), plus the role.
set -eu

: "${POSTGRES_SEEDS:=postgres}"                        # host of the PostgreSQL server
: "${DB_PORT:=5432}"
: "${POSTGRES_ADMIN_USER:=postgres}"                   # superuser: creates the role only
: "${POSTGRES_ADMIN_PASSWORD:?POSTGRES_ADMIN_PASSWORD must be set}"
: "${POSTGRES_USER:=temporal}"                         # the role the Temporal server connects as
: "${POSTGRES_PWD:?POSTGRES_PWD must be set}"
: "${DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"
: "${SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}" # shipped in the admin-tools image
: "${SQL_TOOL:=temporal-sql-tool}"
: "${WAIT_SECONDS:=120}"

log() { echo "temporal-schema: $*"; }
admin_psql() {
  PGPASSWORD="${POSTGRES_ADMIN_PASSWORD}" psql -X -q -v ON_ERROR_STOP=1 \
    -h "${POSTGRES_SEEDS}" -p "${DB_PORT}" -U "${POSTGRES_ADMIN_USER}" -d postgres "$@"
}

log "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}"
waited=0
until out="$(admin_psql -c 'SELECT 1' 2>&1)"; do
  waited=$((waited + 2))
  if [ "${waited}" -ge "${WAIT_SECONDS}" ]; then
    log "PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT} does not accept ${POSTGRES_ADMIN_USER} after ${WAIT_SECONDS}s: ${out}" >&2
    exit 1
  fi
  sleep 2
done

log "ensuring role ${POSTGRES_USER} (LOGIN CREATEDB)"
admin_psql -v role="${POSTGRES_USER}" -v pw="${POSTGRES_PWD}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
-- keep the password in step with the compose file when it changes
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'pw') \gexec
SQL

# temporal-sql-tool reads the password from SQL_PASSWORD, which keeps it off the process list.
SQL_PASSWORD="${POSTGRES_PWD}"
export SQL_PASSWORD
sql_tool() {
  "${SQL_TOOL}" --plugin postgres12 --ep "${POSTGRES_SEEDS}" -p "${DB_PORT}" -u "${POSTGRES_USER}" "$@"
}

setup_db() { # DATABASE SCHEMA_SUBDIR
  log "database $1: create (if missing), setup-schema -v 0.0, update-schema -d ${SCHEMA_DIR}/$2/versioned"
  sql_tool --db "$1" create
  sql_tool --db "$1" setup-schema -v 0.0
  sql_tool --db "$1" update-schema -d "${SCHEMA_DIR}/$2/versioned"
}

setup_db "${DBNAME}" temporal
setup_db "${VISIBILITY_DBNAME}" visibility
log "done: ${DBNAME} and ${VISIBILITY_DBNAME} are at the latest schema version"

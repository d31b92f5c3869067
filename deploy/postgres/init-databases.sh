#!/bin/sh
# The stack's databases, made once by the postgres image on an empty data directory (it runs the scripts of
# /docker-entrypoint-initdb.d as the superuser, on a server that listens on its socket only):
#
#   role mlflow        owns database mlflow        the MLflow server's backend store (experiments, runs, registry)
#   role spam_service  owns database predictions   the service's prediction store (its Alembic migrations)
#
# Each role owns its database (PostgreSQL 15+ lets only the owner create tables in `public`), may log in to it alone
# (CONNECT revoked from PUBLIC), and is no superuser. The passwords are the files secrets-init generated
# (scripts/compose_secrets.sh) in POSTGRES_SECRETS_DIR: psql reads them itself (`\set` with a backquoted cat), so
# they appear in no command line and no environment. A data volume made before this script ran is not changed:
# `docker compose down -v` starts over.
set -e

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v secrets_dir="${POSTGRES_SECRETS_DIR:-/run/secrets/postgres}" <<'EOSQL'
\set mlflow_password `cat :'secrets_dir'/mlflow_password`
\set spam_service_password `cat :'secrets_dir'/spam_service_password`
CREATE ROLE mlflow LOGIN PASSWORD :'mlflow_password';
CREATE DATABASE mlflow OWNER mlflow;
REVOKE ALL ON DATABASE mlflow FROM PUBLIC;
CREATE ROLE spam_service LOGIN PASSWORD :'spam_service_password';
CREATE DATABASE predictions OWNER spam_service;
REVOKE ALL ON DATABASE predictions FROM PUBLIC;
EOSQL
echo "init-databases: roles mlflow and spam_service, databases mlflow and predictions created"

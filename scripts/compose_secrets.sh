#!/bin/sh
# The compose stack's local secrets, made at its first start by the `secrets-init` service (docker-compose.yml):
#
#   compose_secrets.sh [generate]   a CA and the service's certificate (HTTPS), Grafana's admin password, the
#                                   PostgreSQL passwords; what exists is kept, so every later `up` changes nothing
#   compose_secrets.sh show         prints Grafana's admin password
#   compose_secrets.sh ca           prints the CA certificate, for clients: curl --cacert
#   compose_secrets.sh admin-key    prints the first admin API key (create others with the service's
#                                   `python -m spam_service keys create`)
#
# Directories (volumes in compose): TLS_DIR gets ca.crt, tls.crt, tls.key; CA_DIR the CA's key, which no other
# container mounts; GRAFANA_DIR admin_password. TLS_OWNER / GRAFANA_OWNER (uid:gid) own the key and the password,
# each readable by its owner only. Nothing secret is printed by `generate`.
#
# PostgreSQL (deploy/postgres/init-databases.sh): POSTGRES_DIR gets the superuser's and each role's password, owned by
# POSTGRES_OWNER (the server's uid, which reads them at its first start); MLFLOW_DB_DIR and SERVICE_DB_DIR each get a
# libpq password file, `pgpass`, with the one role its client logs in as (owned by MLFLOW_DB_OWNER, SERVICE_DB_OWNER).
# Clients name it in PGPASSFILE and connect with a URL that holds no password: libpq (psycopg) reads it from there.
set -eu

TLS_DIR=${TLS_DIR:-/secrets/tls}
CA_DIR=${CA_DIR:-/secrets/ca}
GRAFANA_DIR=${GRAFANA_DIR:-/secrets/grafana}
# The service's API key store (its own volume, owned by KEYS_OWNER) and the first admin key, readable by
# ADMIN_KEY_OWNER only (Prometheus, which sends it to scrape /metrics).
KEYS_DIR=${KEYS_DIR:-/secrets/api-keys}
ADMIN_KEY_DIR=${ADMIN_KEY_DIR:-/secrets/admin-key}
POSTGRES_DIR=${POSTGRES_DIR:-/secrets/postgres}
MLFLOW_DB_DIR=${MLFLOW_DB_DIR:-/secrets/mlflow-db}
SERVICE_DB_DIR=${SERVICE_DB_DIR:-/secrets/service-db}
# The compose service name (Prometheus and the other containers) and loopback (the published port, the healthcheck).
TLS_HOSTS=${TLS_HOSTS:-DNS:spam-service,DNS:localhost,IP:127.0.0.1}
CA_DAYS=3650
# Under the 825 days Apple's clients accept for a server certificate.
CERT_DAYS=825

umask 077

own() {  # own OWNER FILE: chown when an owner is given (not in the tests, which run as whoever they are)
    if [ -n "$1" ]; then chown "$1" "$2"; fi
}

generate_grafana_password() {
    password_file="$GRAFANA_DIR/admin_password"
    if [ -s "$password_file" ]; then return; fi
    openssl rand -hex 24 | tr -d '\n' > "$password_file.new"
    own "${GRAFANA_OWNER:-}" "$password_file.new"
    chmod 0400 "$password_file.new"
    mv "$password_file.new" "$password_file"
    echo "secrets-init: Grafana admin password generated ($password_file)"
}

write_secret() {  # write_secret FILE OWNER: stdin into FILE, mode 0400, owned by OWNER, whole or not at all
    cat > "$1.new"
    own "$2" "$1.new"
    chmod 0400 "$1.new"
    mv "$1.new" "$1"
}

generate_postgres_password() {  # generate_postgres_password NAME: POSTGRES_DIR/NAME_password, unless it exists
    password_file="$POSTGRES_DIR/$1_password"
    if [ -s "$password_file" ]; then return; fi
    # Hex: nothing a libpq password file or an SQL literal would need escaped.
    openssl rand -hex 24 | tr -d '\n' | write_secret "$password_file" "${POSTGRES_OWNER:-}"
    echo "secrets-init: PostgreSQL password of '$1' generated ($password_file)"
}

write_pgpass() {  # write_pgpass DIR OWNER DATABASE ROLE: DIR/pgpass holding that role's password, unless it exists
    if [ -s "$1/pgpass" ]; then return; fi
    # Any host and port: the file reaches one container only, and names one database and role.
    printf '*:*:%s:%s:%s\n' "$3" "$4" "$(cat "$POSTGRES_DIR/$4_password")" | write_secret "$1/pgpass" "$2"
    echo "secrets-init: libpq password file for role '$4' on database '$3' written ($1/pgpass)"
}

# The roles and databases of deploy/postgres/init-databases.sh: `mlflow` owns database mlflow (the MLflow server's
# backend store), `spam_service` owns database predictions (the service's prediction store).
generate_postgres_credentials() {
    generate_postgres_password superuser
    generate_postgres_password mlflow
    generate_postgres_password spam_service
    write_pgpass "$MLFLOW_DB_DIR" "${MLFLOW_DB_OWNER:-}" mlflow mlflow
    write_pgpass "$SERVICE_DB_DIR" "${SERVICE_DB_OWNER:-}" predictions spam_service
}

generate_tls() {
    if [ -s "$TLS_DIR/ca.crt" ] && [ -s "$TLS_DIR/tls.crt" ] && [ -s "$TLS_DIR/tls.key" ] && [ -s "$CA_DIR/ca.key" ]
    then
        return
    fi
    # Built aside, then moved in: a start cut short leaves no half-made pair that the check above would keep.
    work=$(mktemp -d "$TLS_DIR/.new.XXXXXX")
    cat > "$work/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = spam-service local CA
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $TLS_HOSTS
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    openssl req -x509 -config "$work/openssl.cnf" -extensions ca_ext -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -nodes -days "$CA_DAYS" -keyout "$work/ca.key" -out "$work/ca.crt"
    openssl req -new -config "$work/openssl.cnf" -subj "/CN=spam-service" -newkey ec \
        -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls.key" -out "$work/tls.csr"
    openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days "$CERT_DAYS" \
        -extfile "$work/openssl.cnf" -extensions server_ext -out "$work/tls.crt"
    chmod 0644 "$work/ca.crt" "$work/tls.crt"
    own "${TLS_OWNER:-}" "$work/tls.key"
    chmod 0400 "$work/tls.key" "$work/ca.key"
    mv "$work/ca.key" "$CA_DIR/ca.key"
    mv "$work/tls.key" "$work/tls.crt" "$work/ca.crt" "$TLS_DIR/"
    rm -rf "$work"
    echo "secrets-init: CA and server certificate generated for $TLS_HOSTS ($TLS_DIR)"
}

generate_admin_key() {
    store="$KEYS_DIR/api-keys.json"
    key_file="$ADMIN_KEY_DIR/admin.key"
    if [ -s "$store" ] && [ -s "$key_file" ]; then return; fi
    # The service's key format (spam_service/auth/keys.py): "spam_" + 32 random bytes, URL-safe base64 without
    # padding; the store holds its SHA-256 only.
    key="spam_$(openssl rand 32 | openssl base64 -A | tr '+/' '-_' | tr -d '=')"
    digest=$(printf '%s' "$key" | openssl dgst -sha256 -r | cut -d' ' -f1)
    created=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
    printf '{"keys": [{"name": "compose-admin", "role": "admin", "sha256": "%s", "created": "%s", "expires": null}]}\n' \
        "$digest" "$created" > "$store.new"
    own "${KEYS_OWNER:-}" "$store.new"
    chmod 0600 "$store.new"
    printf '%s' "$key" > "$key_file.new"
    own "${ADMIN_KEY_OWNER:-}" "$key_file.new"
    chmod 0400 "$key_file.new"
    mv "$key_file.new" "$key_file"
    mv "$store.new" "$store"
    echo "secrets-init: first admin API key 'compose-admin' generated ($key_file; the store $store holds its hash)"
}

case "${1:-generate}" in
    generate)
        mkdir -p "$TLS_DIR" "$CA_DIR" "$GRAFANA_DIR"
        # Other users go through the directories: the certificates are public, the keys and the password 0400.
        chmod 0755 "$TLS_DIR" "$GRAFANA_DIR"
        chmod 0700 "$CA_DIR"
        mkdir -p "$KEYS_DIR" "$ADMIN_KEY_DIR"
        chmod 0755 "$KEYS_DIR" "$ADMIN_KEY_DIR"
        own "${KEYS_OWNER:-}" "$KEYS_DIR"  # the service writes the store when an operator creates keys
        mkdir -p "$POSTGRES_DIR" "$MLFLOW_DB_DIR" "$SERVICE_DB_DIR"
        chmod 0755 "$POSTGRES_DIR" "$MLFLOW_DB_DIR" "$SERVICE_DB_DIR"
        generate_tls
        generate_grafana_password
        generate_admin_key
        generate_postgres_credentials
        ;;
    admin-key)
        if [ ! -s "$ADMIN_KEY_DIR/admin.key" ]; then
            echo "no admin API key yet: run 'docker compose up' first" >&2
            exit 1
        fi
        cat "$ADMIN_KEY_DIR/admin.key"
        echo
        ;;
    show)
        if [ ! -s "$GRAFANA_DIR/admin_password" ]; then
            echo "no Grafana admin password yet: run 'docker compose up' first" >&2
            exit 1
        fi
        cat "$GRAFANA_DIR/admin_password"
        echo
        ;;
    ca)
        cat "$TLS_DIR/ca.crt"
        ;;
    *)
        echo "usage: compose_secrets.sh [generate|show|ca|admin-key]" >&2
        exit 2
        ;;
esac

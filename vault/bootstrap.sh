#!/bin/sh
# Prepare Vault for spam-service; safe to run again (each step checks before it changes anything).
#
#   1. KV v2 at $VAULT_KV_MOUNT (default `secret`) and the AppRole auth method at $VAULT_APPROLE_MOUNT (`approle`)
#   2. the HDFS location secret at $VAULT_KV_MOUNT/$VAULT_HDFS_SECRET_PATH: host, port[, user]
#   3. policy `spam-service`: read that one secret, nothing else
#   4. AppRole role `spam-service` with that policy; its role_id and a secret_id written to $CREDENTIALS_DIR
#      (files role_id and secret_id, mode 0600) for the service's VAULT_ROLE_ID_FILE / VAULT_SECRET_ID_FILE
#
# Usage: VAULT_ADDR=... VAULT_TOKEN=<admin token> (or VAULT_TOKEN_FILE) vault/bootstrap.sh --host namenode --port 9870 [--user hadoop]
#        [--credentials-dir DIR] [--owner UID[:GID]] [--rotate-secret-id]
# Arguments override the environment: HDFS_HOST, HDFS_PORT, HDFS_USER, CREDENTIALS_DIR (default ./vault/credentials),
# CREDENTIALS_OWNER (who gets the files, when the service runs as another user than this script).
# Works with HashiCorp's `vault` CLI or OpenBao's `bao` (VAULT_CLI picks; default: whichever is installed).
# It prints no secret: only what it did.
set -eu

host=${HDFS_HOST:-}
port=${HDFS_PORT:-}
user=${HDFS_USER:-}
credentials_dir=${CREDENTIALS_DIR:-vault/credentials}
owner=${CREDENTIALS_OWNER:-}
rotate=no
mount=${VAULT_KV_MOUNT:-secret}
approle_mount=${VAULT_APPROLE_MOUNT:-approle}
secret_path=${VAULT_HDFS_SECRET_PATH:-spam-service/hdfs}
# Where the service reads its API keys when VAULT_API_KEYS_PATH points there (README, Security).
keys_path=${VAULT_API_KEYS_PATH:-spam-service/api-keys}
role=${VAULT_ROLE_NAME:-spam-service}
policy=${VAULT_POLICY_NAME:-spam-service}
token_ttl=${VAULT_TOKEN_TTL:-1h}
token_max_ttl=${VAULT_TOKEN_MAX_TTL:-24h}

die() { echo "bootstrap: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case $1 in
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --credentials-dir) credentials_dir=$2; shift 2 ;;
    --owner) owner=$2; shift 2 ;;
    --rotate-secret-id) rotate=yes; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

[ -n "$host" ] || die "the namenode host is required: --host or HDFS_HOST"
[ -n "$port" ] || die "the namenode WebHDFS port is required: --port or HDFS_PORT"
case $port in *[!0-9]*) die "--port must be a number, got '$port'" ;; esac
[ -n "${VAULT_ADDR:-${BAO_ADDR:-}}" ] || die "VAULT_ADDR is not set"

cli=${VAULT_CLI:-}
if [ -z "$cli" ]; then
  if command -v vault >/dev/null 2>&1; then cli=vault
  elif command -v bao >/dev/null 2>&1; then cli=bao
  else die "neither the vault nor the bao CLI is installed (set VAULT_CLI)"; fi
fi
if [ -z "${VAULT_TOKEN:-}" ] && [ -n "${VAULT_TOKEN_FILE:-}" ]; then
  VAULT_TOKEN=$(cat "$VAULT_TOKEN_FILE") || die "cannot read VAULT_TOKEN_FILE=$VAULT_TOKEN_FILE"
  export VAULT_TOKEN
fi
# OpenBao's CLI reads BAO_*; HashiCorp's reads VAULT_*. Give each what it reads.
export BAO_ADDR="${BAO_ADDR:-${VAULT_ADDR:-}}" VAULT_ADDR="${VAULT_ADDR:-${BAO_ADDR:-}}"
[ -z "${VAULT_TOKEN:-}" ] || export BAO_TOKEN="${BAO_TOKEN:-$VAULT_TOKEN}"
[ -z "${VAULT_CACERT:-}" ] || export BAO_CACERT="${BAO_CACERT:-$VAULT_CACERT}"

# 1. engines
if $cli secrets list | awk '{print $1}' | grep -qx "$mount/"; then
  echo "bootstrap: KV mount $mount/ exists"
else
  $cli secrets enable -path="$mount" -version=2 kv >/dev/null
  echo "bootstrap: enabled KV v2 at $mount/"
fi
if $cli auth list | awk '{print $1}' | grep -qx "$approle_mount/"; then
  echo "bootstrap: AppRole auth at $approle_mount/ exists"
else
  $cli auth enable -path="$approle_mount" approle >/dev/null
  echo "bootstrap: enabled AppRole auth at $approle_mount/"
fi

# 2. the secret (written every time: the arguments are the truth)
if [ -n "$user" ]; then
  $cli kv put -mount="$mount" "$secret_path" host="$host" port="$port" user="$user" >/dev/null
else
  $cli kv put -mount="$mount" "$secret_path" host="$host" port="$port" >/dev/null
fi
echo "bootstrap: wrote $mount/$secret_path (host, port${user:+, user})"

# 3. least privilege: this one secret, read only. (Token self-renewal and lookup come with Vault's default policy.)
$cli policy write "$policy" - >/dev/null <<EOF
# spam-service reads where HDFS is, and its API key store (hashes; written by operators); nothing else.
path "$mount/data/$secret_path" {
  capabilities = ["read"]
}
path "$mount/data/$keys_path" {
  capabilities = ["read"]
}
path "$mount/metadata/$keys_path" {
  capabilities = ["read"]
}
EOF
echo "bootstrap: wrote policy $policy (read $mount/data/$secret_path, $mount/data/$keys_path and its metadata)"

# 4. the service's AppRole and its credentials
$cli write "auth/$approle_mount/role/$role" token_policies="$policy" token_ttl="$token_ttl" \
  token_max_ttl="$token_max_ttl" secret_id_ttl=0 secret_id_num_uses=0 >/dev/null
echo "bootstrap: wrote AppRole role $role (token ttl $token_ttl, max $token_max_ttl)"

umask 077
mkdir -p "$credentials_dir"
$cli read -field=role_id "auth/$approle_mount/role/$role/role-id" > "$credentials_dir/role_id.tmp"
mv "$credentials_dir/role_id.tmp" "$credentials_dir/role_id"
# Keep a secret_id that Vault still knows (a dev-mode Vault forgets everything when it restarts). The value goes
# to Vault from the file (`@file`), never on a command line where `ps` would show it.
known=no
if [ "$rotate" = no ] && [ -s "$credentials_dir/secret_id" ]; then
  accessor=$($cli write -field=secret_id_accessor "auth/$approle_mount/role/$role/secret-id/lookup" \
    secret_id=@"$credentials_dir/secret_id" 2>/dev/null || true)
  case $accessor in ""|*" "*) ;; *) known=yes ;; esac  # an unknown id answers "Success! ..." without the field
fi
if [ "$known" = yes ]; then
  echo "bootstrap: kept the existing secret_id (--rotate-secret-id issues a new one)"
else
  $cli write -f -field=secret_id "auth/$approle_mount/role/$role/secret-id" > "$credentials_dir/secret_id.tmp"
  mv "$credentials_dir/secret_id.tmp" "$credentials_dir/secret_id"
  echo "bootstrap: issued a secret_id"
fi
chmod 600 "$credentials_dir/role_id" "$credentials_dir/secret_id"
[ -z "$owner" ] || chown "$owner" "$credentials_dir" "$credentials_dir/role_id" "$credentials_dir/secret_id"
echo "bootstrap: credentials in $credentials_dir/role_id and $credentials_dir/secret_id (mode 0600)"

# 5. only with VAULT_API_KEYS_PATH set (the service then reads its API keys from Vault; README, Security): a first
#    admin API key in that store when it has none yet, its SHA-256 in Vault, the key itself in
#    $credentials_dir/admin.key (0600) for the operator. More keys: python -m spam_service keys create (with an
#    operator's VAULT_TOKEN). Needs openssl.
if [ -z "${VAULT_API_KEYS_PATH:-}" ]; then
  :
elif ! $cli kv get -mount="$mount" "$keys_path" >/dev/null 2>&1; then
  command -v openssl >/dev/null || die "openssl is needed to make the first API key"
  key="spam_$(openssl rand 32 | openssl base64 -A | tr '+/' '-_' | tr -d '=')"
  digest=$(printf '%s' "$key" | openssl dgst -sha256 -r | cut -d' ' -f1)
  created=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
  printf '{"keys": [{"name": "bootstrap-admin", "role": "admin", "sha256": "%s", "created": "%s", "expires": null}]}\n' \
    "$digest" "$created" > "$credentials_dir/api-keys.json.tmp"
  $cli kv put -mount="$mount" "$keys_path" @"$credentials_dir/api-keys.json.tmp" >/dev/null
  rm -f "$credentials_dir/api-keys.json.tmp"
  printf '%s\n' "$key" > "$credentials_dir/admin.key.tmp"
  mv "$credentials_dir/admin.key.tmp" "$credentials_dir/admin.key"
  [ -z "$owner" ] || chown "$owner" "$credentials_dir/admin.key"
  echo "bootstrap: wrote the API key store $mount/$keys_path with a first admin key ($credentials_dir/admin.key)"
else
  echo "bootstrap: kept the API key store $mount/$keys_path"
fi

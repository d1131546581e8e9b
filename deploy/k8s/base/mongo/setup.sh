#!/usr/bin/env bash
# Runs setup.js (replica set and users) against one MongoDB member until it succeeds.
#
#   setup.sh once      compose's one-shot mongo-init service: exit 0 once done,
#                      non-zero after MONGO_SETUP_TIMEOUT seconds (default 180)
#   setup.sh sidecar   Kubernetes: on the first member (hostname ending in -0)
#                      run it, then again every 5 minutes so that rotated
#                      passwords apply; on the other members only wait
#
# Environment: MONGO_HOST (host:port to connect to), MONGO_RS_NAME, MONGO_RS_MEMBERS,
# MONGO_ROOT_USERNAME, FLOW_DATABASE, and the files named by
# MONGO_ROOT_PASSWORD_FILE, MONGO_PROJECTOR_PASSWORD_FILE, MONGO_QUERY_PASSWORD_FILE.
set -euo pipefail

mode="${1:-once}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${MONGO_HOST:?MONGO_HOST is required}"

secret() { # secret <file>: its content without the trailing newline
  [ -r "$1" ] || { echo "mongo setup: cannot read $1" >&2; return 1; }
  tr -d '\r\n' <"$1"
}

run_setup() {
  MONGO_ROOT_PASSWORD="$(secret "${MONGO_ROOT_PASSWORD_FILE:?}")" \
  MONGO_PROJECTOR_PASSWORD="$(secret "${MONGO_PROJECTOR_PASSWORD_FILE:?}")" \
  MONGO_QUERY_PASSWORD="$(secret "${MONGO_QUERY_PASSWORD_FILE:?}")" \
    mongosh --quiet --norc "mongodb://${MONGO_HOST}/admin?directConnection=true&serverSelectionTimeoutMS=5000" \
      "${here}/setup.js"
}

until_done() { # until_done <seconds>
  local deadline=$((SECONDS + $1))
  until run_setup; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "mongo setup: gave up after $1 s" >&2
      return 1
    fi
    sleep 3
  done
}

case "$mode" in
  once)
    until_done "${MONGO_SETUP_TIMEOUT:-180}"
    echo "mongo setup: replica set and users are ready"
    ;;
  sidecar)
    if [ "${HOSTNAME##*-}" != "0" ]; then
      echo "mongo setup: runs on the first member only"
      exec sleep infinity
    fi
    until_done "${MONGO_SETUP_TIMEOUT:-600}"
    echo "mongo setup: replica set and users are ready"
    while sleep 300; do
      until_done 120 || true
    done
    ;;
  *)
    echo "usage: setup.sh once|sidecar" >&2
    exit 2
    ;;
esac

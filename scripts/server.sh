#!/usr/bin/env bash
# Builds and starts the API server on embedded SQLite (default: 127.0.0.1:8080, data in ./apoxy-data).
# Extra arguments go to `apoxy server` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/include/sqlite3.h ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libsqlite3-dev
fi
exec swift run apoxy server "$@"

#!/usr/bin/env bash
# Install Redis (Debian package `redis-server`) for the CeleryExecutor end-to-end suite, unless present.
# Idempotent and quiet: prints one line, or the apt log when the installation fails (exit 1).
# The package's own service is not used: the suite starts a private redis-server on a free port.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    echo "install-redis: redis-server already installed ($(command -v redis-server))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-redis: redis-server is missing and apt-get is not available; install Redis by hand" >&2
    exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-redis: redis-server is missing; run this script as root (or install sudo)" >&2
        exit 1
    fi
    sudo=(sudo)
fi

log="$(mktemp -t install-redis.XXXXXX.log)"
if ! {
    "${sudo[@]}" apt-get update -qq &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server
} >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-redis: apt-get install redis-server failed" >&2
    exit 1
fi
rm -f "$log"
command -v redis-server >/dev/null 2>&1 || { echo "install-redis: redis-server still not on PATH" >&2; exit 1; }
echo "install-redis: installed $(redis-server --version | head -n 1)"

#!/usr/bin/env bash
# Install headless Chromium (Debian package `chromium`) for the end-to-end UI test, unless present.
# Idempotent and quiet: prints one line, or the apt log when the installation fails (exit 1).
set -euo pipefail

for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "install-browser: $name already installed ($(command -v "$name"))"
        exit 0
    fi
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: chromium is missing and apt-get is not available; install Chromium by hand" >&2
    exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-browser: chromium is missing; run this script as root (or install sudo)" >&2
        exit 1
    fi
    sudo=(sudo)
fi

log="$(mktemp -t install-browser.XXXXXX.log)"
if ! {
    "${sudo[@]}" apt-get update -qq &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
} >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-browser: apt-get install chromium failed" >&2
    exit 1
fi
rm -f "$log"
command -v chromium >/dev/null 2>&1 || { echo "install-browser: chromium still not on PATH" >&2; exit 1; }
echo "install-browser: installed $(chromium --version 2>/dev/null | head -n 1)"

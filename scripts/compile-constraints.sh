#!/usr/bin/env bash
# Pin every dependency of the provider and its test extras for one Airflow release into
# constraints/airflow-<version>.txt, so that release's cell of the version matrix installs the same
# packages every time.
#
# Airflow publishes such constraint files itself; where they cannot be fetched, this rebuilds an
# equivalent from PyPI in two steps with `uv pip compile`:
#   1. Airflow and the provider's runtime dependencies as PyPI offered them on the day after the
#      release (--exclude-newer): what a user installing that release with its constraints gets;
#   2. the test tools (pytest, hypothesis, schemathesis, ...) as of TOOLS_DAY, within those pins:
#      they never reach a user's deployment, and old releases of them miss fixes the suite relies on.
#
# Usage: scripts/compile-constraints.sh [VERSION ...]   (default: every release in RELEASES)
# Environment: UV (default: uv on PATH, else .venv/bin/uv); TOOLS_DAY (default: today, UTC).
set -euo pipefail
cd "$(dirname "$0")/.."

# Airflow release -> the day after its upload to PyPI (UTC). Add a line here to test a new release.
declare -A RELEASES=(
    [3.0.6]=2025-08-30
    [3.1.8]=2026-03-12
    [3.2.2]=2026-05-30
    [3.3.2]=2026-09-18
)

UV=${UV:-$(command -v uv || echo .venv/bin/uv)}
TOOLS_DAY=${TOOLS_DAY:-$(date -u +%F)}
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
    mapfile -t versions < <(printf '%s\n' "${!RELEASES[@]}" | sort -V)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p constraints
for version in "${versions[@]}"; do
    day=${RELEASES[$version]:-}
    if [ -z "$day" ]; then
        echo "compile-constraints: no release day known for Airflow $version; add it to RELEASES" >&2
        exit 2
    fi
    out="constraints/airflow-$version.txt"
    echo "apache-airflow==$version" >"$work/pin.txt"
    common=(--quiet --python-version 3.11 --no-header --no-annotate)
    "$UV" pip compile "${common[@]}" pyproject.toml --constraint "$work/pin.txt" \
        --exclude-newer "${day}T00:00:00Z" --output-file "$work/runtime.txt"
    "$UV" pip compile "${common[@]}" pyproject.toml --extra test --constraint "$work/runtime.txt" \
        --exclude-newer "${TOOLS_DAY}T00:00:00Z" --output-file "$work/all.txt"
    {
        echo "# Airflow $version: runtime dependencies as of $day, test tools as of $TOOLS_DAY (UTC)."
        echo "# Regenerate: make constraints VERSIONS=$version (scripts/compile-constraints.sh)"
        cat "$work/all.txt"
    } >"$out"
    echo "compile-constraints: wrote $out ($(grep -c '==' "$out") pins)"
done

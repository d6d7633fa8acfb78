#!/usr/bin/env bash
# Runs the Python test suite (sets up the venv first if needed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
[ -x .venv/bin/pytest ] || ./setup.sh
exec .venv/bin/python -m pytest -q "$@"

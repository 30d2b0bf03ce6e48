#!/usr/bin/env bash
# Set up everything the test suite needs and run it: bash scripts/run_tests.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
eval "$(bash scripts/pg_throwaway.sh start)"
trap 'bash scripts/pg_throwaway.sh stop "$GRIDTOOL_TEST_PG_DIR"' EXIT
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Runs the benchmarks (bench/README.md): installs wrk first when it is missing and we may (root + apt-get),
# then `dotnet run -c Release --project bench/Tallystick.Bench -- "$@"`. Without wrk the bench falls back to its
# built-in HttpClient load generator, which costs more CPU on the same cores as the server.
#   bench/run.sh                 all phases, default sizes (a few minutes)
#   bench/run.sh --quick         smoke check (about a minute)
#   bench/run.sh http batch      chosen phases; --full ingests 10M deltas in the memory phase
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing wrk (apt-get)..." >&2
    if ! { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }; then
      echo "bench: could not install wrk; using the built-in load generator" >&2
    fi
  else
    echo "bench: wrk not found and cannot install it here; using the built-in load generator" >&2
  fi
fi

exec dotnet run -c Release --project "$root/bench/Tallystick.Bench" -- "$@"

#!/usr/bin/env bash
# Runs the SMP back end on this machine: Azurite for storage, then the Functions host.
# Usage: tools/run-local.sh            (Ctrl+C stops both)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
app="$repo/src/Smp.Functions"
data="$repo/.local"

need() { command -v "$1" >/dev/null 2>&1 || { echo "Missing prerequisite: $1. $2" >&2; exit 1; }; }
need dotnet "Install the .NET 10 SDK: https://dotnet.microsoft.com/download"
need node "Install Node.js 22 or later (the pinned Azurite asks for it): https://nodejs.org"
need npm "npm comes with Node.js."
need func "Install Azure Functions Core Tools 4: npm install -g azure-functions-core-tools@4 (or see https://learn.microsoft.com/azure/azure-functions/functions-run-local)"

echo "Installing the pinned Azurite (tools/azurite) ..."
npm ci --prefix "$repo/tools/azurite" --no-audit --no-fund --loglevel=error

if [ ! -f "$app/local.settings.json" ]; then
  echo "Creating src/Smp.Functions/local.settings.json from local.settings.sample.json (edit it to taste; it is never committed)."
  cp "$repo/local.settings.sample.json" "$app/local.settings.json"
fi

mkdir -p "$data/azurite" "$data/mail" "$data/secrets"
echo "Starting Azurite (blob 10000, queue 10001, table 10002); data in .local/azurite ..."
"$repo/tools/azurite/node_modules/.bin/azurite" --silent --skipApiVersionCheck --disableTelemetry \
  --location "$data/azurite" --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 &
azurite_pid=$!
trap 'kill $azurite_pid 2>/dev/null || true' EXIT

echo "Building and starting the Functions host ..."
dotnet build "$app" -c Debug --nologo -v quiet
cd "$app/bin/Debug/net10.0"
cp "$app/local.settings.json" .
func start

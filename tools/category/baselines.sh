#!/usr/bin/env bash
# The category-level baseline table: CCA and semantic matching on ../shared/data/wikipedia (shipped LDA-10 text
# features and TF-IDF from the raw texts), standard protocol and extendable protocol (5 random 5/5 seen/unseen
# splits, unseen and generalised). Prints one JSON line per row (benchmarks' format) on stdout, progress and the
# markdown table on stderr.
#   tools/category/baselines.sh [--splits N] [--seed S] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec dotnet run -c Release --project benchmarks/CrossModal.Benchmarks -- category-baselines "$@"

#!/usr/bin/env bash
# Create (or reuse) a virtual environment in .venv with mlem_neuro and its test tools.
#
# torch is installed first, pinned to its CPU build (torch==2.13.0), so that pip does
# not fetch a multi-GB CUDA build. For a GPU machine, choose the torch requirement:
#     MLEM_NEURO_TORCH="torch" bash scripts/bootstrap.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "${MLEM_NEURO_TORCH:-torch==2.13.0}"
.venv/bin/python -m pip install --quiet -e ".[dev,llm]"

#!/usr/bin/env bash
# Usage: bash tools/need_disk.sh DIR WHAT -> exit 1 with one line unless DIR's disk has the ~7 GB that a new venv takes
# (torch's CUDA build with its libraries is ~6.5 GB): said before pip fails half-way with "No space left on device"
free_kb=$(df -Pk "$1" | awk 'NR==2 {print $4}')
if [ "$free_kb" -lt $((7 * 1024 * 1024)) ]; then
  echo "$2 needs about 7 GB of disk, $(realpath "$1") has $((free_kb / 1024 / 1024)) GB free: free some space (old clones, pip caches) and re-run" >&2
  exit 1
fi

#!/bin/sh
# Starts the learner, or resumes its run after a restart (the run folder remembers --distributed).
# Usage: npcforge-learner <game> <redis-url> [train flags...]
set -e
game="$1"; url="$2"; shift 2
run=$(ls -d /runs/*/ 2>/dev/null | head -n 1)
if [ -n "$run" ]; then
  exec npcforge train --resume "$run" --no-progress
fi
exec npcforge train "$game" --distributed "$url" --out /runs --no-progress "$@"

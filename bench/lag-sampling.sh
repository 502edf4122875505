# Sourced by the write-tracking benchmarks: `sample FILE SECONDS` appends the source
# server's lag and backlog (ferry source list, through lag-sample.py) every 0.5 s for
# SECONDS to FILE. Needs $FERRY_BIN and $work/ws.
sample() {
  local file=$1 until=$(( $(date +%s) + $2 ))
  : > "$file"
  while [ "$(date +%s)" -lt "$until" ]; do
    "$FERRY_BIN" source list --workspace "$work/ws" --output json 2>/dev/null | python3 bench/lag-sample.py >> "$file" || true
    sleep 0.5
  done
}

# Scans the server logs the test suite captured (target/test-logs: the integration tests' and
# the Playwright server's) for anything that signs someone in: the tokens the tests were
# issued, any magic-link token shape (43 URL-safe characters), a `token=` query, or a JWT.
# Exits non-zero, printing the offending lines, if it finds one.
check_logs() {
  local dir=target/test-logs
  local logs=("$dir"/*.log)
  if [ ! -e "${logs[0]}" ]; then
    echo "error: no captured server logs in $dir: the log check would prove nothing" >&2
    return 1
  fi
  local found=0
  # Blank lines are not tokens (and as patterns would match every line).
  local issued="$dir/issued-tokens.nonblank"
  grep -v '^[[:space:]]*$' "$dir/issued-tokens.txt" > "$issued" 2>/dev/null || true
  if [ -s "$issued" ] && grep -F -n -f "$issued" "${logs[@]}" >&2; then
    found=1
  fi
  if grep -E -n 'token=[A-Za-z0-9_-]{8,}|(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{43}([^A-Za-z0-9_-]|$)|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.' "${logs[@]}" >&2; then
    found=1
  fi
  if [ "$found" -ne 0 ]; then
    echo "error: a sign-in token or JWT reached a log line (above)" >&2
    return 1
  fi
  echo "log check: $(cat "${logs[@]}" | wc -l) lines from $(ls "${logs[@]}" | wc -l) files, no tokens" >&2
}

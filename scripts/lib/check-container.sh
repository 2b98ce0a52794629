# Checks deploy/Containerfile against the release build: every file its final stage copies
# from the build stage (`COPY --from=build /app/<path> ...`) must be something
# `cargo leptos build --release` made, so an image built from it would start. (No container
# engine runs on these machines, so the image itself is never built here.)
check_container() {
  local file=deploy/Containerfile copied=0 missing=0 path
  while read -r path; do
    copied=$((copied + 1))
    if [ ! -e "$path" ]; then
      echo "error: $file copies /app/$path, which the release build did not make" >&2
      missing=$((missing + 1))
    fi
  done < <(awk '$1 == "COPY" && $2 == "--from=build" { sub("^/app/", "", $3); print $3 }' "$file")
  if [ "$copied" -lt 4 ]; then
    echo "error: $file copies $copied paths from the build stage; expected the binary, hash.txt, site/ and Leptos.toml" >&2
    return 1
  fi
  [ "$missing" -eq 0 ] && echo "container file: the $copied paths it copies exist after the release build" >&2
  return "$missing"
}

# Sourced by .ci/run. Derives an apt source for "<codename>-backports" from the machine's own
# sources entries (the mirror it already uses, with the same signing key), so no mirror host
# name is written here. Prints a deb822 paragraph, or nothing when no entry serves <codename>.
#   backports_paragraph CODENAME [SOURCES_DIR] [SOURCES_LIST]
backports_paragraph() {
  local codename=$1 dir=${2:-/etc/apt/sources.list.d} list=${3:-/etc/apt/sources.list} entry="" f
  local files=()
  for f in "$dir"/*.sources; do [ -f "$f" ] && files+=("$f"); done
  if [ ${#files[@]} -gt 0 ]; then
    # deb822: the first "Types: deb" paragraph whose Suites include exactly CODENAME.
    entry=$(awk -v s="$codename" '
      function val(line) { sub(/^[^:]*:[ \t]*/, "", line); return line }
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; signed = ""; types = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^[ \t]*#/) continue
          if ($i ~ /^URIs:/) uris = val($i)
          else if ($i ~ /^Suites:/) suites = " " val($i) " "
          else if ($i ~ /^Signed-By:/) signed = val($i)
          else if ($i ~ /^Types:/) types = " " val($i) " "
          else if ($i ~ /^Enabled:/) enabled = val($i)
        }
        if (enabled != "no" && index(types, " deb ") && index(suites, " " s " ") && uris != "") { print uris "\t" signed; exit }
      }' "${files[@]}")
  fi
  if [ -z "$entry" ]; then
    # One-line format: deb [options] URI SUITE COMPONENTS...
    entry=$(cat "$list" "$dir"/*.list 2>/dev/null | awk -v s="$codename" '
      $1 == "deb" {
        i = 2; opts = ""
        if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
        if ($(i + 1) == s) {
          signed = ""
          if (match(opts, /signed-by=[^] ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
          print $i "\t" signed; exit
        }
      }')
  fi
  [ -n "$entry" ] || return 0
  printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\n' "${entry%%$'\t'*}" "$codename"
  if [ -n "${entry#*$'\t'}" ]; then printf 'Signed-By: %s\n' "${entry#*$'\t'}"; fi
}

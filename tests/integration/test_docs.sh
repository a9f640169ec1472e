#!/usr/bin/env bash
# The three descriptions of framefs agree: every -o option and every frame
# name key that `framefs --help` lists appears in README.md and in the man
# page (fs/framefs.1), and the man page renders with man -l without warnings.
. "$(dirname "$0")/../lib.sh"

require_framefs
MANPAGE=$REPO_DIR/fs/framefs.1
README=$REPO_DIR/README.md

help=$("$FRAMEFS" --help 2>&1)
# framefs's own lines: "    name=VALUE   text" or "    flag   text", before FUSE's
mapfile -t options < <(printf '%s\n' "$help" | sed -n '/^framefs options/,/^$/p' |
    awk '/^    [a-z_]+/ { sub(/=.*/, "", $1); print $1 }')
mapfile -t keys < <(printf '%s\n' "$help" | sed -n '/^frame name keys/,/^$/p' |
    awk '/^    [a-z_]+=/ { sub(/=.*/, "", $1); print $1 }')
[ "${#options[@]}" -ge 8 ] && pass "--help lists ${#options[@]} options: ${options[*]}" ||
    fail "--help lists only ${#options[@]} options (${options[*]})"
[ "${#keys[@]}" -ge 4 ] && pass "--help lists ${#keys[@]} frame name keys: ${keys[*]}" ||
    fail "--help lists only ${#keys[@]} frame name keys (${keys[*]})"

# man strips bold and underline through col(1) only where bsdextrautils is
# installed; keep the formatting always and strip it here (overstrike, SGR).
manpage=$(MAN_KEEP_FORMATTING=1 MANWIDTH=200 man -l "$MANPAGE" 2>"$WORK/man.err" |
    sed -e 's/.\x08//g' -e 's/\x1b\[[0-9;]*m//g')
[ -n "$manpage" ] && [ ! -s "$WORK/man.err" ] && pass "man -l renders fs/framefs.1 without warnings" ||
    fail "man -l fs/framefs.1: $(head -c 300 "$WORK/man.err")"
warn=$(man --warnings -l "$MANPAGE" 2>&1 >/dev/null)
[ -z "$warn" ] && pass "groff finds nothing to warn about" || fail "man --warnings: $(printf '%s' "$warn" | head -c 300)"

missing=""
for o in "${options[@]}"; do
    grep -q -- "\`$o[=\`]" "$README" || missing+=" README:$o"
    grep -qE "(^|[[:space:]])$o(=|[[:space:]]|$)" <<<"$manpage" || missing+=" man:$o"
done
[ -z "$missing" ] && pass "every option is in README.md and the man page" || fail "options missing:$missing"
missing=""
for k in "${keys[@]}"; do
    grep -q -- "\`$k[=\`]" "$README" || missing+=" README:$k"
    grep -qE "(^|[[:space:](,])$k([[:space:]=),]|$)" <<<"$manpage" || missing+=" man:$k"
done
[ -z "$missing" ] && pass "every frame name key is in README.md and the man page" || fail "keys missing:$missing"

# README's key table is checked against the key table (through --help): one
# row per key, its value syntax spelled the same, and "mount-wide" yes
# exactly for the keys --help marks with "*".
wrong=""
while read -r spec rest; do
    md=${spec//|/\\|}
    row=$(grep -F -- "| \`$md\` |" "$README" | head -1)
    if [ -z "$row" ]; then
        wrong+=" no-row:$spec"
        continue
    fi
    mw=no
    case $rest in *" *") mw=yes ;; esac
    last=$(printf '%s\n' "$row" | awk -F' [|] ' '{ print $NF }')
    case $last in "$mw"*) ;; *) wrong+=" mount-wide:$spec($mw, README: $last)" ;; esac
done < <(printf '%s\n' "$help" | sed -n '/^frame name keys/,/^$/p' | grep -E '^    [a-z_]+=')
rows=$(sed -n '/^## Frame names/,/^## /p' "$README" | grep -cE '^[|] `[a-z_]+=')
[ -z "$wrong" ] && [ "$rows" -eq "${#keys[@]}" ] &&
    pass "README's key table has one row per key ($rows), syntax and mount-wide as the key table" ||
    fail "README's key table disagrees with --help:$wrong (rows $rows, keys ${#keys[@]})"

[ "$(failures)" -eq 0 ]

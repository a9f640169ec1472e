# shellcheck shell=bash
# Helpers shared by the robustness tests (test_broken_media, test_hostile_names,
# test_source_change, test_readonly).  Source it after lib.sh:
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$(dirname "$0")/../lib_robust.sh"

# error_is_specific TEXT: TEXT is a usable error message: non-empty, one line
# of printable characters, at most 1000 bytes, and neither as a whole nor
# after its last ": " a placeholder that says nothing ("unknown error",
# "Error number -5 occurred", "Success", "failed", ...).
error_is_specific() {
    local e=$1 part st=0
    local re='^(error|errors|failed|failure|fail|unknown|unknown error( occurred)?|unknown error -?[0-9]+|generic error|internal error|an error occurred|decode error|decoding error|error number -?[0-9]+ occurred|error -?[0-9]+|-?[0-9]+|success|\(null\)|null|none|n/a|\?|)$'
    [ -n "$e" ] && [ ${#e} -le 1000 ] || return 1
    case $e in *[![:print:]]*) return 1 ;; esac
    shopt -s nocasematch
    for part in "$e" "${e##*: }"; do
        part=${part%.}
        [[ $part =~ $re ]] && st=1
    done
    shopt -u nocasematch
    return $st
}

# tree_snapshot DIR: everything a write could change under DIR (names, types,
# sizes, modes, owners, mtimes, symlink targets, file contents), sorted.
# Fifos and devices are listed, never opened.
tree_snapshot() {
    (cd "$1" && find . -printf '%p %y %s %m %U %G %T@ %l\n' | sort &&
        find . -type f -exec md5sum {} + | sort)
}

# find_python: set PYTHON to a python3 that other users can run too
# (/usr/bin/python3 first); returns 1 when there is none.
find_python() {
    PYTHON=""
    if [ -x /usr/bin/python3 ]; then
        PYTHON=/usr/bin/python3
    elif command -v python3 >/dev/null; then
        PYTHON=$(command -v python3)
    fi
    [ -n "$PYTHON" ]
}

# frame_is LABEL PNG_PATH ORACLE INDEX [REL]: the frame file at PNG_PATH (on
# the mount) is oracle frame INDEX: user.result succeeded, user.actual_time =
# REL (the oracle's pts_time_rel of INDEX unless given; not checked when REL
# is "-"), and its pixels have the oracle's md5.  Prints one PASS or FAIL.
frame_is() {
    local label=$1 f=$2 oracle=$3 idx=$4 rel=${5-} want res act got
    want=$(awk -v i="$idx" '!/^#/ && $1 == i { print $7 }' "$oracle")
    [ -n "$rel" ] || rel=$(awk -v i="$idx" '!/^#/ && $1 == i { print $5 }' "$oracle")
    res=$(xattr_get "$f" user.result)
    act=$(xattr_get "$f" user.actual_time)
    if [ "$res" != succeeded ]; then
        fail "$label: user.result '$res' ($(xattr_get "$f" user.error)), want succeeded (oracle frame #$idx)"
        return 1
    fi
    if ! t cat "$f" >"$WORK/.frame_is.png" 2>"$WORK/.frame_is.err"; then
        fail "$label: cannot read: $(tr '\n' ' ' <"$WORK/.frame_is.err")"
        return 1
    fi
    got=$(raw_md5 "$WORK/.frame_is.png")
    if [ "${got%% *}" = "$want" ] && { [ "$rel" = - ] || [ "$act" = "$rel" ]; }; then
        pass "$label: oracle frame #$idx (actual_time $act)"
    else
        fail "$label: got pixels ${got%% *} at actual_time '$act', want oracle frame #$idx ($want at $rel)"
        return 1
    fi
}

# frame_fails LABEL PNG_PATH [ERE]: the frame exists but failed: user.result
# failed, a specific user.error (matching the extended regex ERE, case
# insensitive, when given), no user.actual_time, size 0, open gives EIO.
# Prints one PASS (with the error) or FAIL.
frame_fails() {
    local label=$1 f=$2 re=${3-} res err size op act why=""
    res=$(xattr_get "$f" user.result)
    err=$(xattr_get "$f" user.error)
    size=$(t stat -c %s -- "$f" 2>&1)
    op=$(t "$FSQ" open "$f" r 2>&1 >/dev/null | tail -n 1)
    act=$(t "$FSQ" getxattr "$f" user.actual_time 64 2>&1 >/dev/null | tail -n 1)
    [ "$res" = failed ] || why+=" user.result '$res';"
    error_is_specific "$err" || why+=" user.error '$err' is not specific;"
    if [ -n "$re" ] && ! printf '%s' "$err" | grep -qiE -- "$re"; then
        why+=" user.error '$err' does not match /$re/;"
    fi
    [ "$size" = 0 ] || why+=" size '$size';"
    [ "$op" = "err EIO" ] || why+=" open gives '$op', want EIO;"
    [ "$act" = "err ENODATA" ] || why+=" user.actual_time: '$act', want ENODATA;"
    if [ -z "$why" ]; then
        pass "$label: failed, user.error '$err'"
    else
        fail "$label:$why"
        return 1
    fi
}

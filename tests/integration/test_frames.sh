#!/usr/bin/env bash
# Frame accuracy: for every generated video, ask framefs for frames at many
# times and compare each answer with the oracle (a full decode by the ffmpeg
# CLI, tests/oracle.sh): the pixels (md5 of png2raw output vs framemd5), the
# PNG's size and layout, user.actual_time, user.requested_time, user.result
# and user.error.  The expected frame comes from SPEC's selection rule applied
# to the oracle's frame list (oracle_expect in lib.sh), never from framefs.
#
# Probes per video (SANITIZED=1: own times of every third frame only): t=0;
# every frame's own time (6 decimals); 0.4 ms before
# every frame boundary (on a millisecond time base that rounds to the
# boundary itself); 20 pseudo-random times (fixed seed); the middle of the
# last frame; clock syntax; the exact end, just past it and far past it
# (must fail: size 0, EIO); tolerance probes (tol, before/after, inf).
# Then one video again with a mount-wide default tolerance (-o tol=...).
. "$(dirname "$0")/../lib.sh"

require_framefs
ensure_media

SEED=${SEED:-20240611}
MNT=$WORK/mnt
mount_framefs "$MEDIA_DIR" "$MNT" || exit 1

# Probe list for one oracle: lines "NAME KIND T BEFORE AFTER".
make_probes() {
    awk -v seed="$SEED" -v san="${SANITIZED:-0}" '
    function f6(x) { s = sprintf("%.6f", x); return s == "-0.000000" ? "0.000000" : s }
    function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    function probe(name, kind, t, b, a) { print name, kind, t, b, a }
    /^#/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); H[kv[1]] = kv[2] }
        next
    }
    { n++; P[n] = $2 + 0; num = $3 + 0; den = $4 + 0; R[n] = $5; D[n] = $6 + 0 }
    END {
        start = H["start_time"] + 0
        end_rel = (P[n] + D[n]) * num / den - start
        for (i = 1; i <= length(H["file"]); i++) seed = (seed * 31 + i) % 2147483647
        probe("t=0.png", "zero", "0", 0, 0)
        for (i = 1; i <= n; i++) {
            if (R[i] + 0 < 0) continue
            # Under the sanitizers every third frame (and the first and last):
            # the same kinds of probe, fewer of each.
            if (san == 1 && i > 1 && i < n && i % 3) continue
            probe("t=" R[i] ".png", "own", R[i], 0, 0)
            if (i > 1) {
                tb = f6(P[i] * num / den - start - 0.0004)
                if (tb + 0 >= 0) probe("t=" tb ".png", "before", tb, 0, 0)
            }
        }
        for (k = 0; k < 20; k++) {
            tr = f6(rnd() * end_rel)
            probe("t=" tr ".png", "random", tr, 0, 0)
        }
        tl = f6((P[n] + D[n] / 2) * num / den - start)
        probe("t=" tl ".png", "last", tl, 0, 0)
        if (end_rel > 1.5) {
            probe("t=00:00:01.500.png", "clock", "1.5", 0, 0)
            probe("t=00:01.5.png", "clock", "1.5", 0, 0)
            probe("t=0:00:01.5.png", "clock", "1.5", 0, 0)
        }
        te = f6(end_rel)
        probe("t=" te ".png", "end", te, 0, 0)
        tp = f6(end_rel + 0.25)
        probe("t=" tp ".png", "past", tp, 0, 0)
        probe("t=100000.png", "past", "100000", 0, 0)
        # Tolerance probes: symmetric, asymmetric, infinite; the ones whose
        # answer SPEC leaves open (AMBIG) are dropped by the caller.
        ntol = split("0.01 0.03 0.1 0.3 0.7 2", tols, " ")
        for (k = 0; k < 18; k++) {
            tt = f6(rnd() * end_rel)
            x = tols[1 + int(rnd() * ntol)]
            m = k % 6
            if (m < 3) probe("t=" tt ",tol=" x ".png", "tol", tt, x, x)
            else if (m == 3) probe("t=" tt ",before=0,after=" x ".png", "tol", tt, 0, x)
            else if (m == 4) probe("t=" tt ",before=" x ",after=0.png", "tol", tt, x, 0)
            else probe("t=" tt ",tol=" x ",before=0.png", "tol", tt, 0, x)
        }
        tt = f6(rnd() * end_rel)
        probe("t=" tt ",tol=inf.png", "tol", tt, "inf", "inf")
        probe("t=" f6(end_rel / 2) ",tol=inf.png", "tol", f6(end_rel / 2), "inf", "inf")
        probe("t=" f6(end_rel / 3) ",before=inf,after=0.png", "tol", f6(end_rel / 3), "inf", 0)
    }' "$1"
}

# Values of a frame's user.* attributes: sets A_result A_actual A_requested
# A_error (A_has_error=1 when user.error exists), or returns 1.
read_attrs() {
    local dump line key val
    A_result="" A_actual="" A_requested="" A_error="" A_has_error=0 A_names=""
    dump=$(t getfattr --absolute-names -d -- "$1" 2>&1) || { A_dump=$dump; return 1; }
    while IFS= read -r line; do
        case $line in user.*=*) ;; *) continue ;; esac
        key=${line%%=*}; val=${line#*=}; val=${val#\"}; val=${val%\"}
        A_names+="$key "
        case $key in
        user.result) A_result=$val ;;
        user.actual_time) A_actual=$val ;;
        user.requested_time) A_requested=$val ;;
        user.error) A_error=$val; A_has_error=1 ;;
        esac
    done <<<"$dump"
    return 0
}

abs() { local v=$1; echo "${v#-}"; }

# window_note ORACLE INDEX T BEFORE AFTER: whether oracle frame INDEX meets
# the window [T - BEFORE, T + AFTER] (to tell "wrong choice" from "wrong frame").
window_note() {
    awk -v i="$2" -v t="$3" -v b="$4" -v a="$5" '
    /^#/ { for (k = 2; k <= NF; k++) { split($k, kv, "="); if (kv[1] == "start_time") st = kv[2] + 0 } next }
    { n++; p[n - 1] = $2 * $3 / $4 - st; d[n - 1] = $6 * $3 / $4 }
    END {
        if (!((i + 0) in p)) exit
        nx = ((i + 1) in p) ? p[i + 1] : p[i] + d[i]
        lo = (b == "inf") ? -1e30 : t - b; hi = (a == "inf") ? 1e30 : t + a
        if (p[i] <= hi && nx > lo) print "it meets the window, but the rule picks another frame"
        else print "it does not even meet the window"
    }' "$1"
}

# probe_one VIDEO ORACLE NAME KIND T EXPECTED REL_US HALF_TICK_US BEFORE AFTER [MNT]
probe_one() {
    local video=$1 oracle=$2 name=$3 kind=$4 treq=$5 exp=$6 rel_us=$7 half=$8 tb=$9 ta=${10} mnt=${11:-$MNT}
    local f="$mnt/$video/$name" label="$video $name [$kind]" problems=() size got png got_md5 want_md5 dims d
    if ! read_attrs "$f"; then
        fail "$label: getfattr failed: $(echo "$A_dump" | head -n 2 | tr '\n' ' ')"
        return
    fi
    if [ -n "$A_requested" ]; then
        d=$(( $(us "$A_requested" 2>/dev/null || echo 999999999) - $(us "$treq") ))
        [ "$(abs "$d")" -le $((half + 1)) ] ||
            problems+=("user.requested_time=$A_requested, asked $treq")
    else
        problems+=("no user.requested_time")
    fi
    size=$(t stat -c %s -- "$f" 2>&1) || { problems+=("stat failed: $size"); size=-1; }
    if [ "$exp" = FAIL ]; then
        [ "$A_result" = failed ] || problems+=("user.result='$A_result', want failed")
        [ "$A_has_error" = 1 ] && [ -n "$A_error" ] || problems+=("no user.error")
        [ "$size" = 0 ] || problems+=("size $size, want 0")
        got=$(errno_of cat -- "$f")
        [ "$got" = "Input/output error" ] || problems+=("cat: '$got', want EIO")
    else
        [ "$A_result" = succeeded ] || problems+=("user.result='$A_result' (user.error='$A_error'), want succeeded")
        [ "$A_has_error" = 0 ] || problems+=("user.error present on success: '$A_error'")
        if [ -n "$A_actual" ]; then
            d=$(( $(us "$A_actual" 2>/dev/null || echo 999999999) - rel_us ))
            [ "$(abs "$d")" -le 1 ] || problems+=("user.actual_time=$A_actual, want $(awk -v u="$rel_us" 'BEGIN { printf "%.6f", u / 1e6 }')")
        else
            problems+=("no user.actual_time")
        fi
        png=$WORK/frame.png
        rm -f "$png"
        if ! got=$(t cat -- "$f" 2>&1 >"$png"); then
            problems+=("cat failed: $got")
        else
            [ "$(stat -c %s "$png")" = "$size" ] || problems+=("st_size $size but read $(stat -c %s "$png") bytes")
            want_md5=$(awk -v i="$exp" '!/^#/ && $1 == i { print $7 }' "$oracle")
            dims="$(oracle_header "$oracle" width) $(oracle_header "$oracle" height)"
            case $(oracle_header "$oracle" out_pix_fmt) in rgba) dims+=" 4" ;; *) dims+=" 3" ;; esac
            if ! got=$(raw_md5 "$png"); then
                problems+=("not a valid 8-bit RGB(A) PNG: $got")
            else
                got_md5=${got%% *}
                [ "${got#* }" = "$dims" ] || problems+=("PNG is ${got#* } (w h channels), want $dims")
                if [ "$got_md5" != "$want_md5" ]; then
                    d=$(awk -v m="$got_md5" '!/^#/ && $7 == m { print $1; exit }' "$oracle")
                    if [ -z "$d" ]; then
                        problems+=("pixels differ from oracle frame #$exp and match no oracle frame")
                    else
                        problems+=("pixels are oracle frame #$d, not #$exp; $(window_note "$oracle" "$d" "$treq" "$tb" "$ta")")
                    fi
                fi
            fi
        fi
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        if [ "$exp" = FAIL ]; then
            pass "$label: fails as it should"
        else
            pass "$label: frame #$exp t=$A_actual"
        fi
    else
        local IFS=';'
        fail "$label: ${problems[*]}"
    fi
}

# run_probes VIDEO ORACLE PROBES [MNT]: ask every probe, print a summary.
run_probes() {
    local video=$1 oracle=$2 probes=$3 mnt=${4:-$MNT} before after name kind tr exp rel half tb ta n=0 ambig=0
    before=$(failures)
    while read -r name kind tr exp rel half tb ta; do
        if [ "$exp" = AMBIG ]; then
            ambig=$((ambig + 1))
            continue
        fi
        mount_alive "$mnt" || exit 1
        n=$((n + 1))
        probe_one "$video" "$oracle" "$name" "$kind" "$tr" "$exp" "$rel" "$half" "$tb" "$ta" "$mnt"
    done <"$probes"
    after=$(failures)
    echo "# $video${4:+ (second mount)}: $n probes, $((after - before)) failed ($ambig ambiguous ones not asked)"
}

mapfile -t videos < <(media_videos)
[ ${#videos[@]} -ge 5 ] || fail "gen.sh made only ${#videos[@]} videos"

for video in "${videos[@]}"; do
    oracle=$(oracle_of "$MEDIA_DIR/$video") || continue
    if [ "$(oracle_header "$oracle" monotonic)" != 1 ]; then
        skip "$video: oracle timestamps are not strictly increasing; rule undefined here"
        continue
    fi
    probes=$WORK/probes.$(echo "$video" | tr / _)
    make_probes "$oracle" | oracle_expect "$oracle" >"$probes"
    run_probes "$video" "$oracle" "$probes"
done

# Mount-wide default tolerance: -o tol=X applies when a name gives none, and
# a name's own tol/before/after override it.
video=h264_bframes.mp4
oracle=$(oracle_of "$MEDIA_DIR/$video")
MNT2=$WORK/mnt-tol
if [ -n "$oracle" ] && mount_framefs "$MEDIA_DIR" "$MNT2" tol=0.5; then
    probes=$WORK/probes.tol
    {
        echo "t=1.3.png default 1.3 0.5 0.5"
        echo "t=2.7.png default 2.7 0.5 0.5"
        echo "t=0.3.png default 0.3 0.5 0.5"
        echo "t=1.3,tol=0.png override 1.3 0 0"
        echo "t=1.3,before=0.png override 1.3 0 0.5"
        echo "t=2.7,after=0.png override 2.7 0.5 0"
        echo "t=2.7,tol=0.1.png override 2.7 0.1 0.1"
    } | oracle_expect "$oracle" >"$probes"
    run_probes "$video" "$oracle" "$probes" "$MNT2"
    unmount_framefs "$MNT2"
fi

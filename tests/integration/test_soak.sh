#!/usr/bin/env bash
# Soak: exact-frame reads as a new user's script makes them, for a long time.
#
# Corpus: every video of ${SHARED_MEDIA:-../shared/media} (real-world files,
# some broken on purpose) and of the hazard corpus (tests/media/hazards.sh),
# copied into one source directory and mounted together.
#
# Each SOAK_ROUNDS_PER_MOUNT (2) rounds mount that directory afresh (the
# options alternate: the defaults, then cache_size=8M, where frames are
# evicted between a lookup and a later open); a round picks 20 names per
# file with the round's seed
# (t=0, t=0.0, frame pts with 6 decimals, 0.4 ms either side of a frame
# boundary, random times, the end, past the end; now and then a name read
# three reads before is read again, "again") and reads them with `cp`,
# one process per name, as a script would: the files in a shuffled order,
# in groups of 8 taken in turn one read after another, with 4 readers at a
# time each on its own file, and with 4 readers sharing each file's names.
# Each video directory is listed (a batch) and its user.result read first.  Rounds go on with new
# seeds until SOAK_SECONDS (default 120; 60 with SANITIZED=1) have passed;
# a round is cut short at a file boundary when the time is up.
#
# Every read must either succeed with the oracle's pixels (tests/oracle.sh:
# the ffmpeg CLI's full decode; the expected frame by SPEC's rule,
# oracle_expect in lib.sh) and size, or, past the end (or in a file the
# oracle cannot decode), fail with EIO on a name that exists with
# user.result=failed and a user.error.  Probes whose answer SPEC leaves open
# (AMBIG) or that depend on a frame without pts are not asked; files whose
# oracle is ambiguous or not monotonic are left out (test_accuracy documents
# them).  Any other outcome is a FAIL line with the file, the name, cp's
# error, the name's user.result and user.error (read right after), and the
# framefs log line about it if any.  At the end: one PASS or FAIL line per
# round and a total (reads per kind, time per read, the slowest reads).
#
# Environment: SOAK_SECONDS, SEED (first round's seed), SHARED_MEDIA,
# HAZARD_DIR, SOAK_OPTS (a space-separated list of -o option sets the mounts
# cycle through; "-" is the defaults), SOAK_READERS (4),
# SOAK_ROUNDS_PER_MOUNT.
. "$(dirname "$0")/../lib.sh"

require_framefs

SOAK_SECONDS=${SOAK_SECONDS:-$([ "${SANITIZED:-0}" = 1 ] && echo 60 || echo 120)}
SEED=${SEED:-$((RANDOM * 32768 + RANDOM))}
SOAK_READERS=${SOAK_READERS:-4}
SOAK_ROUNDS_PER_MOUNT=${SOAK_ROUNDS_PER_MOUNT:-2}
SOAK_OPTS=${SOAK_OPTS:-"- cache_size=8M"}
HAZARD_DIR=${HAZARD_DIR:-$BUILD/tests/hazards}
SHARED_MEDIA=${SHARED_MEDIA:-../shared/media}
case $SHARED_MEDIA in /*) ;; *) SHARED_MEDIA=$REPO_DIR/$SHARED_MEDIA ;; esac
# framefs's default video_ext (README)
VIDEO_EXT=" mp4 m4v mov qt mkv webm avi wmv asf flv f4v mpg mpeg mpe m2v m1v vob ts m2ts mts m2t 3gp 3g2 ogv ogg ogm mxf dv nut y4m h264 264 h265 265 hevc ivf rm rmvb divx xvid gif apng mjpeg mjpg "
T_START=$SECONDS
note "seed $SEED, $SOAK_SECONDS s, option sets: $SOAK_OPTS"

if ! "$TESTS_DIR/media/hazards.sh" "$HAZARD_DIR" >/dev/null; then
    fail "tests/media/hazards.sh $HAZARD_DIR failed"
    exit 1
fi

# ---------------------------------------------------------------- corpus

SRC=$WORK/src
mkdir -p "$SRC"
add_dir() {   # DIR: copy its videos (framefs's default extensions) into $SRC
    local f ext
    for f in "$1"/*; do
        [ -f "$f" ] || continue
        ext=${f##*.}
        ext=${ext,,}
        if [ "$ext" = "$f" ] || [[ $VIDEO_EXT != *" $ext "* ]]; then continue; fi
        cp -- "$f" "$SRC/" || { fail "cannot copy $f"; exit 1; }
    done
}
add_dir "$HAZARD_DIR"
if [ -d "$SHARED_MEDIA" ]; then
    add_dir "$SHARED_MEDIA"
else
    skip "shared media directory $SHARED_MEDIA is absent: only the hazard corpus is read"
fi
mapfile -t FILES < <(cd "$SRC" && ls)
note "${#FILES[@]} videos"

# Oracles, 2 at a time (cached in $ORACLE_CACHE by content).
mkdir -p "$WORK/oracle"
running=0
for file in "${FILES[@]}"; do
    if [ "$running" -ge 2 ]; then
        wait -n
        running=$((running - 1))
    fi
    (
        o=$WORK/oracle/$file
        "$TESTS_DIR/oracle.sh" "$SRC/$file" >"$o.oracle" 2>"$o.err"
        echo $? >"$o.st"
    ) &
    running=$((running + 1))
done
wait

# Per file: "good" (probes from the oracle), "broken" (the oracle cannot
# decode it: every name must fail), or left out.
declare -A KIND
USED=()
for file in "${FILES[@]}"; do
    o=$WORK/oracle/$file
    if [ "$(cat "$o.st")" != 0 ] || [ ! -s "$o.oracle" ]; then
        if grep -q 'ffprobe decoded.*framemd5' "$o.err"; then
            note "left out: $file (the oracle's two decodes disagree)"
            continue
        fi
        KIND[$file]=broken
    elif awk '!/^#/ && $2 != "NA" { if (n++ && $2 + 0 <= p) bad = 1; p = $2 + 0 } END { exit !bad }' "$o.oracle" ||
        ! awk '!/^#/ && $2 != "NA" { n++ } END { exit !n }' "$o.oracle"; then
        note "left out: $file (oracle pts not increasing, or none)"
        continue
    else
        KIND[$file]=good
        grep -v '^[0-9]* NA ' "$o.oracle" >"$o.known"
    fi
    USED+=("$file")
done
note "${#USED[@]} videos read ($(printf '%s\n' "${KIND[@]}" | grep -c broken) broken)"

# ---------------------------------------------------------------- probes

# make_probes KNOWN FILE SEED: 20 lines "NAME KIND T 0 0" (oracle_expect input).
make_probes() {
    awk -v seed="$3" -v file="$2" '
    function f6(x,   s) { s = sprintf("%.6f", x); return s == "-0.000000" ? "0.000000" : s }
    function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    function probe(kind, t,   name) {
        if (t + 0 < 0 || np >= 20) return
        name = "t=" t ".png"
        if (name in seen) return
        seen[name] = 1
        np++
        print name, kind, t, 0, 0
    }
    /^#/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); H[kv[1]] = kv[2] } next }
    { n++; P[n] = $2 + 0; num = $3 + 0; den = $4 + 0; R[n] = $5; D[n] = $6 + 0 }
    END {
        if (!n) exit
        for (i = 1; i <= length(file); i++) seed = (seed * 31 + i * 7 + index("abcdefghijklmnopqrstuvwxyz0123456789", substr(file, i, 1))) % 2147483647
        if (seed <= 0) seed = 12345
        start = H["start_time"] + 0
        end_rel = (P[n] + D[n]) * num / den - start
        probe("zero", "0")
        probe("zero", "0.0")
        probe("past", f6(end_rel + 0.001))
        probe("end", f6(end_rel))
        if (rnd() < 0.5) probe("past", "100000")
        probe("own", f6(R[n] < 0 ? 0 : R[n]))
        for (k = 0; np < 20 && k < 200; k++) {
            i = 1 + int(rnd() * n)
            x = rnd()
            b = P[i] * num / den - start
            if (x < 0.25) probe("own", R[i] + 0 < 0 ? "0" : R[i])
            else if (x < 0.45) probe("boundary-", f6(b - 0.0004))
            else if (x < 0.65) probe("boundary+", f6(b + 0.0004))
            else probe("random", f6(rnd() * end_rel))
        }
    }' "$1"
}

# plan_file FILE SEED OUT: lines "NAME KIND EXPECT MD5 DIMS" (EXPECT: an
# oracle index, or FAIL; MD5/DIMS "-" for FAIL), the order shuffled.
plan_file() {
    local file=$1 seed=$2 out=$3 o=$WORK/oracle/$1 dims
    if [ "${KIND[$file]}" = broken ]; then
        printf '%s\n' "t=0.png zero FAIL - -" "t=0.0.png zero FAIL - -" "t=1.5.png random FAIL - -" >"$out"
        return
    fi
    dims="$(oracle_header "$o.oracle" width)x$(oracle_header "$o.oracle" height)x"
    case $(oracle_header "$o.oracle" out_pix_fmt) in rgba) dims+=4 ;; *) dims+=3 ;; esac
    make_probes "$o.known" "$file" "$seed" | oracle_expect "$o.known" | expect_map "$o.known" "$o.oracle" |
        awk -v dims="$dims" 'FILENAME == ARGV[1] { if ($0 !~ /^#/) MD5[$1] = $7; next }
            $4 == "AMBIG" || $4 == "NA" { next }
            { print $1, $2, $4, ($4 == "FAIL" ? "-" : MD5[$4]), ($4 == "FAIL" ? "-" : dims) }' "$o.oracle" - |
        awk -v s="$seed" '{ s = (s * 16807 + NR) % 2147483647; printf "%d %s\n", s, $0 }' | sort -n | cut -d' ' -f2- |
        awk -v s="$seed" '{ L[NR] = $0; print; s = (s * 16807 + NR) % 2147483647
            # now and then a name read a few reads ago, again: its entry is
            # still in the kernel'"'"'s cache, its image maybe evicted
            if (NR > 3 && s % 4 == 0) { $0 = L[NR - 3]; $2 = "again"; print } }' >"$out"
}

# ---------------------------------------------------------------- reads

# read_file MNT FILE PLAN MODE OUT: list FILE's directory and read its
# user.result, then cp every name of PLAN, one process each, in turn; one
# line per read on OUT: "ok KIND MODE MS FILE/NAME", or "bad KIND MODE MS
# FILE/NAME" and the FAIL line's text after a tab (KIND "dir": the
# directory).
read_file() {
    local mnt=$1 file=$2 plan=$3 mode=$4 out=$5 dst=$WORK/read.$BASHPID.png
    local name kind exp md5 dims err st got gdims res uerr problem vres t0 ms
    # a user lists the directory first (that registers its names as a batch)
    err=$(t ls -- "$mnt/$file" 2>&1 >/dev/null) ||
        printf 'bad dir %s 0 %s\t%s: ls of the video directory failed: %s\n' "$mode" "$file" "$file" "${err##*: }" >>"$out"
    vres=$(xattr_get "$mnt/$file" user.result) || vres="(no attribute: $(errno_of getfattr -n user.result -- "$mnt/$file"))"
    if [ "${KIND[$file]}" = good ] && [ "$vres" != succeeded ]; then
        printf 'bad dir %s 0 %s\t%s: video directory user.result=%s user.error=%s\n' "$mode" "$file" "$file" "$vres" \
            "$(xattr_get "$mnt/$file" user.error)" >>"$out"
    fi
    while read -r name kind exp md5 dims; do
        rm -f "$dst"
        t0=$(now_ms)
        err=$(t cp -- "$mnt/$file/$name" "$dst" 2>&1)
        st=$?
        ms=$(($(now_ms) - t0))
        problem=""
        if [ "$exp" = FAIL ]; then
            if [ $st -eq 0 ]; then
                problem="cp succeeded, want a failure ($([ "${KIND[$file]}" = broken ] && echo "broken file" || echo "past the end"))"
            else
                case $err in
                *"Input/output error"*) ;;
                *) problem="cp failed with '${err##*: }' (status $st), want EIO" ;;
                esac
            fi
            res=$(xattr_get "$mnt/$file/$name" user.result) || res="(none)"
            uerr=$(xattr_get "$mnt/$file/$name" user.error) || uerr=""
            if [ "$res" != failed ] || [ -z "$uerr" ]; then
                problem+="${problem:+; }user.result=$res user.error='$uerr', want failed with an error"
            fi
        elif [ $st -ne 0 ]; then
            [ $st -eq 124 ] || [ $st -eq 137 ] || [ $st -eq 143 ] && err="timed out after ${OP_TIMEOUT}s"
            problem="cp failed: '${err##*: }' (status $st), want oracle frame #$exp"
        else
            got=$("$PNG2RAW" "$dst" 2>"$dst.err" | md5sum | cut -d' ' -f1)
            gdims=$(tail -n 1 "$dst.err" | tr ' ' x)
            if [ "$gdims" != "$dims" ]; then
                problem="PNG is '$gdims' (w x h x channels), want '$dims' (oracle frame #$exp)"
            elif [ "$got" != "$md5" ]; then
                problem="pixels are not oracle frame #$exp's (actual_time=$(xattr_get "$mnt/$file/$name" user.actual_time))"
            fi
        fi
        if [ -z "$problem" ]; then
            echo "ok $kind $mode $ms $file/$name" >>"$out"
        else
            if [ "$exp" != FAIL ]; then
                res=$(xattr_get "$mnt/$file/$name" user.result) || res="(none: $(errno_of getfattr -n user.result -- "$mnt/$file/$name"))"
                uerr=$(xattr_get "$mnt/$file/$name" user.error) || uerr=""
                problem+="; user.result=$res user.error='$uerr'"
            fi
            printf 'bad %s %s %s %s/%s\t%s/%s [%s, %s, %d ms]: %s\n' "$kind" "$mode" "$ms" "$file" "$name" \
                "$file" "$name" "$kind" "$mode" "$ms" "$problem" >>"$out"
        fi
    done <"$plan"
    rm -f "$dst" "$dst.err"
}

# read_files MNT MODE OUT FILE...: read_file for each FILE in turn (a
# plan of its own each, in $PLANS).
read_files() {
    local mnt=$1 mode=$2 out=$3 file
    shift 3
    for file in "$@"; do
        [ $((SECONDS - T_START)) -lt "$SOAK_SECONDS" ] || return 0
        read_file "$mnt" "$file" "$PLANS/$file" "$mode" "$out"
    done
}

# ---------------------------------------------------------------- rounds

read -ra OPTSETS <<<"$SOAK_OPTS"
OUTS=$WORK/out
mkdir -p "$OUTS"
round=0
while [ $((SECONDS - T_START)) -lt "$SOAK_SECONDS" ]; do
    round=$((round + 1))
    seed=$(((SEED + round * 7919) % 2147483647))
    # SOAK_ROUNDS_PER_MOUNT rounds on one mount, then the next option set
    m=$(((round - 1) / SOAK_ROUNDS_PER_MOUNT))
    opts=${OPTSETS[$((m % ${#OPTSETS[@]}))]}
    [ "$opts" = - ] && opts=""
    PLANS=$WORK/plans.$round
    mkdir -p "$PLANS"
    for file in "${USED[@]}"; do plan_file "$file" "$seed" "$PLANS/$file"; done
    mapfile -t order < <(printf '%s\n' "${USED[@]}" |
        awk -v s="$seed" '{ s = (s * 48271 + NR) % 2147483647; printf "%d %s\n", s, $0 }' | sort -n | cut -d' ' -f2-)
    if [ $(((round - 1) % SOAK_ROUNDS_PER_MOUNT)) -eq 0 ]; then
        mnt=$WORK/mnt.$m
        mount_framefs "$SRC" "$mnt" "$opts" || exit 1
        log=$MOUNT_LOG
    fi
    out=$OUTS/$round
    : >"$out"
    t0=$SECONDS
    # groups of 8 files, in turn: one reader through the group's files;
    # SOAK_READERS at once, each on its own files; SOAK_READERS on each
    # file in turn, sharing its names
    for ((g = 0; g < ${#order[@]}; g += 8)); do
        [ $((SECONDS - T_START)) -lt "$SOAK_SECONDS" ] || break
        group=("${order[@]:g:8}")
        if [ $((g / 8 % 3)) -eq 0 ]; then
            read_files "$mnt" seq "$out" "${group[@]}"
        elif [ $((g / 8 % 3)) -eq 2 ]; then
            for file in "${group[@]}"; do
                [ $((SECONDS - T_START)) -lt "$SOAK_SECONDS" ] || break
                pids=()
                for ((r = 0; r < SOAK_READERS; r++)); do
                    awk -v r="$r" -v n="$SOAK_READERS" 'NR % n == r' "$PLANS/$file" >"$PLANS/$file.$r"
                    read_file "$mnt" "$file" "$PLANS/$file.$r" same "$out.$r" &
                    pids+=($!)
                done
                wait "${pids[@]}"
                for ((r = 0; r < SOAK_READERS; r++)); do
                    [ ! -f "$out.$r" ] || cat "$out.$r" >>"$out"
                    rm -f "$out.$r" "$PLANS/$file.$r"
                done
            done
        else
            pids=()
            for ((r = 0; r < SOAK_READERS; r++)); do
                mine=()
                for ((k = r; k < ${#group[@]}; k += SOAK_READERS)); do mine+=("${group[k]}"); done
                [ ${#mine[@]} -gt 0 ] || continue
                read_files "$mnt" par "$out.$r" "${mine[@]}" &
                pids+=($!)
            done
            wait "${pids[@]}"
            for ((r = 0; r < SOAK_READERS; r++)); do
                [ -f "$out.$r" ] && cat "$out.$r" >>"$out" && rm -f "$out.$r"
            done
        fi
    done
    mount_alive "$mnt" || exit 1
    if [ $((round % SOAK_ROUNDS_PER_MOUNT)) -eq 0 ] || [ $((SECONDS - T_START)) -ge "$SOAK_SECONDS" ]; then
        unmount_framefs "$mnt"
    fi
    n=$(wc -l <"$out")
    nbad=$(grep -c '^bad ' "$out")
    while IFS=$'\t' read -r _ line; do
        # the framefs log's line about that name, if any
        key=${line%% \[*}
        lg=$(grep -F -- "$key:" "$log" | tail -n 1 | sed "s/^framefs: //")
        fail "round $round: $line${lg:+ (log: $lg)}"
    done < <(grep '^bad ' "$out")
    desc="round $round (seed $seed, -o ${opts:-(defaults)}): $((n - nbad))/$n reads right ($(grep -c '^[a-z]* [a-z+-]* seq ' "$out") one at a time, $(grep -c '^[a-z]* [a-z+-]* par ' "$out") $SOAK_READERS files at a time, $(grep -c '^[a-z]* [a-z+-]* same ' "$out") $SOAK_READERS readers on one file) in $((SECONDS - t0)) s"
    if [ "$n" -eq 0 ] && [ "$nbad" -eq 0 ] && [ $((SECONDS - T_START)) -ge "$SOAK_SECONDS" ]; then
        note "round $round: the time ran out while it made its plans, before its first read"
    elif [ "$nbad" -eq 0 ] && [ "$n" -gt 0 ]; then
        pass "$desc"
    else
        fail "$desc"
    fi
    rm -rf "$PLANS"
done

all=$(cat "$OUTS"/* | wc -l)
bad=$(cat "$OUTS"/* | grep -c '^bad ')
echo
note "TOTAL: $((all - bad))/$all reads right over $round rounds in $((SECONDS - T_START)) s; by kind (right/all):"
cat "$OUTS"/* | awk '{ a[$2]++; if ($1 == "ok") o[$2]++ } END { for (k in a) printf "    %-10s %d/%d\n", k, o[k], a[k] }' | sort
cat "$OUTS"/* | awk '$2 != "dir" { print $4 }' | sort -n | awk '{ v[NR] = $1 } END {
    if (NR) printf "  time per read (cp): median %d ms, 99th percentile %d ms, max %d ms\n", v[int(NR / 2) + 1], v[int(NR * 0.99) + 1], v[NR] }'
note "slowest reads:"
cat "$OUTS"/* | awk '$2 != "dir" { print $4, $5, $2, $3 }' | sort -rn | head -n 5 | sed 's/^/    /; s/ / ms /'
[ "$all" -gt 0 ] || fail "no read was made in $SOAK_SECONDS s"

#!/usr/bin/env bash
# Frame accuracy on every codec and container: the exact frame, every time.
#
# Corpus: the hazard files of tests/media/hazards.sh (one per codec,
# container, timestamp or GOP hazard, generated into $BUILD/tests/hazards),
# and every video in ${SHARED_MEDIA:-../shared/media} (relative to the repo;
# real-world files, some broken on purpose).  Each directory is mounted once.
#
# The expected answers come from the oracle (tests/oracle.sh: a full decode by
# the ffmpeg CLI listing every frame's pts and pixel checksum) and SPEC's
# selection rule (oracle_expect in lib.sh), never from framefs.
#
# Probes per file (at least 25, 12 with SANITIZED=1, unless the file is tiny, all at zero tolerance
# except the tolerance ones): t=0; each frame's own pts printed with 6
# decimals (every frame for files of up to 60 frames, else 40 of them, 20
# for frames over a megapixel: the first, the last, the frames on both sides
# of keyframes, the rest spread pseudo-randomly); 0.4 ms before the same
# frames' pts (the previous frame,
# or the frame itself where the time base is coarser than 0.4 ms); 10
# pseudo-random times; the middle of the last frame; the exact end, 1 ms past
# it and t=100000 (must fail); 8 tolerance probes (symmetric, one-sided,
# infinite), whose answer must be the rule's choice (the acceptable keyframe
# nearest to t, else the earliest acceptable frame).  A frame whose pts lies
# before the container start is probed at t=0 (a negative t does not exist).
# The probes are asked in a shuffled (fixed) order, so decoding is exercised
# across seeks as well as forwards.
#
# A probe is exact when: the oracle says past-the-end and user.result=failed
# (with a user.error); or user.result=succeeded, user.actual_time equals the
# oracle pts (relative to the container start, 6 decimals), and the PNG's
# pixels are identical to the oracle frame's (RGBA when the source has
# alpha), with the oracle's (displayed) size.  Every inexact probe is a FAIL
# line naming the file, t, the expected frame (index, pts, time) and what
# came back (actual_time, which oracle frame the pixels are).  A file whose
# probes are all exact gets one PASS line.  At the end: a table (file,
# frames, probes, exact, ...) and the total.
#
# Ambiguous cases are not asked, and say so:
# - Probes whose answer SPEC leaves open (t at a rounding tie of the time
#   base, a tolerance window edge within a tick of a frame boundary): dropped
#   by oracle_expect, counted in the "ambig" column.
# - Frames the oracle gives no pts (best_effort_timestamp N/A: a raw
#   elementary stream, the last frame flushed out of a B-frame decoder when
#   the container stores no pts): one SKIP line per file lists them, and no
#   probe whose answer depends on where such a frame lies is asked.  Instead
#   the test notes what framefs does there (times derived from the frame
#   rate, and which oracle frame's pixels come back): documentation, not a
#   verdict.
# - Files whose oracle decodes disagree (ffprobe and ffmpeg framemd5 count
#   different frames: a broken stream decoded differently by frame threads):
#   SKIP, with the numbers.
# Files the ffmpeg CLI cannot decode at all (no video stream, not a media
# file, empty, undecodable bitstream) must show user.result=failed with a
# user.error on their video directory, and a failed t=0.
#
# Environment: HAZARD_DIR (default $BUILD/tests/hazards), SHARED_MEDIA,
# ACC_JOBS (files probed at once, default 2), SEED.  With SANITIZED=1 (the
# ASan pass) a third of the own-time probes and 4 random ones per file.
. "$(dirname "$0")/../lib.sh"

# Probes a file must get (fewer under the sanitizers, which ask fewer).
MIN_PROBES=25
[ "${SANITIZED:-0}" = 1 ] && MIN_PROBES=12

require_framefs

SEED=${SEED:-20240611}
ACC_JOBS=${ACC_JOBS:-2}
HAZARD_DIR=${HAZARD_DIR:-$BUILD/tests/hazards}
SHARED_MEDIA=${SHARED_MEDIA:-../shared/media}
case $SHARED_MEDIA in /*) ;; *) SHARED_MEDIA=$REPO_DIR/$SHARED_MEDIA ;; esac
# framefs's default video_ext (README)
VIDEO_EXT=" mp4 m4v mov qt mkv webm avi wmv asf flv f4v mpg mpeg mpe m2v m1v vob ts m2ts mts m2t 3gp 3g2 ogv ogg ogm mxf dv nut y4m h264 264 h265 265 hevc ivf rm rmvb divx xvid gif apng mjpeg mjpg "
T_START=$SECONDS

gen_start=$SECONDS
if ! "$TESTS_DIR/media/hazards.sh" "$HAZARD_DIR"; then
    fail "tests/media/hazards.sh $HAZARD_DIR failed"
    exit 1
fi
gen_secs=$((SECONDS - gen_start))

# ---------------------------------------------------------------- corpus

# Lines "LABEL DIR FILE": LABEL is the directory's short name.
CORPUS=$WORK/corpus
: >"$CORPUS"
list_dir() {   # LABEL DIR: the videos of DIR (by framefs's default extensions)
    local f ext
    for f in "$2"/*; do
        [ -f "$f" ] || continue
        ext=${f##*.}
        ext=${ext,,}
        if [ "$ext" = "$f" ] || [[ $VIDEO_EXT != *" $ext "* ]]; then continue; fi
        echo "$1 $2 $(basename "$f")"
    done
}
list_dir hazards "$HAZARD_DIR" >>"$CORPUS"
n_haz=$(wc -l <"$CORPUS")
[ "$n_haz" -ge 20 ] || fail "hazards.sh made only $n_haz videos (want at least 20)"
if [ -d "$SHARED_MEDIA" ]; then
    SHARED_MEDIA=$(cd "$SHARED_MEDIA" && pwd -P)
    list_dir shared "$SHARED_MEDIA" >>"$CORPUS"
else
    skip "shared media directory $SHARED_MEDIA is absent: only the hazard corpus is tested"
fi

# ---------------------------------------------------------------- oracles

# Computed ACC_JOBS at a time (cached in $ORACLE_CACHE by content).  The
# oracle of LABEL/FILE is $WORK/oracle/LABEL_FILE.oracle, its stderr .err,
# and .st its exit status.
mkdir -p "$WORK/oracle"
oracle_start=$SECONDS
running=0
while read -r label dir file; do
    if [ "$running" -ge "$ACC_JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
    (
        o="$WORK/oracle/${label}_$file"
        "$TESTS_DIR/oracle.sh" "$dir/$file" >"$o.oracle" 2>"$o.err"
        echo $? >"$o.st"
    ) &
    running=$((running + 1))
done <"$CORPUS"
wait
oracle_secs=$((SECONDS - oracle_start))

# ---------------------------------------------------------------- mounts

declare -A MNT_OF
for label in hazards shared; do
    dir=$(awk -v l="$label" '$1 == l { print $2; exit }' "$CORPUS")
    [ -n "$dir" ] || continue
    MNT_OF[$label]=$WORK/mnt-$label
    mount_framefs "$dir" "${MNT_OF[$label]}" || exit 1
done

# ---------------------------------------------------------------- probes

# make_probes ORACLE FILE: probe lines "NAME KIND T BEFORE AFTER" for the
# frames of ORACLE that have a pts (rows with NA are left out by the caller).
make_probes() {
    awk -v seed="$SEED" -v file="$2" -v san="${SANITIZED:-0}" '
    function f6(x,   s) { s = sprintf("%.6f", x); return s == "-0.000000" ? "0.000000" : s }
    function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    function probe(kind, t, b, a,   name) {
        if (t + 0 < 0) return
        name = "t=" t
        if (b == a && b != 0) name = name ",tol=" b
        else if (b != 0 || a != 0) name = name ",before=" b ",after=" a
        name = name ".png"
        if (name in seen) return
        seen[name] = 1
        print name, kind, t, b, a
    }
    /^#/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); H[kv[1]] = kv[2] } next }
    { n++; P[n] = $2 + 0; num = $3 + 0; den = $4 + 0; R[n] = $5; D[n] = $6 + 0; K[n] = $8 + 0 }
    END {
        if (!n) exit
        for (i = 1; i <= length(file); i++) seed = (seed * 31 + substr(file, i, 1) + i) % 2147483647
        if (seed <= 0) seed = 12345
        start = H["start_time"] + 0
        end_rel = (P[n] + D[n]) * num / den - start
        probe("zero", "0", 0, 0)
        # the frames probed at their own time (and 0.4 ms before it): all of
        # up to 60, else 40 (20 for frames over a megapixel, slow to encode
        # and compare): first, last, around keyframes, pseudo-random others
        cap = (H["width"] * H["height"] > 1000000) ? 20 : (n <= 60 ? n : 40)
        # Under the sanitizers (5-10x slower) a third of them: the same kinds
        # of probe on every file, fewer of each (the CI time budget).
        if (san == 1) cap = int(cap / 3) < 4 ? 4 : int(cap / 3)
        if (n <= cap) for (i = 1; i <= n; i++) pick[i] = 1
        else {
            pick[1] = 1; pick[n] = 1; np = 2
            for (i = 2; i <= n && np < cap * 0.6; i++) if (K[i]) {
                if (!pick[i]) { pick[i] = 1; np++ }
                if (!pick[i - 1]) { pick[i - 1] = 1; np++ }
            }
            for (k = 0; np < cap && k < 1000; k++) {
                i = 1 + int(rnd() * n)
                if (!pick[i]) { pick[i] = 1; np++ }
            }
        }
        for (i = 1; i <= n; i++) {
            if (!pick[i]) continue
            if (R[i] + 0 < 0) probe("own<0", "0", 0, 0)
            else probe("own", R[i], 0, 0)
            if (i > 1) probe("before", f6(P[i] * num / den - start - 0.0004), 0, 0)
        }
        for (k = 0; k < (san == 1 ? 4 : 10); k++) probe("random", f6(rnd() * end_rel), 0, 0)
        probe("last", f6((P[n] + D[n] / 2) * num / den - start), 0, 0)
        probe("end", f6(end_rel), 0, 0)
        probe("past", f6(end_rel + 0.001), 0, 0)
        if (end_rel < 99999) probe("past", "100000", 0, 0)
        ntol = split("0.01 0.05 0.2 0.5 1.5", tols, " ")
        for (k = 0; k < 7; k++) {
            tt = f6(rnd() * end_rel)
            x = tols[1 + int(rnd() * ntol)]
            if (k < 3) probe("tol", tt, x, x)
            else if (k < 5) probe("tol", tt, 0, x)
            else probe("tol", tt, x, 0)
        }
        probe("tol", f6(rnd() * end_rel), "inf", "inf")
    }' "$1"
}

# check_broken LABEL FILE WHY: a file the oracle cannot decode must fail cleanly.
check_broken() {
    local label=$1 file=$2 why=$3 mnt=${MNT_OF[$1]} res err fres
    res=$(xattr_get "$mnt/$file" user.result) || res="(none)"
    err=$(xattr_get "$mnt/$file" user.error) || err=""
    fres=$(xattr_get "$mnt/$file/t=0.png" user.result) || fres="(none)"
    if [ "$res" = failed ] && [ -n "$err" ] && [ "$fres" = failed ]; then
        pass "$label/$file (oracle: $why): video directory user.result=failed, user.error='$err'; t=0 fails"
        echo "ROW $label/$file - - - broken:ok"
    else
        fail "$label/$file (oracle: $why): want user.result=failed with a user.error on the video directory and a failed t=0; got directory user.result=$res user.error='$err', t=0 user.result=$fres"
        echo "ROW $label/$file - - - broken:FAIL"
    fi
}

# attrs_batch DIR ERRFILE NAME...: getfattr -d over many frame names at once:
# lines "NAME|result|actual|error" (| is \x1f); getfattr's complaints to ERRFILE.
attrs_batch() {
    local dir=$1 errf=$2
    shift 2
    t getfattr --absolute-names -d -- "${@/#/$dir/}" 2>>"$errf" | awk '
        function flush() { if (name != "") printf "%s\037%s\037%s\037%s\n", name, r, a, e; name = "" }
        /^# file: / { flush(); name = substr($0, 9); sub(/.*\//, "", name); r = a = e = ""; next }
        /^user\./ {
            k = $0; sub(/=.*/, "", k); v = $0; sub(/^[^=]*="?/, "", v); sub(/"$/, "", v)
            if (k == "user.result") r = v; else if (k == "user.actual_time") a = v; else if (k == "user.error") e = v
        }
        END { flush() }'
}

# probe_file LABEL FILE: every probe of one file; prints PASS/FAIL/SKIP and
# note lines, then "ROW label/file frames probes exact ambig skipped".
probe_file() {
    local label=$1 file=$2 mnt=${MNT_OF[$1]} o="$WORK/oracle/${1}_$2" st why
    local oracle=$o.oracle known=$o.known probes=$o.probes tmp=$WORK/png.$BASHPID t0=$SECONDS
    st=$(cat "$o.st")
    if [ "$st" != 0 ] || [ ! -s "$oracle" ]; then
        why=$(grep -v '^\[\|^ *Last message' "$o.err" | tail -n 1)
        [ -n "$why" ] || why=$(tail -n 1 "$o.err")
        case $why in
        *"ffprobe decoded"*"framemd5"*)
            skip "$label/$file: the oracle is ambiguous: ${why#oracle: *: } (ffprobe decodes with 1 thread, the CLI with cpus+1 frame threads: on a broken stream they output different frames)"
            local mnt=${MNT_OF[$label]}
            note "$label/$file: framefs: directory user.result=$(xattr_get "$mnt/$file" user.result) duration=$(xattr_get "$mnt/$file" user.duration); t=0: user.result=$(xattr_get "$mnt/$file/t=0.png" user.result) actual_time=$(xattr_get "$mnt/$file/t=0.png" user.actual_time)"
            echo "ROW $label/$file - - - oracle-ambiguous"
            ;;
        *) check_broken "$label" "$file" "$why" ;;
        esac
        return
    fi
    local frames nna
    frames=$(oracle_header "$oracle" frames)
    grep -v '^[0-9]* NA ' "$oracle" >"$known"
    nna=$(awk '!/^#/ && $2 == "NA"' "$oracle" | wc -l)
    if awk '!/^#/ && $2 != "NA" { if (n++ && $2 + 0 <= p) bad = 1; p = $2 + 0 } END { exit !bad }' "$oracle"; then
        skip "$label/$file: oracle pts are not increasing in presentation order; SPEC's rule is undefined here"
        echo "ROW $label/$file $frames - - non-monotonic"
        return
    fi
    if [ "$nna" -gt 0 ]; then
        skip "$label/$file: $nna of $frames frames have no pts in the oracle (best_effort_timestamp N/A: frames $(awk '
            function out() { if (a != "") printf "%s#%s%s", (n++ ? "," : ""), a, (b > a ? "-#" b : ""); a = "" }
            !/^#/ && $2 == "NA" { if (a != "" && $1 == b + 1) b = $1; else { out(); a = b = $1 } }
            END { out() }' "$oracle")); their times are ambiguous and no probe depends on them"
    fi
    if [ "$nna" -eq "$frames" ]; then
        document_na "$label" "$file" "$oracle"
        echo "ROW $label/$file $frames - - no-pts-at-all"
        return
    fi
    make_probes "$known" "$file" | oracle_expect "$known" | expect_map "$known" "$oracle" >"$probes"
    local nprobe=0 nexact=0 nambig=0 nskip=0
    nambig=$(awk '$4 == "AMBIG"' "$probes" | wc -l)
    nskip=$(awk '$4 == "NA"' "$probes" | wc -l)
    # ask in a shuffled, fixed order
    local -a names=()
    mapfile -t names < <(awk '$4 != "AMBIG" && $4 != "NA" { print $1 }' "$probes" |
        awk -v s="$SEED" '{ s = (s * 16807 + NR) % 2147483647; printf "%d %s\n", s, $0 }' | sort -n | cut -d' ' -f2-)
    declare -A RES ACT ERR
    local i chunk name r a e
    if ! mount_alive "$mnt"; then echo "ROW $label/$file $frames - - mount-dead"; return; fi
    for ((i = 0; i < ${#names[@]}; i += 25)); do
        chunk=("${names[@]:i:25}")
        while IFS=$'\x1f' read -r name r a e; do
            RES[$name]=$r ACT[$name]=$a ERR[$name]=$e
        done < <(OP_TIMEOUT=$((OP_TIMEOUT * 4)) attrs_batch "$mnt/$file" "$tmp.getfattr" "${chunk[@]}")
    done
    # the succeeded frames' pixels
    rm -rf "$tmp"
    mkdir -p "$tmp"
    local -a ok=()
    for name in "${names[@]}"; do [ "${RES[$name]-}" = succeeded ] && ok+=("$name"); done
    for ((i = 0; i < ${#ok[@]}; i += 25)); do
        chunk=("${ok[@]:i:25}")
        OP_TIMEOUT=$((OP_TIMEOUT * 4)) t cp -- "${chunk[@]/#/$mnt/$file/}" "$tmp/" 2>/dev/null
    done
    local want_dims
    want_dims="$(oracle_header "$oracle" width) $(oracle_header "$oracle" height)"
    case $(oracle_header "$oracle" out_pix_fmt) in rgba) want_dims+=" 4" ;; *) want_dims+=" 3" ;; esac
    # oracle: md5 and relative time by index; md5 -> index
    declare -A MD5 REL IDX_OF
    local idx pts rel md5 rest
    while read -r idx pts _ _ rel _ md5 rest; do
        MD5[$idx]=$md5 REL[$idx]=$rel
        [ -n "${IDX_OF[$md5]-}" ] || IDX_OF[$md5]=$idx
    done < <(grep -v '^#' "$oracle")
    local kind exp rel_us got gdims problem wantt gotidx gus
    while read -r name kind _ exp rel_us _; do
        [ "$exp" = AMBIG ] || [ "$exp" = NA ] && continue
        nprobe=$((nprobe + 1))
        problem=""
        r=${RES[$name]-}
        if [ -z "$r" ]; then
            problem="getfattr gave no attributes ($(grep -m 1 -F "$name" "$tmp.getfattr" 2>/dev/null | sed 's/.*: //'))"
        elif [ "$exp" = FAIL ]; then
            if [ "$r" != failed ] || [ -z "${ERR[$name]}" ]; then
                problem="expected a failure (past the end, $(oracle_header "$oracle" end_time) s), got user.result=$r actual_time=${ACT[$name]}"
                [ -n "${ACT[$name]}" ] && problem+=" (frame with that time: #$(awk -v t="${ACT[$name]}" '!/^#/ && $5 == t { print $1; exit }' "$oracle"))"
            fi
        else
            wantt=${REL[$exp]}
            if [ "$r" != succeeded ]; then
                problem="got user.result=$r user.error='${ERR[$name]}'"
            else
                gus=$(us "${ACT[$name]}" 2>/dev/null) || gus=NaN
                if [ "$gus" = NaN ] || ((gus - rel_us > 1 || rel_us - gus > 1)); then
                    problem="actual_time=${ACT[$name]:-(none)}"
                fi
                if [ ! -s "$tmp/$name" ]; then
                    problem+="${problem:+, }the PNG could not be read"
                else
                    got=$("$PNG2RAW" "$tmp/$name" 2>"$tmp/.err" | md5sum | cut -d' ' -f1)
                    gdims=$(tail -n 1 "$tmp/.err")
                    if [ "$gdims" != "$want_dims" ]; then
                        problem+="${problem:+, }PNG is '$gdims' (w h channels), want '$want_dims'"
                    elif [ "$got" != "${MD5[$exp]}" ]; then
                        gotidx=${IDX_OF[$got]-}
                        if [ -n "$gotidx" ]; then
                            problem+="${problem:+, }pixels are oracle frame #$gotidx (t=${REL[$gotidx]})"
                        else
                            problem+="${problem:+, }pixels match no oracle frame"
                        fi
                    elif [ -n "$problem" ]; then
                        problem+=" but the pixels are the right frame"
                    fi
                fi
            fi
        fi
        if [ -z "$problem" ]; then
            nexact=$((nexact + 1))
        else
            if [ "$exp" = FAIL ]; then
                fail "$label/$file $name [$kind]: $problem"
            else
                pts=$(awk -v i="$exp" '!/^#/ && $1 == i { print $2; exit }' "$oracle")
                fail "$label/$file $name [$kind]: expected frame #$exp (pts $pts, t=$wantt); $problem"
            fi
        fi
    done <"$probes"
    [ "$nprobe" -gt 0 ] && [ "$nexact" -eq "$nprobe" ] &&
        pass "$label/$file: $nexact/$nprobe probes exact ($frames frames)"
    if [ "$nprobe" -lt "$MIN_PROBES" ] && [ "$frames" -gt 3 ]; then
        fail "$label/$file: only $nprobe probes could be asked (want at least $MIN_PROBES)"
    fi
    [ "$nna" -gt 0 ] && document_na "$label" "$file" "$oracle"
    rm -rf "$tmp" "$tmp.getfattr"
    echo "ROW $label/$file $frames $nprobe $nexact $nambig/$nskip $((SECONDS - t0))"
}

# document_na LABEL FILE ORACLE: what framefs does where the oracle has no
# time (frames without pts).  The ffmpeg CLI still gives such frames a time
# when it writes them (framemd5's pts, guessed from the previous frame): ask
# framefs at that time and note what comes back.  Documentation, no verdict.
document_na() {
    local label=$1 file=$2 oracle=$3 mnt=${MNT_OF[$1]} dir r e a got idx tt png=$WORK/na.$BASHPID.png list=$WORK/na.$BASHPID
    dir=$(awk -v l="$label" '$1 == l { print $2; exit }' "$CORPUS")
    r=$(xattr_get "$mnt/$file" user.result) || r="(none)"
    if [ "$r" = succeeded ]; then
        note "$label/$file: framefs: directory succeeded, duration=$(xattr_get "$mnt/$file" user.duration) s, frame_rate=$(xattr_get "$mnt/$file" user.frame_rate)"
    else
        note "$label/$file: framefs: directory user.result=$r user.error='$(xattr_get "$mnt/$file" user.error)'"
    fi
    # "index cli_time" of the frames without pts (the first 3 and the last)
    ffmpeg -nostdin -v quiet -i "$dir/$file" -map 0:v:0 -an -sn -dn -f framemd5 -fps_mode passthrough - 2>/dev/null |
        awk 'FILENAME == ARGV[1] { if ($0 !~ /^#/ && $2 == "NA") NA[$1] = 1; next }
             /^#tb 0:/ { split($3, tb, "/"); next }
             /^#/ { next }
             { i = n++; T[i] = $2 * tb[1] / tb[2] }
             END { for (i = 0; i < n; i++) if (NA[i]) L[m++] = i
                   for (k = 0; k < m; k++) if (k < 3 || k == m - 1) printf "%d %.6f\n", L[k], T[L[k]] }' "$oracle" - >"$list"
    while read -r idx tt; do
        r=$(xattr_get "$mnt/$file/t=$tt.png" user.result) || r="?"
        a=$(xattr_get "$mnt/$file/t=$tt.png" user.actual_time) || a=""
        e=$(xattr_get "$mnt/$file/t=$tt.png" user.error) || e=""
        got=""
        if [ "$r" = succeeded ] && t cat -- "$mnt/$file/t=$tt.png" >"$png" 2>/dev/null; then
            got=$("$PNG2RAW" "$png" 2>/dev/null | md5sum | cut -d' ' -f1)
            got=$(awk -v m="$got" '!/^#/ && $7 == m { print "oracle frame #" $1; f = 1; exit } END { if (!f) print "no oracle frame" }' "$oracle")
        fi
        note "  frame #$idx has no pts (the CLI writes it at $tt s): t=$tt.png -> $r${a:+ actual_time=$a}${got:+, pixels = $got}${e:+ ($e)}"
    done <"$list"
    rm -f "$png" "$list"
}

# Probe ACC_JOBS files at a time; each file's output is printed whole, in
# corpus order.
OUTS=$WORK/out
mkdir -p "$OUTS"
probe_start=$SECONDS
declare -a PIDS=() OUTF=()
k=0
flush_oldest() {
    wait "${PIDS[0]}"
    grep -v '^ROW ' "${OUTF[0]}"
    PIDS=("${PIDS[@]:1}")
    OUTF=("${OUTF[@]:1}")
}
while read -r label dir file; do
    [ -n "${MNT_OF[$label]-}" ] || continue
    [ "${#PIDS[@]}" -ge "$ACC_JOBS" ] && flush_oldest
    k=$((k + 1))
    out=$OUTS/$(printf '%04d' "$k")
    ( probe_file "$label" "$file" ) >"$out" 2>&1 &
    PIDS+=($!)
    OUTF+=("$out")
done <"$CORPUS"
while [ "${#PIDS[@]}" -gt 0 ]; do flush_oldest; done
probe_secs=$((SECONDS - probe_start))

for label in "${!MNT_OF[@]}"; do mount_alive "${MNT_OF[$label]}" >/dev/null || fail "framefs on $label died during the test"; done

# ---------------------------------------------------------------- table

echo
cat "$OUTS"/* | awk -v gen="$gen_secs" -v orc="$oracle_secs" -v prb="$probe_secs" -v tot="$((SECONDS - T_START))" '
    /^ROW / {
        f = $2; fr = $3; p = $4; x = $5; extra = $6
        if (p ~ /^[0-9]+$/) {
            pct = p ? sprintf("%.1f%%", 100 * x / p) : "-"
            P += p; X += x; nf++
            if (x == p) full++
            split(extra, ab, "/")
            printf "%-58s %6s %6s %6s %7s %4ss  ambig %s, no-pts %s\n", f, fr, p, x, pct, $7, ab[1], ab[2]
        } else {
            printf "%-58s %6s %6s %6s %7s %5s  %s\n", f, fr, "-", "-", "-", "", extra
            if (extra ~ /ok$/) bok++; else if (extra ~ /FAIL$/) bbad++; else other++
        }
        next
    }
    BEGIN { printf "%-58s %6s %6s %6s %7s %5s\n", "file", "frames", "probes", "exact", "exact%", "time" }
    END {
        printf "\nTOTAL: %d/%d probes exact (%.1f%%) over %d files, %d of them 100.0%%; broken files failing cleanly: %d/%d; not probed (ambiguous oracle): %d\n", \
            X, P, P ? 100 * X / P : 0, nf, full, bok, bok + bbad, other
        printf "time: generation %ds, oracles %ds, probes %ds, whole test %ds\n", gen, orc, prb, tot
    }' | sed 's/^/# /'

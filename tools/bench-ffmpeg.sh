#!/bin/sh
# The full ffmpeg path of `make bench`: decode a real 640x360 clip, the nst
# filter (temporal=0, the bare network's work), null output; frames per
# second from wall time without ffmpeg's startup and the engine's creation:
# N frames, then 2N frames, and the difference of the two is N frames of
# steady state. The bare network (nst-bench, 640x360, median of 3) is timed
# just before and just after, so that the ratio of the two compares runs
# that saw the same machine (it is shared, and its load moves).
#
#   tools/bench-ffmpeg.sh MODEL.bin [N [OPTS]] (N: 4 by default; OPTS: more
#                                               nst options, e.g. pipeline=0)
#
# stdout, one line, for tools/bench.sh:
#   ffmpeg N T_N T_2N MS_PER_FRAME FPS CODEC NET_BEFORE NET_AFTER
#                                  times in ms; NET_*: nst-bench's median
#   skip REASON
# The 640x360 clip is made once, in $B/bench/, from the first clip found in
# $NST_SHARED/media/clips, so that scaling is not timed.
#
# Environment: NST_BUILD (build), NST_SHARED (../shared).
set -u
top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top" || exit 1
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
model=$1
n=${2:-4}
opts=${3:+:$3}
ff=$B/ffmpeg
w=640 h=360
clip=$B/bench/clip-${w}x$h.mkv

skip() { echo "skip $*"; exit 0; }
[ -x "$ff" ] || skip "$ff is missing (make)"
mkdir -p "$B/bench" || exit 1

if [ ! -f "$clip" ]; then
	src=
	for c in "$S/media/clips/balle-jbart.mp4" "$S/media/clips/vtest.avi"; do
		[ -f "$c" ] && { src=$c; break; }
	done
	[ -n "$src" ] || skip "no clip in $S/media/clips (set NST_SHARED)"
	# What a video usually is: H.264 (else MPEG-4 part 2), yuv420p, which the
	# filter converts on the GPU. Filled and cropped to 640x360 with square
	# pixels, as tools/demo.sh does.
	if "$ff" -hide_banner -encoders 2>/dev/null | grep -q ' libx264 '; then
		venc="-c:v libx264 -preset medium -crf 18"
	else
		venc="-c:v mpeg4 -q:v 2"
	fi
	fit="scale=w='ceil(max($w,$h*dar)/2)*2':h='ceil(max($h,$w/dar)/2)*2',crop=$w:$h,setsar=1,format=yuv420p"
	"$ff" -hide_banner -nostdin -v error -y -i "$src" -an -vf "$fit" \
		-frames:v 30 $venc "$clip.tmp.mkv" && mv "$clip.tmp.mkv" "$clip" ||
		skip "could not make $clip from $src"
fi
codec=$("$ff" -hide_banner -nostdin -i "$clip" 2>&1 | sed -n 's/.*Video: \([a-z0-9]*\).*/\1/p' | head -n 1)

# run FRAMES: wall time in ms of the whole ffmpeg run
run() {
	t0=$(date +%s%N)
	"$ff" -hide_banner -nostdin -v error -i "$clip" -an \
		-vf "nst=$model:temporal=0$opts" -frames:v "$1" -f null - >"$B/bench/ffmpeg.log" 2>&1 ||
		return 1
	echo $((($(date +%s%N) - t0) / 1000000))
}
# net: the bare network's median ms at 640x360 ("?" where nst-bench fails)
net() {
	"$B/nst-bench" "$model" ${w}x$h -n 3 2>/dev/null |
		awk -F'|' '$2 ~ /^ *'$w'x'$h' *$/ { gsub(/ /, "", $3); v = $3 } END { print v == "" ? "?" : v }'
}
n0=$(net)
t1=$(run "$n") && t2=$(run $((2 * n))) ||
	skip "ffmpeg failed: $(tail -n 1 "$B/bench/ffmpeg.log")"
n1=$(net)
awk -v n="$n" -v t1="$t1" -v t2="$t2" -v c="$codec" -v n0="$n0" -v n1="$n1" 'BEGIN {
	ms = (t2 - t1) / n
	if (ms <= 0) { print "skip the 2N-frame run was not slower than the N-frame run"; exit }
	printf "ffmpeg %d %d %d %.1f %.3f %s %s %s\n", n, t1, t2, ms, 1000 / ms, c, n0, n1
}'

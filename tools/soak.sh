#!/bin/sh
# Soak: many frames through ffmpeg and the nst filter, with the process's
# resident memory (RSS) and the engine's device memory measured near the
# start and at the end. Fails when either grew by more than the slack
# (RSS: allocator noise; device memory: none at all), when ffmpeg fails,
# or when a frame is missing.
#
#   tools/soak.sh [FRAMES [WxH [nst options]]]     (make soak)
#
# Defaults: 10000 frames of 64x48, temporal smoothing on (the filter's
# default), pipeline=1 (both paths' buffers cycle). The clip loops.
# Environment: NST_BUILD (build), NST_SHARED (../shared), SOAK_RSS_SLACK_KB
# (2048).
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
FRAMES=${1:-10000}
SIZE=${2:-64x48}
OPTS=${3:-pipeline=1}
SLACK=${SOAK_RSS_SLACK_KB:-2048}
T=$B/soak
W=${SIZE%x*} H=${SIZE#*x}

for f in "$B/ffmpeg" "$B/models/udnie.bin" "$S/media/clips/vtest.avi"; do
	[ -f "$f" ] || { echo "not ok - soak: $f is missing"; exit 1; }
done
rm -rf "$T" && mkdir -p "$T" || exit 1

start=$(date +%s)
"$B/ffmpeg" -hide_banner -nostdin -v verbose -stream_loop -1 -i "$S/media/clips/vtest.avi" \
	-an -frames:v "$FRAMES" -vf "scale=$W:$H,nst=$B/models/udnie.bin:$OPTS" \
	-progress "$T/progress" -f framecrc "$T/out.crc" 2>"$T/ffmpeg.log" &
pid=$!

# One sample a second: frames done (from -progress) and VmRSS in kB.
: >"$T/rss"
while kill -0 "$pid" 2>/dev/null; do
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	frame=$(grep '^frame=' "$T/progress" 2>/dev/null | tail -n 1 | cut -d= -f2)
	[ -n "$rss" ] && [ -n "$frame" ] && echo "$frame $rss" >>"$T/rss"
	sleep 1
done
wait "$pid"
rc=$?
secs=$(($(date +%s) - start))

frames=$(grep -vc '^#' "$T/out.crc")
# RSS near the start: the first sample past 10% of the frames (the engine
# made, and the heaps of ffmpeg and the driver grown to their working size:
# measured, RSS rises 3 MB over the first 800 frames of 64x48, then 0.2 MB
# over the next 9,000, then not at all); at the end: the last sample.
first=$(awk -v n=$((FRAMES / 10)) '$1 >= n && $1 > 0 { print; exit }' "$T/rss")
last=$(tail -n 1 "$T/rss")
dev_first=$(sed -n 's/.*Device memory after the first frame: \([0-9]*\) bytes held.*/\1/p' "$T/ffmpeg.log")
dev_last=$(sed -n 's/.*Device memory at the end: \([0-9]*\) bytes held.*/\1/p' "$T/ffmpeg.log")

echo "# soak: $frames frames of ${W}x$H ($OPTS) in $secs s"
echo "# RSS at frame ${first% *}: ${first#* } kB; at frame ${last% *}: ${last#* } kB"
echo "# device memory after the first frame: $dev_first bytes; at the end: $dev_last bytes"
awk '{ print "#   frame " $1 ": " $2 " kB" }' "$T/rss" | awk 'NR % 60 == 1'

if [ "$rc" -ne 0 ]; then
	echo "not ok - soak: ffmpeg exited with $rc: $(tail -n 1 "$T/ffmpeg.log")"
	exit 1
elif [ "$frames" -ne "$FRAMES" ]; then
	echo "not ok - soak: $frames frames out of $FRAMES"
	exit 1
elif [ -z "$first" ] || [ -z "$dev_first" ] || [ -z "$dev_last" ]; then
	echo "not ok - soak: no measurement (log: $T/ffmpeg.log, samples: $T/rss)"
	exit 1
elif [ $((${last#* } - ${first#* })) -gt "$SLACK" ]; then
	echo "not ok - soak: RSS grew by $((${last#* } - ${first#* })) kB (more than $SLACK)"
	exit 1
elif [ "$dev_last" -ne "$dev_first" ]; then
	echo "not ok - soak: device memory went from $dev_first to $dev_last bytes"
	exit 1
fi
echo "ok - soak: $FRAMES frames, RSS ${first#* } -> ${last#* } kB, device memory $dev_first -> $dev_last bytes"

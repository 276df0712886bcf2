#!/bin/sh
# realtime=1 on a live-paced source: the 25 fps clip read with -re at a size
# this device cannot restyle 25 times a second. The stream must not be held
# up: every frame comes out, with its own timestamp, the filter allows itself
# at most 4/5 of a frame interval of waiting for the network and keeps to it
# by its own clock (its summary at the end says so; the wall clock past that
# deadline, which a loaded machine stretches, is given a frame interval or
# half a restyle of margin), the network's size comes down, and the frames
# are restyled (their
# own or an earlier frame's style carried over). A strength 0 command
# passes frames as they came from then on; realtime=1 refuses Vulkan frames.
# Prints "ok - NAME" / "not ok - NAME: why".
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3).

HERE=$(dirname "$0")
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
PY=${PYTHON:-python3}
FF=$B/ffmpeg
MODEL=$B/models/udnie.bin
CLIP=$S/media/clips/balle-jbart.mp4
T=$B/check/realtime
SZ=320:256 SECS=3 # 75 frames, about half a second each at full size here

. "$HERE/ffmpeg_lib.sh"

for f in "$FF" "$MODEL" "$CLIP"; do
	[ -f "$f" ] || { fail setup "$f is missing (make all models; NST_SHARED=$S)"; exit 1; }
done
rm -rf "$T" && mkdir -p "$T" || exit 1

# ffmpeg's log at info level: the filter's realtime lines
rt() { # NAME CHECK VF OUT
	run "$1" "$2" -v info -re -t $SECS -i "$CLIP" -an -vf "scale=$SZ,$3" -f rawvideo "$4"
}
pts() { # framecrc -> the pts column
	grep -v '^#' "$1" | cut -d, -f3 | tr -d ' '
}

check="realtime=1 keeps a 25 fps live stream going"
run in "$check" -t $SECS -i "$CLIP" -an -vf "scale=$SZ" -f rawvideo "$T/in.raw" &&
run in-crc "$check" -t $SECS -i "$CLIP" -an -vf "scale=$SZ" -f framecrc "$T/in.crc" &&
rt live "$check" "nst=$MODEL:realtime=1" "$T/live.raw" &&
run live-crc "$check" -v info -re -t $SECS -i "$CLIP" -an -vf "scale=$SZ,nst=$MODEL:realtime=1" \
	-f framecrc "$T/live.crc" &&
{
	n=$(pts "$T/in.crc" | wc -l)
	summary=$(grep -o 'realtime: [0-9]* frames.*' "$T/live-crc.err" | tail -n 1)
	frames=$(echo "$summary" | sed -n 's/.*realtime: \([0-9]*\) frames.*/\1/p')
	wait=$(echo "$summary" | sed -n 's/.*at most \([0-9.]*\) ms in the filter.*/\1/p')
	allowed=$(echo "$summary" | sed -n 's/.*(\([0-9.]*\) ms allowed.*/\1/p')
	restyle=$(echo "$summary" | sed -n 's/.*a restyle took \([0-9.]*\) ms.*/\1/p')
	scale=$(echo "$summary" | sed -n 's/.*network at \([0-9.]*\) of.*/\1/p')
	if [ "$(pts "$T/live.crc")" != "$(pts "$T/in.crc")" ]; then
		fail "$check" "timestamps differ from the input's: $(pts "$T/live.crc" | wc -l) frames of $n"
	elif [ "$(size "$T/live.raw")" != "$(size "$T/in.raw")" ]; then
		fail "$check" "$(size "$T/live.raw") bytes out for $(size "$T/in.raw") in"
	elif [ "$frames" != "$n" ] || [ -z "$wait" ] || [ -z "$allowed" ] || [ -z "$restyle" ]; then
		fail "$check" "the filter's summary says '$summary' for $n frames (log: $T/live.err)"
	elif ! awk -v a="$allowed" 'BEGIN { exit !(a > 0 && a <= 32.05) }'; then
		fail "$check" "the filter allowed itself $allowed ms of waiting, more than 4/5 of the 40 ms between frames"
	elif ! awk -v w="$wait" -v a="$allowed" -v r="$restyle" \
		'BEGIN { exit !(w <= a + 40 || w < r / 2) }'; then
		# By the filter's own clock: it waits until its deadline, not for
		# the network. The wall clock past the deadline (the copy, the
		# wake-up) is a loaded machine's to stretch: one more frame
		# interval of it, or less than half a restyle, which a load
		# stretches alike, tells the two apart.
		fail "$check" "a frame waited $wait ms in the filter, past its $allowed ms deadline by more than a frame interval and more than half a restyle ($restyle ms)"
	elif ! awk -v s="$scale" 'BEGIN { exit !(s < 1) }'; then
		fail "$check" "the network stayed at $scale of the frame's size"
	else
		ok "$check: $n of $n frames out, timestamps kept, at most $wait ms in the filter; ${summary#*frames: }"
	fi
}

# restyled: the second half against the input
check="realtime=1 restyles the frames"
if [ -f "$T/live.raw" ] && [ -f "$T/in.raw" ]; then
	half=$(($(size "$T/in.raw") / 2))
	tail -c "$half" "$T/live.raw" > "$T/live-2.raw"
	tail -c "$half" "$T/in.raw" > "$T/in-2.raw"
	p=$(psnr "$T/live-2.raw" "$T/in-2.raw")
	if [ "$p" != inf ] && awk -v p="$p" 'BEGIN { exit !(p < 30) }'; then
		ok "$check: the second half $p dB from the input"
	else
		fail "$check" "the second half is $p dB from the input"
	fi
fi

# strength 0 from 1 s on: those frames as they came, bit for bit
check="realtime=1 with a strength 0 command: frames pass as they came"
rt zero "$check" "sendcmd=c='1.0 nst strength 0',nst=$MODEL:realtime=1" "$T/zero.raw" &&
{
	frame=$(($(size "$T/in.raw") / ($(pts "$T/in.crc" | wc -l))))
	tail -c $((frame * 40)) "$T/zero.raw" > "$T/zero-end.raw"
	tail -c $((frame * 40)) "$T/in.raw" > "$T/in-end.raw"
	if cmp -s "$T/zero-end.raw" "$T/in-end.raw"; then
		ok "$check (the last 40 frames)"
	else
		fail "$check" "the last 40 frames differ from the input"
	fi
}

# Vulkan frames: refused with a message, where ffmpeg has Vulkan
check="realtime=1 refuses Vulkan frames"
if "$FF" -hide_banner -buildconf 2>/dev/null | grep -q -- --enable-vulkan; then
	ff vk -init_hw_device vulkan=vk -filter_hw_device vk -i "$CLIP" -an -frames:v 1 \
		-vf "scale=$SZ,format=nv12,hwupload,nst=$MODEL:realtime=1,hwdownload,format=nv12" -f null -
	why=$(trouble vk)
	if [ -n "$why" ]; then
		fail "$check" "$why"
	elif [ "$rc" -ne 0 ] && grep -q "realtime=1 restyles frames in memory" "$T/vk.err"; then
		ok "$check"
	else
		fail "$check" "exit $rc, log: $T/vk.err"
	fi
fi

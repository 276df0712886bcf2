#!/bin/sh
# ffmpeg with the nst filter on Vulkan frames: -init_hw_device vulkan,
# hwupload, nst, hwdownload. The filter runs the engine on FFmpeg's own
# VkDevice and restyles the AVVkFrame's images there. Checked on a real clip
# at an odd size, in every pixel format that has Vulkan frames:
# - the output is the software path's (PSNR >= 45 dB; the two run the same
#   shaders, so they are bit for bit equal on one device);
# - a frame that is not writable (split) is restyled into a new frame and
#   the other branch keeps the original;
# - enable= and sendcmd work on Vulkan frames;
# - FFmpeg's device with its validation layer on (debug=1) reports nothing
#   that hwupload and hwdownload alone do not (tests/test_vkframes.c runs
#   the engine's image path on a device of its own under the layer, where
#   it reports nothing at all);
# - a device lost or hung at a frame ends the stream after the frames before it.
# Prints "ok - NAME" / "not ok - NAME: why".
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3).

HERE=$(dirname "$0")
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
PY=${PYTHON:-python3}
FF=$B/ffmpeg
MODEL=$B/models/udnie.bin
CLIP=$S/media/clips/vtest.avi
T=$B/check/hwframes
W=157 H=119 # odd: odd chroma sizes, rows that are not aligned
HW="-init_hw_device vulkan=vk -filter_hw_device vk"

. "$HERE/ffmpeg_lib.sh"

for f in "$FF" "$MODEL" "$CLIP"; do
	[ -f "$f" ] || { fail setup "$f is missing (make all models; NST_SHARED=$S)"; exit 1; }
done
rm -rf "$T" && mkdir -p "$T" || exit 1

# at_least DB P: P (a psnr.py result, "inf" when equal) is at least DB
at_least() { [ "$2" = inf ] || awk -v p="$2" -v m="$1" 'BEGIN { exit !(p + 0 >= m) }'; }
# like_memory CHECK HW SW WHAT: the Vulkan frames' output against memory's
like_memory() {
	p=$(psnr "$2" "$3")
	if at_least 45 "$p"; then
		ok "$1: PSNR $p dB against $4 in memory"
	else
		fail "$1" "PSNR $p dB against $4 in memory (need >= 45)"
	fi
}

want=$(sed -n 's/^FFMPEG_VULKAN := //p' "$B/config.mk" 2>/dev/null)
if ! "$FF" -hide_banner -buildconf 2>/dev/null | grep -q -- --enable-vulkan; then
	if [ "$want" = yes ]; then
		fail "ffmpeg has Vulkan" "build/config.mk asks for it, $FF was built without"
	else
		echo "# $FF has no Vulkan (./configure found no Vulkan headers >= 1.3.277): not run"
	fi
	exit 0
fi

# Vulkan frames against frames in memory, temporal smoothing on (its
# default), 5 frames of the clip.
for fmt in yuv420p nv12 yuv444p rgba bgra; do
	check="Vulkan frames = frames in memory ($fmt)"
	run "sw-$fmt" "$check" -i "$CLIP" -an -frames:v 5 \
		-vf "scale=$W:$H,format=$fmt,nst=$MODEL" -f rawvideo "$T/sw-$fmt.raw" || continue
	run "hw-$fmt" "$check" $HW -i "$CLIP" -an -frames:v 5 \
		-vf "scale=$W:$H,format=$fmt,hwupload,nst=$MODEL,hwdownload,format=$fmt" \
		-f rawvideo "$T/hw-$fmt.raw" || continue
	run "in-$fmt" "$check" -i "$CLIP" -an -frames:v 5 -vf "scale=$W:$H,format=$fmt" \
		-f rawvideo "$T/in-$fmt.raw" || continue
	p=$(psnr "$T/hw-$fmt.raw" "$T/sw-$fmt.raw")
	styled=$(psnr "$T/hw-$fmt.raw" "$T/in-$fmt.raw")
	if at_least 45 "$p"; then
		if ! at_least 30 "$styled"; then
			ok "$check: PSNR $p dB against memory; $styled dB against the input"
		else
			fail "$check" "not restyled: $styled dB against the input"
		fi
	else
		fail "$check" "PSNR $p dB against frames in memory (need >= 45)"
	fi
done

# A frame split in two is not writable: restyled into a new Vulkan frame,
# while the other branch keeps the original pixels. rgba: FFmpeg 7.1's
# hwdownload of split multi-image frames of odd sizes corrupts its heap on
# lavapipe, nst or not.
check="Vulkan frame not writable (split): restyled into another"
run split "$check" $HW -i "$CLIP" -an -frames:v 3 -filter_complex \
	"[0:v]scale=$W:$H,format=rgba,hwupload,split[a][b];[a]nst=$MODEL,hwdownload,format=rgba[x];[b]hwdownload,format=rgba[y];[x][y]vstack" \
	-f rawvideo "$T/split.raw" &&
run split-sw "$check" -i "$CLIP" -an -frames:v 3 -filter_complex \
	"[0:v]scale=$W:$H,format=rgba,split[a][b];[a]nst=$MODEL[x];[x][b]vstack" \
	-f rawvideo "$T/split-sw.raw" &&
like_memory "$check" "$T/split.raw" "$T/split-sw.raw" "both branches of the same graph"

# enable= and sendcmd on Vulkan frames, against the same in memory.
check="enable= and sendcmd on Vulkan frames"
cmds="sendcmd=c='0.15 nst strength 0.5;0.25 nst temporal 0'"
run cmd-sw "$check" -i "$CLIP" -an -frames:v 6 \
	-vf "scale=$W:$H,format=nv12,$cmds,nst=$MODEL:enable='gte(n,1)'" \
	-f rawvideo "$T/cmd-sw.raw" &&
run cmd-hw "$check" $HW -i "$CLIP" -an -frames:v 6 \
	-vf "scale=$W:$H,format=nv12,hwupload,$cmds,nst=$MODEL:enable='gte(n,1)',hwdownload,format=nv12" \
	-f rawvideo "$T/cmd-hw.raw" &&
like_memory "$check" "$T/cmd-hw.raw" "$T/cmd-sw.raw" "the same commands"

# FFmpeg's validation layer (debug=1): the message kinds of a run with nst
# must all be among those of hwupload/hwdownload alone, but for those that
# Debian 12's layer (1.3.239) gives when FFmpeg's synchronization2
# barriers, which it does not track, come before a vkQueueSubmit: an image
# "expected" in the layout FFmpeg left it in, and its own timeouts waiting
# for the queue, fence and semaphore states it then cannot resolve
# (UNASSIGNED-*-state-timeout, "most likely a validation bug", it says).
kinds() { # log -> the message ids, sorted
	grep -o 'Validation [A-Za-z]*: \[ [^ ]* \]' "$1" | sed 's/.*\[ \(.*\) \]/\1/' | sort -u
}
check="FFmpeg's validation layer: nothing that hwupload alone does not give"
ff val-base -v warning -init_hw_device vulkan=vk:0,debug=1 -filter_hw_device vk -i "$CLIP" \
	-an -frames:v 3 -vf "scale=$W:$H,format=yuv420p,hwupload,hwdownload,format=yuv420p" -f null -
base_rc=$rc
ff val-nst -v warning -init_hw_device vulkan=vk:0,debug=1 -filter_hw_device vk -i "$CLIP" \
	-an -frames:v 3 -vf "scale=$W:$H,format=yuv420p,hwupload,nst=$MODEL,hwdownload,format=yuv420p" -f null -
if [ "$base_rc" -ne 0 ] || [ "$rc" -ne 0 ]; then
	fail "$check" "ffmpeg exited with $base_rc / $rc (logs: $T/val-*.err)"
else
	new=$(kinds "$T/val-nst.err" | grep -v -x -F "$(kinds "$T/val-base.err")" |
		grep -v -x -e UNASSIGNED-CoreValidation-DrawState-InvalidImageLayout \
			-e 'UNASSIGNED-Vk[A-Za-z]*-state-timeout')
	if [ -z "$new" ]; then
		ok "$check ($(kinds "$T/val-nst.err" | wc -l) kind(s), $(kinds "$T/val-base.err" | wc -l) without nst)"
	else
		fail "$check" "new: $(echo $new) (log: $T/val-nst.err)"
	fi
fi

# A device lost or hung at the third Vulkan frame (NST_FAULT): the two
# before it come out as without the fault, then the stream ends with the
# error, no hang and no crash.
check="Vulkan frames: a device lost or hung at frame 3"
vf="scale=96:72,format=nv12,hwupload,nst=$MODEL,hwdownload,format=nv12"
run fault-none "$check" $HW -i "$CLIP" -an -frames:v 2 -vf "$vf" -f framecrc "$T/fault-none.crc" &&
for fault in submit@3 hang@3; do
	NST_FAULT=$fault ff "fault-$fault" $HW -i "$CLIP" -an -frames:v 6 -vf "$vf" \
		-f framecrc "$T/fault-$fault.crc"
	why=$(trouble "fault-$fault")
	if [ -n "$why" ]; then
		fail "$check ($fault)" "$why"
	elif [ "$rc" -eq 0 ]; then
		fail "$check ($fault)" "ffmpeg exited with 0"
	elif [ "$(grep -v '^#' "$T/fault-$fault.crc")" != "$(grep -v '^#' "$T/fault-none.crc")" ]; then
		fail "$check ($fault)" "frames 1..2 not as without the fault: $(grep -vc '^#' "$T/fault-$fault.crc") out"
	else
		ok "$check ($fault): frames 1..2 out as without it, then exit $rc"
	fi
done

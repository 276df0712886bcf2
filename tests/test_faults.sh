#!/bin/sh
# Faults around the filter, end to end through ffmpeg on real clips: a
# device lost or hung mid-stream (NST_FAULT), frame size and pixel format
# changing mid-stream, two nst instances in one graph, the model file
# replaced while ffmpeg runs, and ffmpeg interrupted (SIGINT). Each output
# file must be valid and hold every frame restyled before the event.
# Prints "ok - NAME" / "not ok - NAME: why".
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3).

HERE=$(dirname "$0")
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
PY=${PYTHON:-python3}
FF=$B/ffmpeg
PROBE=$B/ffprobe
MODEL=$B/models/udnie.bin
MODEL2=$B/models/wave.bin
CLIP=$S/media/clips/vtest.avi
T=$B/check/faults
W=157 H=119

. "$HERE/ffmpeg_lib.sh"

for f in "$FF" "$PROBE" "$MODEL" "$MODEL2" "$CLIP"; do
	[ -f "$f" ] || { fail setup "$f is missing (make all models; NST_SHARED=$S)"; exit 1; }
done
rm -rf "$T" && mkdir -p "$T" || exit 1

frames() { grep -vc '^#' "$1"; }                 # frames in a framecrc file
crcs() { grep -v '^#' "$1" | awk -F, '{ print $NF }' | tr -d ' '; }
counted() { # frames in a media file, decoded (empty if it does not decode)
	"$PROBE" -v error -count_frames -select_streams v:0 \
		-show_entries stream=nb_read_frames -of csv=p=0 "$1" 2>/dev/null
}
decodes() { # the whole file decodes without a message
	[ -z "$("$FF" -hide_banner -nostdin -v error -i "$1" -f null - 2>&1)" ]
}
# progress FILE: the last frame count ffmpeg wrote to its -progress file
progress() { grep '^frame=' "$1" 2>/dev/null | tail -n 1 | cut -d= -f2; }
# wait_frames PID FILE N: until ffmpeg PID has output N frames (0) or ended (1)
wait_frames() {
	while kill -0 "$1" 2>/dev/null; do
		[ "$(progress "$2")" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# wait_end PID SECONDS: waits for PID, killing it after SECONDS; $rc is its
# status, 124 when it had to be killed (a hang)
wait_end() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1"; wait "$1"; rc=124
	else
		wait "$1"; rc=$?
	fi
}

# ---- (a) a failure mid-stream keeps every frame before it ---------------------
# The device is lost at frame 4's submission, or never finishes frame 4.
# ffmpeg must fail, and both of its outputs (a framecrc and a Matroska
# file) hold frames 1..3, those of a run without the fault, and nothing
# else; the Matroska file is whole. The framecrc's encoder runs on one
# thread, so that it holds no frame back: what it writes is what the
# filter put out.
#
# FFmpeg's own behaviour differs here: the ffmpeg of 5.1 (before 7.0's
# threaded one) exits at once on a filter error, without flushing its
# encoders or writing a trailer, so that its Matroska file is empty
# whatever the filter did. There the Matroska file is not checked.
ffmajor=$("$FF" -hide_banner -version | sed -n 's/^ffmpeg version n\{0,1\}\([0-9]*\)[.].*/\1/p')
run mid-clean "failure mid-stream" -i "$CLIP" -an -vf "trim=end_frame=8,scale=$W:$H,nst=$MODEL" \
	-f framecrc "$T/mid-clean.crc" &&
crcs "$T/mid-clean.crc" | head -n 3 > "$T/mid-clean.first3" &&
for fault in submit@4 hang@4; do
	for pl in 0 1; do
		check="failure mid-stream (NST_FAULT=$fault, pipeline=$pl)"
		NST_FAULT=$fault ff "mid-$fault-$pl" -i "$CLIP" -an -filter_complex \
			"[0:v]trim=end_frame=8,scale=$W:$H,nst=$MODEL:pipeline=$pl,split[a][b]" \
			-map '[a]' -threads 1 -f framecrc "$T/mid.crc" -map '[b]' -c:v mpeg4 "$T/mid.mkv"
		why=$(trouble "mid-$fault-$pl")
		n=$(frames "$T/mid.crc") mkv=$(counted "$T/mid.mkv")
		if [ -n "$why" ]; then
			fail "$check" "$why (log: $T/mid-$fault-$pl.err)"
		elif [ "$rc" -eq 0 ]; then
			fail "$check" "ffmpeg succeeded"
		elif ! grep -q 'Cannot process' "$T/mid-$fault-$pl.err"; then
			fail "$check" "nst said nothing of the failure (log: $T/mid-$fault-$pl.err)"
		elif [ "$n" -ne 3 ] || ! crcs "$T/mid.crc" | cmp -s - "$T/mid-clean.first3"; then
			fail "$check" "$n frames out, expected frames 1..3 of the run without the fault"
		elif [ "${ffmajor:-99}" -lt 7 ]; then
			ok "$check: exit $rc, frames 1..3 out as without the fault (ffmpeg $ffmajor writes no trailer after a filter error: Matroska file not checked)"
		elif [ "$mkv" != 3 ] || ! decodes "$T/mid.mkv"; then
			fail "$check" "the Matroska output holds '$mkv' frames or does not decode cleanly"
		else
			ok "$check: exit $rc, frames 1..3 out as without the fault, Matroska file whole"
		fi
	done
done

# ---- (b) frame size and pixel format changing mid-stream ----------------------
# A PNG sequence: three rgb24 frames, three rgba at another size, three
# gray. ffmpeg rebuilds the graph at each change: a new nst instance,
# which says so as it creates its engine ("Style ..."; the ffmpeg of 7.1 says
# "Reconfiguring filter graph" too, that of 5.1 nothing). Every frame must
# come out, restyled.
i=0
for seg in "$W:$H:rgb24" "128:96:rgba" "$W:$H:gray"; do
	"$FF" -nostdin -v error -y -i "$CLIP" -vf \
		"trim=start_frame=$i:end_frame=$((i + 3)),scale=${seg%:*},format=${seg##*:}" \
		-start_number $i "$T/mix%03d.png" || fail "size and format change" "cannot make the PNGs"
	i=$((i + 3))
done
check="size and format change (graph rebuilt)"
run mix-plain "$check" -framerate 10 -i "$T/mix%03d.png" -f framecrc "$T/mix-plain.crc" &&
run mix "$check" -v info -framerate 10 -i "$T/mix%03d.png" -vf "nst=$MODEL" -f framecrc "$T/mix.crc" && {
	rebuilt=$(($(grep -c "Style '" "$T/mix.err") - 1))
	styled=$(crcs "$T/mix.crc" > "$T/mix.a"; crcs "$T/mix-plain.crc" > "$T/mix.b"
		paste -d ' ' "$T/mix.a" "$T/mix.b" | awk '$1 != $2' | wc -l)
	if [ "$(frames "$T/mix.crc")" -ne 9 ] || [ "$styled" -ne 9 ]; then
		fail "$check" "$(frames "$T/mix.crc") frames out, $styled restyled; expected 9 and 9"
	elif [ "$rebuilt" -ne 2 ]; then
		fail "$check" "ffmpeg rebuilt the graph $rebuilt times, expected 2: not the case meant"
	else
		ok "$check: 9 frames out of 9, all restyled, across 2 graph rebuilds"
	fi
}
# -reinit_filter 0 keeps the graph: the one nst instance follows the size
# changes itself. Each segment's frames must be those of the segment run on
# its own, bit for bit (a size change starts the smoothing afresh), with
# frames pipelined.
for seg in 0 3 6; do
	"$FF" -nostdin -v error -y -i "$CLIP" -vf \
		"trim=start_frame=$seg:end_frame=$((seg + 3)),scale=$([ $seg = 3 ] && echo 128:96 || echo $W:$H),format=rgb24" \
		-start_number $seg "$T/size%03d.png"
	run "size-seg$seg" "size change" -framerate 10 -start_number $seg -i "$T/size%03d.png" \
		-frames:v 3 -vf "nst=$MODEL" -f framecrc "$T/size-seg$seg.crc"
done
cat "$T/size-seg0.crc" "$T/size-seg3.crc" "$T/size-seg6.crc" | crcs /dev/stdin > "$T/size-segs"
for pl in 0 1; do
	check="size change (-reinit_filter 0, pipeline=$pl)"
	run "size-$pl" "$check" -reinit_filter 0 -framerate 10 -i "$T/size%03d.png" \
		-vf "nst=$MODEL:pipeline=$pl" -f framecrc "$T/size-$pl.crc" || continue
	sizes=$(grep -v '^#' "$T/size-$pl.crc" | awk -F, '{ printf "%d ", $5 }')
	if [ "$(frames "$T/size-$pl.crc")" -ne 9 ]; then
		fail "$check" "$(frames "$T/size-$pl.crc") frames out of 9"
	elif [ "$sizes" != "$((W * H * 3)) $((W * H * 3)) $((W * H * 3)) 36864 36864 36864 $((W * H * 3)) $((W * H * 3)) $((W * H * 3)) " ]; then
		fail "$check" "frame sizes $sizes"
	elif ! crcs "$T/size-$pl.crc" | cmp -s - "$T/size-segs"; then
		fail "$check" "frames differ from the segments run on their own"
	else
		ok "$check: 9 frames at ${W}x$H, 128x96, ${W}x$H, each as its segment alone"
	fi
done

# ---- (c) two nst instances in one graph ----------------------------------------
# Side by side (split), each must give what it gives alone; one after the
# other, the second restyles the first's output.
run two-u "two instances" -i "$CLIP" -an -frames:v 4 -vf "scale=$W:$H,nst=$MODEL" -f framecrc "$T/two-u.crc" &&
run two-w "two instances" -i "$CLIP" -an -frames:v 4 -vf "scale=$W:$H,nst=$MODEL2" -f framecrc "$T/two-w.crc" &&
run two-par "two instances (split)" -i "$CLIP" -an -filter_complex \
	"[0:v]scale=$W:$H,split[a][b];[a]nst=$MODEL[x];[b]nst=$MODEL2[y]" -frames:v 4 \
	-map '[x]' -f framecrc "$T/two-x.crc" -map '[y]' -frames:v 4 -f framecrc "$T/two-y.crc" &&
if cmp -s "$T/two-x.crc" "$T/two-u.crc" && cmp -s "$T/two-y.crc" "$T/two-w.crc" &&
	[ "$(frames "$T/two-x.crc")" -eq 4 ] && ! cmp -s "$T/two-x.crc" "$T/two-y.crc"; then
	ok "two instances (split): udnie and wave side by side, 4 frames each, each as alone"
else
	fail "two instances (split)" "outputs differ from the single-instance runs"
fi
run two-ser "two instances (chained)" -i "$CLIP" -an -frames:v 4 \
	-vf "scale=$W:$H,nst=$MODEL,nst=$MODEL2" -f framecrc "$T/two-ser.crc" &&
if [ "$(frames "$T/two-ser.crc")" -eq 4 ] && ! cmp -s "$T/two-ser.crc" "$T/two-u.crc" &&
	! cmp -s "$T/two-ser.crc" "$T/two-w.crc"; then
	ok "two instances (chained): udnie then wave, 4 frames"
else
	fail "two instances (chained)" "$(frames "$T/two-ser.crc") frames, or the same as one model alone"
fi

# ---- (d) the model file replaced while ffmpeg runs -----------------------------
# The model is read once, when the filter starts: overwriting the file in
# place (with another model, then with garbage) changes nothing.
N=12
run live-ref "model replaced" -i "$CLIP" -an -frames:v $N -vf "scale=$W:$H,nst=$MODEL" \
	-f framecrc "$T/live-ref.crc" && {
	cp "$MODEL" "$T/live.bin"
	"$FF" -hide_banner -nostdin -y -v warning -i "$CLIP" -an -frames:v $N \
		-vf "scale=$W:$H,nst=$T/live.bin" -stats_period 0.1 -progress "$T/live.progress" \
		-f framecrc "$T/live.crc" 2>"$T/live.err" &
	pid=$!
	if wait_frames $pid "$T/live.progress" 1; then
		cat "$MODEL2" > "$T/live.bin"
		sleep 0.3
		head -c 100 /dev/urandom > "$T/live.bin"
		running=1; kill -0 $pid 2>/dev/null || running=0
		wait_end $pid 120
		if [ "$running" -eq 0 ]; then
			fail "model replaced" "ffmpeg ended before the file was replaced: nothing tested"
		elif [ "$rc" -ne 0 ] || [ -n "$(trouble live)" ]; then
			fail "model replaced" "ffmpeg exited with $rc (log: $T/live.err)"
		elif ! cmp -s "$T/live.crc" "$T/live-ref.crc"; then
			fail "model replaced" "frames differ from the run with the file untouched"
		else
			ok "model replaced: overwritten after frame 1 (another model, then garbage); $N frames as with the file untouched"
		fi
	else
		wait_end $pid 1
		fail "model replaced" "ffmpeg ended before its first frame (log: $T/live.err)"
	fi
}

# ---- (e) ffmpeg interrupted (SIGINT) --------------------------------------------
# The clip loops without end into an MP4 (its index is written last); after
# some frames, SIGINT. ffmpeg must stop within a minute, and the file must
# decode whole and hold every frame ffmpeg reported done, pipelined or not.
for pl in 0 1; do
	check="SIGINT (pipeline=$pl)"
	"$FF" -hide_banner -nostdin -y -v warning -stream_loop -1 -i "$CLIP" -an \
		-vf "scale=$W:$H,nst=$MODEL:pipeline=$pl" -c:v mpeg4 -stats_period 0.1 \
		-progress "$T/int-$pl.progress" "$T/int-$pl.mp4" 2>"$T/int-$pl.err" &
	pid=$!
	if ! wait_frames $pid "$T/int-$pl.progress" 4; then
		wait_end $pid 1
		fail "$check" "ffmpeg ended before 4 frames (log: $T/int-$pl.err)"
		continue
	fi
	kill -INT $pid
	wait_end $pid 60
	done_frames=$(progress "$T/int-$pl.progress")
	got=$(counted "$T/int-$pl.mp4")
	if [ "$rc" -eq 124 ]; then
		fail "$check" "ffmpeg did not stop within 60 s of SIGINT"
	elif [ -n "$(trouble "int-$pl")" ]; then
		fail "$check" "$(trouble "int-$pl") (log: $T/int-$pl.err)"
	elif ! grep -q '^progress=end' "$T/int-$pl.progress"; then
		fail "$check" "ffmpeg did not finish its output (no progress=end)"
	elif [ -z "$got" ] || ! decodes "$T/int-$pl.mp4"; then
		fail "$check" "the MP4 does not decode cleanly"
	elif [ "$got" -lt 4 ] || [ "$got" != "$done_frames" ]; then
		fail "$check" "the MP4 holds $got frames; ffmpeg reported $done_frames done"
	else
		ok "$check: stopped (exit $rc), the MP4 decodes whole with all $got frames done"
	fi
done

# ---- (f) no device, no compute queue, no device memory, at the start ----------
for case in "device:vkCreateDevice" "compute:compute queue" "alloc@2:vkAllocateMemory" \
	"alloc@1+:vkAllocateMemory"; do
	fault=${case%%:*} words=${case#*:}
	check="NST_FAULT=$fault at the start"
	NST_FAULT=$fault ff "start-$fault" -i "$CLIP" -an -frames:v 2 -vf "scale=$W:$H,nst=$MODEL" -f null -
	msg=$(grep -m 1 "Parsed_nst.*$words" "$T/start-$fault.err")
	if [ -n "$(trouble "start-$fault")" ]; then
		fail "$check" "$(trouble "start-$fault") (log: $T/start-$fault.err)"
	elif [ "$rc" -eq 0 ]; then
		fail "$check" "ffmpeg succeeded"
	elif [ -z "$msg" ] || ! grep -q 'Cannot create the engine' "$T/start-$fault.err"; then
		fail "$check" "no message saying '$words' and that the engine cannot be created"
	else
		ok "$check: exit $rc, \"$(echo "$msg" | sed 's/^\[[^]]*\] *//')\""
	fi
done

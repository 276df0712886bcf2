#!/bin/sh
# ffmpeg with the nst filter, end to end, on a real clip: every pixel format,
# frame count and timestamps, strength=0, sendcmd (strength, size, model) and
# enable=, the network's size, bad models and bad options, small and odd
# sizes. Prints "ok - NAME" / "not ok - NAME: why".
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3).
# With NST_VALIDATION=1 (tests/run.sh sets it) libnst runs the Vulkan
# validation layer and reports through the filter's log: any such message
# fails the check whose run printed it.

HERE=$(dirname "$0")
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
PY=${PYTHON:-python3}
FF=$B/ffmpeg
MODEL=$B/models/udnie.bin
CLIP=$S/media/clips/vtest.avi
T=$B/check/ffmpeg
W=157 H=119 # odd on purpose: odd chroma sizes, rows that are not aligned

. "$HERE/ffmpeg_lib.sh"

for f in "$FF" "$MODEL" "$CLIP"; do
	[ -f "$f" ] || { fail setup "$f is missing (make all models; NST_SHARED=$S)"; exit 1; }
done
rm -rf "$T" && mkdir -p "$T" || exit 1

# ---- (a) every pixel format gives the rgb24 picture --------------------------
# The engine converts YUV itself (matrix, range, chroma siting). Its output in
# format PIX is compared with what the rgb24 path gives when swscale does the
# same round trip through PIX on both sides: a 4:2:0 input has lost chroma
# before the network sees it, and a 4:2:0 output loses it again, by design.
N=3
for pix in rgb24 rgba bgra yuv420p yuv444p nv12; do
	run "fmt-$pix" "pixfmt $pix" -i "$CLIP" -an -frames:v $N \
		-vf "scale=$W:$H,format=$pix,nst=$MODEL,format=rgb24" -f rawvideo "$T/$pix.rgb" || continue
	case $pix in
	rgb24|rgba|bgra) ref=rgb24 ;;       # lossless to and from rgb24
	yuv420p|nv12)    ref=yuv420p-ref ;; # the same 4:2:0 samples
	yuv444p)         ref=yuv444p-ref ;;
	esac
	if [ ! -f "$T/$ref.rgb" ]; then
		rpix=${ref%-ref}
		run "fmt-$ref" "pixfmt $pix" -i "$CLIP" -an -frames:v $N \
			-vf "scale=$W:$H,format=$rpix,format=rgb24,nst=$MODEL,format=$rpix,format=rgb24" \
			-f rawvideo "$T/$ref.rgb" || continue
	fi
	want=$((W * H * 3 * N))
	got=$(size "$T/$pix.rgb")
	db=$(psnr "$T/$pix.rgb" "$T/$ref.rgb")
	if [ "$got" -ne "$want" ]; then
		fail "pixfmt $pix" "$got bytes of output, expected $want ($N frames of ${W}x$H)"
	else
		against="the rgb24 path"
		[ "$ref" = rgb24 ] ||
			against="the rgb24 path through ${ref%-ref} ($(psnr "$T/$pix.rgb" "$T/rgb24.rgb") dB against plain rgb24)"
		if [ "$db" = inf ] || awk "BEGIN { exit !($db >= 40) }" 2>/dev/null; then
			ok "pixfmt $pix: PSNR $db dB against $against"
		else
			fail "pixfmt $pix" "PSNR $db dB against $against, expected >= 40"
		fi
	fi
done

# ---- (b) frame count and timestamps are kept ----------------------------------
# framecrc lines: stream, dts, pts, duration, size, crc. All but the crc must
# match the run without nst.
run ts-plain "timestamps" -i "$CLIP" -an -frames:v 5 -vf "scale=$W:$H" -f framecrc "$T/ts-plain.crc" &&
grep -v '^#' "$T/ts-plain.crc" | cut -d, -f1-5 > "$T/ts-plain.cols" &&
for variant in nst temporal; do
	opts=; [ $variant = temporal ] && opts=:temporal=0.5
	check_name="timestamps ($variant)"
	run "ts-$variant" "$check_name" -i "$CLIP" -an -frames:v 5 -vf "scale=$W:$H,nst=$MODEL$opts" \
		-f framecrc "$T/ts-$variant.crc" || continue
	grep -v '^#' "$T/ts-$variant.crc" | cut -d, -f1-5 > "$T/ts-$variant.cols"
	n=$(wc -l < "$T/ts-$variant.cols" | tr -d ' ')
	if [ "$n" -ne 5 ]; then
		fail "$check_name" "$n frames out of nst, expected 5"
	elif ! cmp -s "$T/ts-plain.cols" "$T/ts-$variant.cols"; then
		fail "$check_name" "stream/dts/pts/duration/size differ: $(diff "$T/ts-plain.cols" "$T/ts-$variant.cols" | sed -n 2p)"
	elif cmp -s "$T/ts-plain.crc" "$T/ts-$variant.crc"; then
		fail "$check_name" "the frames came out unchanged: the style was not applied"
	else
		ok "$check_name: 5 frames, pts and durations unchanged"
	fi
done

# ---- (b2) pipelined frames: every frame out, in order, as without pipelining --
# The filter holds one frame while the device restyles the next (pipeline=1)
# and lets it out at the end of the stream (trim: the input
# ends, the held frame must follow). Count, order, pts and durations equal
# the input's; the pixels equal pipeline=0's, bit for bit, with temporal
# smoothing on (it depends on the order), and with a timeline span switched
# off in the middle (those frames pass unchanged, in their turn).
run pl-plain "pipeline" -i "$CLIP" -an -vf "trim=end_frame=7,scale=$W:$H,format=yuv420p" \
	-f framecrc "$T/pl-plain.crc" &&
grep -v '^#' "$T/pl-plain.crc" | cut -d, -f1-5 > "$T/pl-plain.cols" &&
for opts in "temporal=0.5" "temporal=0.5:enable='not(between(n,2,3))'"; do
	for pl in 1 0; do
		run "pl-$pl" "pipeline ($opts)" -i "$CLIP" -an \
			-vf "trim=end_frame=7,scale=$W:$H,format=yuv420p,nst=$MODEL:$opts:pipeline=$pl" \
			-f framecrc "$T/pl-$pl.crc" || continue 2
		grep -v '^#' "$T/pl-$pl.crc" | cut -d, -f1-5 > "$T/pl-$pl.cols"
	done
	n=$(wc -l < "$T/pl-1.cols" | tr -d ' ')
	if [ "$n" -ne 7 ]; then
		fail "pipeline ($opts)" "$n frames out of nst, expected 7"
	elif ! cmp -s "$T/pl-plain.cols" "$T/pl-1.cols"; then
		fail "pipeline ($opts)" "stream/dts/pts/duration/size differ from the input's: $(diff "$T/pl-plain.cols" "$T/pl-1.cols" | sed -n 2p)"
	elif ! cmp -s "$T/pl-1.crc" "$T/pl-0.crc"; then
		fail "pipeline ($opts)" "frames differ from pipeline=0's: $(diff "$T/pl-0.crc" "$T/pl-1.crc" | sed -n 2p)"
	elif cmp -s "$T/pl-plain.crc" "$T/pl-1.crc"; then
		fail "pipeline ($opts)" "the frames came out unchanged: the style was not applied"
	else
		ok "pipeline ($opts): 7 frames in order, pts as in, bit-exact with pipeline=0"
	fi
done
# The upload in a submission of its own, handed to the compute submission
# by a semaphore (NST_TRANSFER=1; automatic where the device has a queue
# family for copies): the same frames, and no validation message.
(
	export NST_TRANSFER=1
	run pl-two "pipeline (NST_TRANSFER=1)" -i "$CLIP" -an \
		-vf "trim=end_frame=7,scale=$W:$H,format=yuv420p,nst=$MODEL:temporal=0.5:pipeline=1:enable='not(between(n,2,3))'" \
		-f framecrc "$T/pl-two.crc" &&
	if cmp -s "$T/pl-0.crc" "$T/pl-two.crc"; then
		ok "pipeline (NST_TRANSFER=1): bit-exact with pipeline=0"
	else
		fail "pipeline (NST_TRANSFER=1)" "frames differ from pipeline=0's: $(diff "$T/pl-0.crc" "$T/pl-two.crc" | sed -n 2p)"
	fi
)

# ---- (c) strength=0 is the identity, bit for bit ------------------------------
for pix in rgb24 yuv420p; do
	run "s0-plain-$pix" "strength=0 $pix" -i "$CLIP" -an -frames:v 3 \
		-vf "scale=$W:$H,format=$pix" -f framemd5 "$T/s0-plain-$pix.md5" || continue
	run "s0-nst-$pix" "strength=0 $pix" -i "$CLIP" -an -frames:v 3 \
		-vf "scale=$W:$H,format=$pix,nst=model=$MODEL:strength=0" -f framemd5 "$T/s0-nst-$pix.md5" || continue
	if cmp -s "$T/s0-plain-$pix.md5" "$T/s0-nst-$pix.md5"; then
		ok "strength=0 $pix: bit-exact"
	else
		fail "strength=0 $pix" "frames differ from the input (framemd5)"
	fi
done

# ---- (d) runtime control: sendcmd and enable= ---------------------------------
# vtest.avi is 10 fps: frames at 0.0 .. 0.4 s. Styled frames must differ from
# the plain ones, unstyled frames must equal them.
# compare_md5 CHECK FILE PATTERN: one letter per frame of FILE, p where it
# equals the plain run's frame, s (styled) where it differs.
run rt-plain "runtime" -i "$CLIP" -an -frames:v 5 -vf "scale=$W:$H,format=rgb24" -f framemd5 "$T/rt-plain.md5"
compare_md5() {
	got=$(grep -v '^#' "$2" | awk -F, '{ print $NF }' | tr -d ' ' > "$T/rt.a"
		grep -v '^#' "$T/rt-plain.md5" | awk -F, '{ print $NF }' | tr -d ' ' > "$T/rt.b"
		paste -d ' ' "$T/rt.a" "$T/rt.b" | awk '{ printf "%s", $1 == $2 ? "p" : "s" }')
	if [ "$got" = "$3" ]; then
		ok "$1: frames $got (s styled, p plain)"
	else
		fail "$1" "frames $got (s styled, p plain), expected $3"
	fi
}
run rt-sendcmd "sendcmd strength" -i "$CLIP" -an -frames:v 5 \
	-vf "scale=$W:$H,format=rgb24,sendcmd=c='0.25 nst strength 0',nst=$MODEL" -f framemd5 "$T/rt-sendcmd.md5" &&
	compare_md5 "sendcmd strength" "$T/rt-sendcmd.md5" ssspp
run rt-enable "enable=" -i "$CLIP" -an -frames:v 5 \
	-vf "scale=$W:$H,format=rgb24,nst=$MODEL:enable='gte(t,0.25)'" -f framemd5 "$T/rt-enable.md5" &&
	compare_md5 "enable=" "$T/rt-enable.md5" pppss

# The command model: the new model is loaded and its engine made by a thread
# while the old one goes on, then put in place between frames. Every frame
# must be one of the two models' own (per-frame smoothing), udnie's up to the
# command at 0.25 s and at least one after it, then only wave's, pipelined or
# not. A file that is no model changes nothing; nor does a switch still under
# way at the end of the stream (joined as the filter closes).
# styles FILE: one letter per frame: u udnie's, w wave's, ? neither
styles() {
	grep -v '^#' "$1" | awk -F, '{ print $NF }' | tr -d ' ' |
		paste -d ' ' - "$T/rt-u.sums" "$T/rt-w.sums" |
		awk '{ printf "%s", $1 == $2 ? "u" : $1 == $3 ? "w" : "?" }'
}
MODEL2=$B/models/wave.bin
run rt-u "command model" -i "$CLIP" -an -frames:v 20 -vf "scale=$W:$H,format=rgb24,nst=$MODEL:temporal=0" \
	-f framemd5 "$T/rt-u.md5" &&
run rt-w "command model" -i "$CLIP" -an -frames:v 20 -vf "scale=$W:$H,format=rgb24,nst=$MODEL2:temporal=0" \
	-f framemd5 "$T/rt-w.md5" && {
	grep -v '^#' "$T/rt-u.md5" | awk -F, '{ print $NF }' | tr -d ' ' > "$T/rt-u.sums"
	grep -v '^#' "$T/rt-w.md5" | awk -F, '{ print $NF }' | tr -d ' ' > "$T/rt-w.sums"
	for pl in 0 1; do
		check="command model (pipeline=$pl)"
		run "rt-model-$pl" "$check" -i "$CLIP" -an -frames:v 20 \
			-vf "scale=$W:$H,format=rgb24,sendcmd=c='0.25 nst model $MODEL2',nst=$MODEL:temporal=0:pipeline=$pl" \
			-f framemd5 "$T/rt-model-$pl.md5" || continue
		got=$(styles "$T/rt-model-$pl.md5")
		if echo "$got" | grep -qE '^uuuu+w+$'; then
			ok "$check: frames $got (u udnie, w wave)"
		else
			fail "$check" "frames $got (u udnie, w wave), expected uuuu..., then only w"
		fi
	done
	run rt-model-bad "command model (not a model)" -i "$CLIP" -an -frames:v 20 \
		-vf "scale=$W:$H,format=rgb24,sendcmd=c='0.25 nst model $CLIP',nst=$MODEL:temporal=0" \
		-f framemd5 "$T/rt-model-bad.md5" && {
		got=$(styles "$T/rt-model-bad.md5")
		if [ "$got" = uuuuuuuuuuuuuuuuuuuu ] && grep -q 'Keeping the model' "$T/rt-model-bad.err"; then
			ok "command model (not a model): refused with a message, udnie kept for all 20 frames"
		else
			fail "command model (not a model)" "frames $got, or no message (log: $T/rt-model-bad.err)"
		fi
	}
	run rt-model-end "command model (at the end)" -i "$CLIP" -an -frames:v 3 \
		-vf "scale=$W:$H,format=rgb24,sendcmd=c='0.15 nst model $MODEL2',nst=$MODEL:temporal=0" \
		-f framemd5 "$T/rt-model-end.md5" &&
		ok "command model (at the end): a switch still under way as the stream ends, cleanly"
}

# ---- (d2) temporal smoothing: timestamp jumps reset it -----------------------
# Frame 3 of five: smoothed, it differs from the per-frame frame 3; after a
# 5-second jump in the timestamps just before it, it is the per-frame one
# (the first frame of a fresh state goes through the blend pass: within a
# level, hence >= 50 dB rather than bit-exact).
frame3() { # name filter-options [filter before nst]
	# trim, not -frames:v: the output has one frame, and ffmpeg would decode
	# the whole clip looking for five
	run "tj-$1" "temporal reset ($1)" -i "$CLIP" -an \
		-vf "trim=end_frame=5,scale=$W:$H,format=rgb24,${3:+$3,}nst=$MODEL:$2,select=eq(n\\,3)" \
		-f rawvideo "$T/tj-$1.rgb"
}
frame3 perframe temporal=0 &&
frame3 smoothed temporal=0.9 &&
frame3 jump temporal=0.9 "setpts=PTS+gte(N\\,3)*5/TB" &&
frame3 back temporal=0.9 "setpts=PTS-gte(N\\,3)*0.25/TB" && {
	for v in smoothed jump back; do
		db=$(psnr "$T/tj-$v.rgb" "$T/tj-perframe.rgb")
		case $v in
		smoothed) want='< 50' what="smoothed, unlike the per-frame frame" ;;
		jump)     want='>= 50' what="after a 5 s jump forward: the per-frame frame" ;;
		back)     want='>= 50' what="after a jump back: the per-frame frame" ;;
		esac
		if [ "$db" != inf ] && ! awk "BEGIN { exit !($db $want) }"; then
			fail "temporal reset ($v)" "frame 3 at $db dB from the per-frame one, expected $want"
		elif [ "$db" = inf ] && [ "$v" = smoothed ]; then
			fail "temporal reset ($v)" "frame 3 is the per-frame one: nothing was smoothed"
		else
			ok "temporal reset ($v): frame 3 $what ($db dB)"
		fi
	done
}
for m in warp norm; do
	run "smooth-$m" "smooth=$m" -i "$CLIP" -an -frames:v 3 \
		-vf "scale=$W:$H,nst=$MODEL:smooth=$m" -f framecrc "$T/smooth-$m.crc" &&
		ok "smooth=$m: runs"
done

# ---- (d2b) tensor storage precision -------------------------------------------
# precision=fp16 runs the .f16 shaders (lavapipe has the format): close to
# fp32 (>= 38 dB), but not the same path (not bit-exact); the log says which.
run prec-fp32 "precision=fp32" -i "$CLIP" -an -frames:v 2 \
	-vf "scale=$W:$H,format=rgb24,nst=$MODEL:temporal=0:precision=fp32" -f rawvideo "$T/prec-fp32.rgb" &&
run prec-fp16 "precision=fp16" -i "$CLIP" -an -frames:v 2 -v info \
	-vf "scale=$W:$H,format=rgb24,nst=$MODEL:temporal=0:precision=fp16" -f rawvideo "$T/prec-fp16.rgb" &&
{
	db=$(psnr "$T/prec-fp16.rgb" "$T/prec-fp32.rgb")
	if ! grep -q 'fp16 tensors' "$T/prec-fp16.err"; then
		fail "precision=fp16" "the log does not say fp16 tensors"
	elif [ "$db" != inf ] && awk "BEGIN { exit !($db >= 38) }"; then
		ok "precision=fp16: $db dB from fp32 (>= 38, not bit-exact)"
	else
		fail "precision=fp16" "$db dB from fp32: expected >= 38 and not identical"
	fi
}
# precision=fp16a adds the convolutions' fp16 multiplies (the .a16 shaders;
# lavapipe has shaderFloat16)
run prec-fp16a "precision=fp16a" -i "$CLIP" -an -frames:v 2 -v info \
	-vf "scale=$W:$H,format=rgb24,nst=$MODEL:temporal=0:precision=fp16a" -f rawvideo "$T/prec-fp16a.rgb" &&
[ -f "$T/prec-fp32.rgb" ] &&
{
	db=$(psnr "$T/prec-fp16a.rgb" "$T/prec-fp32.rgb")
	if ! grep -q 'fp16 multiplies' "$T/prec-fp16a.err"; then
		fail "precision=fp16a" "the log does not say fp16 multiplies"
	elif [ "$db" != inf ] && awk "BEGIN { exit !($db >= 38) }"; then
		ok "precision=fp16a: $db dB from fp32 (>= 38, not bit-exact)"
	else
		fail "precision=fp16a" "$db dB from fp32: expected >= 38 and not identical"
	fi
}

# ---- (d2c) colours kept ----------------------------------------------------------
# preserve_color=1 on yuv420p: every frame's chroma planes as they came, bit
# for bit, its luma restyled; switched on by sendcmd at 0.25 s, frames 0..2
# have restyled chroma and 3..4 the input's. The same with the smoothing
# and with the network at half size, whose own output passes run before.
# chroma_kept A B: one letter per frame of two yuv420p files of ${W}x$H, k
# where the chroma planes are equal and the luma differs, c where the chroma
# differs, = where the luma is equal too.
chroma_kept() {
	"$PY" - "$1" "$2" "$W" "$H" <<-'EOF'
		import sys
		a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
		w, h = int(sys.argv[3]), int(sys.argv[4])
		y, c = w * h, 2 * ((w + 1) // 2) * ((h + 1) // 2)
		out = ""
		for i in range(0, min(len(a), len(b)), y + c):
		    fa, fb = a[i:i + y + c], b[i:i + y + c]
		    out += "c" if fa[y:] != fb[y:] else "=" if fa[:y] == fb[:y] else "k"
		print(out)
	EOF
}
run pc-plain "preserve_color" -i "$CLIP" -an -frames:v 5 -vf "scale=$W:$H,format=yuv420p" \
	-f rawvideo "$T/pc-plain.yuv" &&
for opts in "preserve_color=1" "temporal=0.8:preserve_color=1" "size=0.5:preserve_color=1" \
	"sendcmd"; do
	check="preserve_color ($opts)"
	vf="nst=$MODEL:$opts" want=kkkkk
	[ "$opts" = sendcmd ] && vf="sendcmd=c='0.25 nst preserve_color 1',nst=$MODEL" want=ccckk
	run "pc-$opts" "$check" -i "$CLIP" -an -frames:v 5 -vf "scale=$W:$H,format=yuv420p,$vf" \
		-f rawvideo "$T/pc.yuv" || continue
	got=$(chroma_kept "$T/pc.yuv" "$T/pc-plain.yuv")
	if [ "$got" = "$want" ]; then
		ok "$check: frames $got (k chroma kept, luma restyled; c chroma restyled)"
	else
		fail "$check" "frames $got, expected $want (k chroma kept, luma restyled; c chroma restyled)"
	fi
done

# ---- (d3) the network below the frame's size ---------------------------------
# size= keeps the frame's size and restyles it, but not as the full-size
# network does; a size change by sendcmd takes effect at its frame.
run size-full "size=" -i "$CLIP" -an -frames:v 3 \
	-vf "scale=$W:$H,format=rgb24,nst=$MODEL:temporal=0" -f rawvideo "$T/size-full.rgb" &&
for sz in 0.5 80x60 hd720; do
	for pix in rgb24 yuv420p; do
		check_name="size=$sz $pix"
		run "size-$sz-$pix" "$check_name" -i "$CLIP" -an -frames:v 3 \
			-vf "scale=$W:$H,format=$pix,nst=$MODEL:temporal=0:size=$sz,format=rgb24" \
			-f rawvideo "$T/size-$sz-$pix.rgb" || continue
		got=$(size "$T/size-$sz-$pix.rgb") want=$((W * H * 3 * 3))
		db=$(psnr "$T/size-$sz-$pix.rgb" "$T/size-full.rgb")
		if [ "$got" -ne "$want" ]; then
			fail "$check_name" "$got bytes of output, expected $want (3 frames of ${W}x$H)"
		elif [ $sz = hd720 ] && [ $pix = rgb24 ] && [ "$db" != inf ]; then
			fail "$check_name" "larger than the frame, yet $db dB from the full-size output (expected identical)"
		elif [ $sz != hd720 ] && { [ "$db" = inf ] || awk "BEGIN { exit !($db >= 40) }"; }; then
			fail "$check_name" "$db dB from the full-size output: the size had no effect"
		else
			ok "$check_name: 3 frames of ${W}x$H, $db dB from the full-size output"
		fi
	done
done
run size-cmd "sendcmd size" -i "$CLIP" -an -frames:v 5 \
	-vf "scale=$W:$H,format=rgb24,sendcmd=c='0.25 nst size 0.5',nst=$MODEL:temporal=0" \
	-f framemd5 "$T/size-cmd.md5" &&
run size-cmd-full "sendcmd size" -i "$CLIP" -an -frames:v 5 \
	-vf "scale=$W:$H,format=rgb24,nst=$MODEL:temporal=0" -f framemd5 "$T/size-cmd-full.md5" && {
	got=$(grep -v '^#' "$T/size-cmd.md5" | awk -F, '{ print $NF }' | tr -d ' ' > "$T/sz.a"
		grep -v '^#' "$T/size-cmd-full.md5" | awk -F, '{ print $NF }' | tr -d ' ' > "$T/sz.b"
		paste -d ' ' "$T/sz.a" "$T/sz.b" | awk '{ printf "%s", $1 == $2 ? "f" : "h" }')
	if [ "$got" = fffhh ]; then
		ok "sendcmd size: frames $got (f full size, h half)"
	else
		fail "sendcmd size" "frames $got (f full size, h half), expected fffhh"
	fi
}

# A scene cut that scdet marks (threshold 0: every frame) starts the
# smoothing afresh: each frame is then the per-frame output, which it is not
# without the marks.
sums() { grep -v '^#' "$1" | awk -F, '{ print $NF }' | tr -d ' '; }
if ! "$FF" -hide_banner -filters 2>/dev/null | grep -q ' scdet '; then
	echo "# this ffmpeg has no scdet filter: the scene-cut check is left out"
else
	run scd-marked "scdet cuts" -i "$CLIP" -an -frames:v 4 \
		-vf "scale=$W:$H,format=rgb24,scdet=threshold=0,nst=$MODEL:temporal=0.8" \
		-f framemd5 "$T/scd-marked.md5" &&
	run scd-none "scdet cuts" -i "$CLIP" -an -frames:v 4 \
		-vf "scale=$W:$H,format=rgb24,nst=$MODEL:temporal=0.8" -f framemd5 "$T/scd-none.md5" &&
	run scd-per-frame "scdet cuts" -i "$CLIP" -an -frames:v 4 \
		-vf "scale=$W:$H,format=rgb24,nst=$MODEL:temporal=0" -f framemd5 "$T/scd-per-frame.md5" && {
		if [ "$(sums "$T/scd-marked.md5")" != "$(sums "$T/scd-per-frame.md5")" ]; then
			fail "scdet cuts" "frames after a marked cut are not the per-frame output"
		elif [ "$(sums "$T/scd-none.md5")" = "$(sums "$T/scd-per-frame.md5")" ]; then
			fail "scdet cuts" "without marks the output is the per-frame one too: nothing was smoothed"
		else
			ok "scdet cuts: marked frames are the per-frame output, unmarked ones smoothed"
		fi
	}
fi

# ---- (e) bad models and bad options fail cleanly ------------------------------
# expect_error CHECK WORDS ARGS...: ffmpeg must fail, without crashing, after
# the nst filter said something matching WORDS (an extended regex).
expect_error() {
	check=$1 words=$2; shift 2
	name=$(echo "err-$check" | tr -c 'A-Za-z0-9.\n-' _)
	ff "$name" "$@"
	why=$(trouble "$name")
	# The filter instance logs as [Parsed_nst_N @ ...], its options as
	# [nst @ ...]. Paths are no evidence: bad-offset.bin says "offset".
	msg=$(grep -E '\[(Parsed_nst_[0-9]+|nst) @' "$T/$name.err" |
		sed -E 's|[^ ]*/[^ :]*|FILE|g' | grep -i -m 1 -E "$words")
	if [ -n "$why" ]; then
		fail "$check" "$why (log: $T/$name.err)"
	elif [ "$rc" -eq 0 ]; then
		fail "$check" "ffmpeg succeeded (log: $T/$name.err)"
	elif [ -z "$msg" ]; then
		fail "$check" "no message from nst matching '$words' (log: $T/$name.err)"
	else
		ok "$check: exit $rc, \"$(echo "$msg" | sed 's/^\[[^]]*\] *//' | cut -c 1-100)\""
	fi
}
bad_model() { # file words
	expect_error "bad model ${1##*/}" "$2" -i "$CLIP" -an -frames:v 1 -vf "scale=$W:$H,nst=$1" -f null -
}

bad_model "$T/no-such-model.bin" 'no such file|cannot open|not found'
bad_model "$T" 'cannot read|directory'           # unreadable: a directory
bad_model "$CLIP" 'magic|not a style'             # not a model: a video file
if "$PY" "$HERE/bad_models.py" "$MODEL" "$T/bad" >"$T/bad_models.log" 2>&1; then
	for f in "$T"/bad/*.bin; do
		case ${f##*/} in
		empty.bin)              words='empty' ;;
		truncated-*)            words='truncat|past|beyond|end of|short|size' ;;
		wrong-magic.bin)        words='magic' ;;
		wrong-version.bin)      words='version' ;;
		inconsistent-shape.bin) words='shape' ;;
		absurd-size.bin|tiny-absurd.bin) words='size|shape|bytes|large|exceed|memory|past|end of' ;;
		bad-offset.bin)         words='offset' ;;
		bad-layer-input.bin)    words='input' ;;
		bad-op.bin)             words='(^|[^a-z])op([^a-z]|$)' ;;
		nan-weight.bin)         words='finite|nan' ;;
		shrinks.bin)            words='shrink' ;;
		*)                      words='model' ;;
		esac
		bad_model "$f" "$words"
	done
else
	fail "bad models" "tests/bad_models.py failed: $(tail -n 1 "$T/bad_models.log")"
fi

bad_option() { # check words filter
	expect_error "$1" "$2" -i "$CLIP" -an -frames:v 1 -vf "scale=$W:$H,$3" -f null -
}
bad_option "strength=2"       'range'          "nst=model=$MODEL:strength=2"
bad_option "strength=-1"      'range'          "nst=model=$MODEL:strength=-1"
bad_option "strength=abc"     'abc|parse'      "nst=model=$MODEL:strength=abc"
bad_option "no model"         'model'          "nst"
bad_option "temporal=2"       'range'          "nst=model=$MODEL:temporal=2"
bad_option "smooth=bogus"     'bogus|smooth'   "nst=model=$MODEL:smooth=bogus"
bad_option "unknown device"   'device'         "nst=model=$MODEL:device=no-such-device"
bad_option "precision=fp8"    'fp8|precision'  "nst=model=$MODEL:precision=fp8"
bad_option "size=2"           'size'           "nst=model=$MODEL:size=2"
bad_option "size=abc"         'size'           "nst=model=$MODEL:size=abc"
bad_option "size=0x10"        'size'           "nst=model=$MODEL:size=0x10"
bad_option "size=40000x10"    'size'           "nst=model=$MODEL:size=40000x10"
# No Vulkan driver at all: the loader finds no ICD. (A subshell, since sh
# may keep assignments made before a function call.)
(
	export VK_ICD_FILENAMES=/nonexistent/icd.json VK_DRIVER_FILES=/nonexistent/icd.json
	bad_option "no Vulkan driver" 'driver|device' "nst=model=$MODEL"
)

# ---- (f) small and odd sizes keep their size ----------------------------------
for s in 1x1 2x7 17x9; do
	w=${s%x*} h=${s#*x}
	for pix in rgb24 yuv420p; do
		run "size-$s-$pix" "size $s $pix" -i "$CLIP" -an -frames:v 2 \
			-vf "scale=$w:$h,format=$pix,nst=$MODEL,format=rgb24" -f rawvideo "$T/size-$s-$pix.rgb" || continue
		got=$(size "$T/size-$s-$pix.rgb")
		if [ "$got" -eq $((w * h * 3 * 2)) ]; then
			ok "size $s $pix: 2 frames of ${w}x$h"
		else
			fail "size $s $pix" "$got bytes of output, expected $((w * h * 3 * 2))"
		fi
	done
done

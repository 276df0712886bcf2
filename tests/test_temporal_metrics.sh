#!/bin/sh
# tools/nst-temporal (E_warp and the input's, static flicker, texture
# retention, trails, drift; docs/temporal.md) on
# videos whose answer is known, made from the real clip with NumPy: no
# network runs, a few seconds. Prints "ok - NAME" / "not ok - NAME: why".
#
# Environment: NST_BUILD (build), NST_SHARED (../shared).
# Needs Debian's python3-opencv and python3-numpy for /usr/bin/python3.

HERE=$(dirname "$0")
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
FF=$B/ffmpeg
PY=/usr/bin/python3
TOOL=$HERE/../tools/nst-temporal
CLIP=$S/media/clips/vtest.avi
T=$B/check/temporal
W=192 H=144 N=20 # a quarter of vtest.avi, 2 s of it

ok() { echo "ok - $*"; }
fail() { echo "not ok - $1: $2"; }

if ! "$PY" -c 'import cv2, numpy' 2>/dev/null; then
	fail dependencies "$PY cannot import cv2 and numpy: apt-get install python3-opencv python3-numpy"
	exit 1
fi
for f in "$FF" "$CLIP"; do
	[ -f "$f" ] || { fail setup "$f is missing (make; NST_SHARED=$S)"; exit 1; }
done
rm -rf "$T" && mkdir -p "$T" || exit 1

# metric NAME ARGS...: runs the tool, its JSON to $T/NAME.json, stderr to
# $T/NAME.err, the exit status to $rc and $T/NAME.rc.
metric() {
	name=$1; shift
	"$TOOL" --ffmpeg "$FF" "$@" > "$T/$name.json" 2> "$T/$name.err"
	rc=$?
	echo $rc > "$T/$name.rc"
}
# check NAME EXPR [TAG]=FILE...: EXPR, in Python over the keys of the JSON
# summaries (those of "=FILE" as they are, those of "TAG=FILE" as TAG_key),
# must hold; prints "ok - NAME" or "not ok - NAME: EXPR with the values".
check() {
	"$PY" - "$@" <<-'EOF'
		import json, sys
		name, expr, files = sys.argv[1], sys.argv[2], sys.argv[3:]
		env = {}
		for f in files:
		    tag, path = f.split("=", 1)
		    for k, v in json.load(open(path)).items():
		        env[k if tag == "" else f"{tag}_{k}"] = v
		if eval(expr, {}, env):
		    print(f"ok - {name}")
		else:
		    used = {k: v for k, v in env.items() if k in expr}
		    print(f"not ok - {name}: {expr} is false with {used}")
	EOF
}
# ran NAME CHECK: reports CHECK as failed (and returns 1) if the run NAME failed.
ran() {
	r=$(cat "$T/$1.rc")
	[ "$r" -eq 0 ] && return 0
	fail "$2" "nst-temporal exited with $r: $(tail -n 1 "$T/$1.err")"
	return 1
}

# ---- the videos ---------------------------------------------------------------
# clip: the real clip (walking people, static background with codec noise).
# noisy: the clip plus independent uniform noise of +-20 levels a frame, as
#   ffmpeg's noise=alls=20:allf=t would add: flicker that no motion explains.
# still: the clip's first frame N times.
# pan: a window of the full-size first frame moving 3 px right and 2 px down a
#   frame: pure motion, which a correct flow and warp follow exactly.
# pulse: the clip 4 levels lighter every other frame, a global pulse.
# late: the clip one frame late (frame k of the clip at k+1), an output that
#   does not follow its input's motion.
"$FF" -nostdin -v error -i "$CLIP" -an -frames:v $N -vf "scale=$W:$H,format=rgb24" \
	-f rawvideo "$T/clip.rgb" &&
"$FF" -nostdin -v error -f rawvideo -pix_fmt rgb24 -video_size ${W}x$H -i "$T/clip.rgb" \
	-c:v png "$T/clip.mp4" &&
"$FF" -nostdin -v error -i "$CLIP" -an -frames:v 1 -vf format=rgb24 \
	-f rawvideo "$T/big.rgb" || { fail setup "ffmpeg could not decode $CLIP"; exit 1; }
"$PY" - "$T" $W $H $N <<-'EOF' || { fail setup "could not make the test videos"; exit 1; }
	import sys
	import numpy as np
	d, w, h, n = sys.argv[1], *map(int, sys.argv[2:])
	clip = np.fromfile(f"{d}/clip.rgb", np.uint8).reshape(n, h, w, 3)
	rng = np.random.default_rng(1)
	noise = rng.integers(-20, 21, clip.shape)
	np.clip(clip + noise, 0, 255).astype(np.uint8).tofile(f"{d}/noisy.rgb")
	np.repeat(clip[:1], n, axis=0).tofile(f"{d}/still.rgb")
	np.concatenate([clip[:1], clip[:-1]]).tofile(f"{d}/late.rgb")
	big = np.fromfile(f"{d}/big.rgb", np.uint8).reshape(576, 768, 3)
	np.stack([big[100 + 2 * k:100 + 2 * k + h, 200 + 3 * k:200 + 3 * k + w]
	          for k in range(n)]).tofile(f"{d}/pan.rgb")
	clip[:n - 3].tofile(f"{d}/short.rgb")
	lift = (np.arange(n) % 2 * 4).reshape(n, 1, 1, 1)
	np.clip(clip.astype(int) + lift, 0, 255).astype(np.uint8).tofile(f"{d}/pulse.rgb")
	# ema: an exponential average of the clip at 0.8, which leaves trails
	# behind what moves; aware: the same, reset to the clip where the input
	# moved (a 15x15 neighbourhood of a change of 8 levels), which leaves
	# none; blur: the clip blurred, strokes washed out.
	import cv2
	ema, aware = np.empty_like(clip), np.empty_like(clip)
	acc, acc2 = clip[0].astype(float), clip[0].astype(float)
	for k in range(n):
	    if k:
	        acc = 0.8 * acc + 0.2 * clip[k]
	        moved = np.abs(clip[k].astype(int) - clip[k - 1]).max(axis=2) >= 8
	        moved = cv2.dilate(moved.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
	        acc2 = 0.8 * acc2 + 0.2 * clip[k]
	        acc2[moved] = clip[k][moved]
	    ema[k], aware[k] = np.round(acc), np.round(acc2)
	ema.tofile(f"{d}/ema.rgb")
	aware.tofile(f"{d}/aware.rgb")
	np.stack([cv2.GaussianBlur(f, (0, 0), 1.5) for f in clip]).tofile(f"{d}/blur.rgb")
	# The expected drift of noisy against clip, computed here independently.
	mse = np.mean((np.fromfile(f"{d}/noisy.rgb", np.uint8).astype(float) - clip.ravel()) ** 2)
	open(f"{d}/noisy.psnr", "w").write(f"{10 * np.log10(255 ** 2 / mse):.4f}\n")
EOF
R="--size ${W}x$H"

# ---- the checks -----------------------------------------------------------------
metric clip $R --input "$T/clip.rgb" --output "$T/clip.rgb" --reference "$T/clip.rgb"
ran clip "identical video" &&
	check "identical video: 20 frames, drift 99 dB, mse 0, small E_warp" \
		'frames == 20 and pairs == 19 and drift_psnr == 99 and drift_psnr_min == 99 and drift_mse == 0 and 0 <= e_warp < 0.002 and 0.5 < unoccluded <= 1' \
		"=$T/clip.json"

check "identical video: E_warp as the input's (ratio 1), all texture kept, no trails" \
	'e_warp == e_warp_input and e_warp_ratio == 1 and texture_retention == 1 and texture > 5 and trails == 0 and 0 < moving_fraction < 0.5' \
	"=$T/clip.json"

metric ema $R --input "$T/clip.rgb" --output "$T/ema.rgb" --reference "$T/clip.rgb"
metric aware $R --input "$T/clip.rgb" --output "$T/aware.rgb" --reference "$T/clip.rgb"
metric blur $R --input "$T/clip.rgb" --output "$T/blur.rgb" --reference "$T/clip.rgb"
ran ema "trails" && ran aware "trails" && ran blur "trails" && {
	check "trails: an average at 0.8 leaves trails (above 5 levels), one reset where the input moves almost none (below 1)" \
		'trails > 5 and a_trails < 1 and a_trails * 10 < trails' "=$T/ema.json" "a=$T/aware.json"
	check "texture: a blur keeps less than half of it, the averages above 90%" \
		'texture_retention < 0.5 and 0.9 < e_texture_retention < 1 and 0.95 < a_texture_retention < 1' \
		"=$T/blur.json" "e=$T/ema.json" "a=$T/aware.json"
	check "E_warp ratio: the averages below the input's own (smoother than their input)" \
		'e_warp_ratio < 0.5 and e_warp_ratio == e_warp / e_warp_input and e_warp_input == c_e_warp_input' \
		"=$T/ema.json" "c=$T/clip.json"
}

metric noisy $R --input "$T/clip.rgb" --output "$T/noisy.rgb" --reference "$T/clip.rgb"
ran noisy "noise" && {
	check "noise: E_warp 5x the clip's" 'e_warp > 5 * clip_e_warp' "=$T/noisy.json" "clip=$T/clip.json"
	check "noise: static flicker above 10 levels (+-20 uniform: 13.3 expected)" \
		'static_flicker > 10 and static_flicker > 20 * clip_static_flicker' "=$T/noisy.json" "clip=$T/clip.json"
	want=$(cat "$T/noisy.psnr")
	check "noise: drift PSNR as computed directly ($want dB)" \
		"abs(drift_psnr - $want) < 0.0002 and drift_psnr_min < drift_psnr + 0.5 and 20 < drift_psnr < 35" "=$T/noisy.json"
}

metric pulse $R --input "$T/clip.rgb" --output "$T/pulse.rgb"
ran pulse "pulse" && ran noisy "pulse" &&
	check "pulse: 4 levels every other frame is a pulse of 4; noise and the clip have none" \
		'abs(pulse - 4) < 0.2 and noise_pulse < 0.5 and noise_static_flicker > 20 * noise_pulse and clip_pulse < 0.2' \
		"=$T/pulse.json" "noise=$T/noisy.json" "clip=$T/clip.json"
metric still $R --input "$T/still.rgb" --output "$T/still.rgb"
ran still "still image" &&
	check "still image: E_warp 0, flicker 0, all static, no drift asked" \
		'e_warp < 1e-6 and static_flicker == 0 and static_fraction == 1 and drift_psnr is None and e_warp_input < 1e-6 and trails is None and texture_retention is None' "=$T/still.json"

metric pan $R --input "$T/pan.rgb" --output "$T/pan.rgb"
metric panlate $R --input "$T/pan.rgb" --output "$T/still.rgb"
ran pan "pan" && ran panlate "pan" &&
	check "pan: the flow follows the motion (E_warp small, most pixels unoccluded)" \
		'e_warp < 0.002 and unoccluded > 0.8 and e_warp * 10 < late_e_warp' "=$T/pan.json" "late=$T/panlate.json"

metric late $R --input "$T/clip.rgb" --output "$T/late.rgb"
ran late "late output" &&
	check "late output: an output a frame behind its input has a higher E_warp" \
		'e_warp > 1.5 * clip_e_warp' "=$T/late.json" "clip=$T/clip.json"

# The same frames through ffmpeg (PNG in MP4, size probed) give the same
# numbers as the raw file.
metric video --input "$T/clip.mp4" --output "$T/clip.mp4" --reference "$T/clip.rgb" --size ${W}x$H
metric probed --input "$T/clip.mp4" --output "$T/clip.mp4"
ran video "decoded video" && ran probed "decoded video" &&
	check "decoded video: same results as raw, size probed" \
		'e_warp == raw_e_warp and static_flicker == raw_static_flicker and drift_mse == 0 and size == p_size == "192x144" and p_e_warp == e_warp' \
		"=$T/video.json" "raw=$T/clip.json" "p=$T/probed.json"

metric frames $R --input "$T/clip.rgb" --output "$T/clip.rgb" --frames 5
ran frames "--frames" && check "--frames 5: 4 pairs" 'frames == 5 and pairs == 4' "=$T/frames.json"

# errors: non-zero exit and a message that says what is wrong
# expect_error CHECK PATTERN ARGS...
expect_error() {
	check=$1 pattern=$2; shift 2
	metric err "$@"
	if [ "$rc" -eq 0 ]; then
		fail "$check" "nst-temporal succeeded"
	elif ! grep -q "$pattern" "$T/err.err"; then
		fail "$check" "exit $rc but no '$pattern' in: $(tail -n 1 "$T/err.err")"
	else
		ok "$check"
	fi
}
expect_error "error: frame counts differ" "frame counts differ" $R --input "$T/clip.rgb" --output "$T/short.rgb"
expect_error "error: raw file without --size" "give --size" --input "$T/clip.rgb" --output "$T/clip.rgb"
expect_error "error: missing file" "no-such.mp4: no such file" --input "$T/clip.mp4" --output "$T/no-such.mp4"
expect_error "error: wrong --size for a raw file" "truncated" --size 100x100 --input "$T/clip.rgb" --output "$T/clip.rgb"
expect_error "error: unreadable video" "ffmpeg failed\|cannot read the size" --input "$T/clip.mp4" --output "$T/noisy.psnr"
# Without OpenCV (a cv2 that fails to import): the message names the packages.
mkdir -p "$T/nocv2" && echo 'raise ImportError("No module named cv2")' > "$T/nocv2/cv2.py"
PYTHONPATH=$T/nocv2 "$PY" "$TOOL" --input x --output y > /dev/null 2> "$T/nocv2.err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "apt-get install python3-opencv python3-numpy" "$T/nocv2.err"; then
	ok "error: without OpenCV, says what to install"
else
	fail "error: without OpenCV, says what to install" "exit $rc: $(cat "$T/nocv2.err")"
fi

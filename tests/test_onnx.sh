#!/bin/sh
# tools/nst-onnx, the exporter behind make bench's ONNX Runtime baseline:
# the exported udnie, run by an independent numpy interpreter of the ONNX
# operators (tests/onnx_eval.py), must compute what libnst computes (the
# patched ffmpeg's nst filter, temporal=0) on a real photo, at a size that is
# not a multiple of 4 (odd SAME pads, the final crop). ONNX Runtime itself
# is checked the same way by make bench (it comes from npm).
# Prints "ok - NAME" / "not ok - NAME: why". A few seconds.
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3).
# Needs Debian's python3-numpy for /usr/bin/python3.
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
PY=${PYTHON:-python3}
NPY=/usr/bin/python3
MODEL=$B/models/udnie.bin
PHOTO=$S/media/photos/astronaut.png
T=$B/check/onnx
W=75 H=53

ok() { echo "ok - $*"; }
fail() { echo "not ok - $1: $2"; }

for f in "$B/ffmpeg" "$MODEL" "$PHOTO"; do
	[ -f "$f" ] || { fail setup "$f is missing (make all models; NST_SHARED=$S)"; exit 1; }
done
if ! "$NPY" -c 'import numpy' 2>/dev/null; then
	fail dependencies "$NPY cannot import numpy: apt-get install python3-numpy"; exit 1
fi
rm -rf "$T" && mkdir -p "$T" || exit 1

if ! "$PY" tools/nst-onnx "$MODEL" ${W}x$H -o "$T/udnie.onnx" 2>"$T/export.err"; then
	fail export "$(tail -n 1 "$T/export.err")"; exit 1
fi
"$B/ffmpeg" -hide_banner -nostdin -v error -y -i "$PHOTO" -vf "scale=$W:$H,format=rgb24" \
	-f rawvideo "$T/in.rgb" &&
"$B/ffmpeg" -hide_banner -nostdin -v error -y -f rawvideo -pix_fmt rgb24 -s ${W}x$H \
	-i "$T/in.rgb" -vf "nst=$MODEL:temporal=0" -f rawvideo -pix_fmt rgb24 "$T/nst.rgb" \
	2>"$T/ffmpeg.err" || { fail setup "ffmpeg: $(tail -n 1 "$T/ffmpeg.err")"; exit 1; }
# at -v error anything ffmpeg says is an error (a validation-layer message too)
[ -s "$T/ffmpeg.err" ] && { fail setup "ffmpeg: $(head -n 1 "$T/ffmpeg.err")"; exit 1; }

if ! "$NPY" tests/onnx_eval.py "$T/udnie.onnx" $W $H "$T/in.rgb" "$T/onnx.rgb" \
		>"$T/eval.out" 2>"$T/eval.err"; then
	fail onnx-runs "$(tail -n 1 "$T/eval.err")"; exit 1
fi

# only the ops the ONNX Runtime baseline is meant to use, opset 13
ops=$(sed -n 's/^ops //p' "$T/eval.out")
extra=$(for op in $ops; do
	case $op in Conv|ConvTranspose|InstanceNormalization|Relu|Add|Tanh|Mul|Clip|Slice|Identity) ;;
	*) printf '%s ' "$op" ;; esac
done)
if grep -qx 'opset 13' "$T/eval.out" && [ -z "$extra" ]; then
	ok "onnx-ops: opset 13; $ops"
else
	fail onnx-ops "$(head -n 1 "$T/eval.out"); unexpected ops: $extra"
fi

psnr=$("$PY" tests/psnr.py "$T/nst.rgb" "$T/onnx.rgb")
if [ "$psnr" = inf ] || awk -v p="$psnr" 'BEGIN { exit !(p >= 45) }'; then
	ok "onnx-matches-engine: udnie on $(basename "$PHOTO") at ${W}x$H, PSNR $psnr dB"
else
	fail onnx-matches-engine "PSNR $psnr dB < 45 against libnst at ${W}x$H"
fi

# bad input: a message and exit status 1, not a traceback
head -c 200 "$MODEL" >"$T/short.bin"
"$PY" tools/nst-onnx "$T/short.bin" 64x64 -o "$T/short.onnx" 2>"$T/short.err"
rc=$?
if [ $rc -eq 1 ] && grep -q '^nst-onnx: ' "$T/short.err" && ! grep -q Traceback "$T/short.err"; then
	ok "onnx-bad-model: $(head -n 1 "$T/short.err")"
else
	fail onnx-bad-model "exit $rc: $(tail -n 1 "$T/short.err")"
fi

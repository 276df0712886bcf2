#!/bin/sh
# The ONNX Runtime baseline of `make bench`: exports the model to ONNX
# (tools/nst-onnx), checks on a real photo that ONNX Runtime computes what
# libnst computes, then times it at each size.
#
#   tools/bench-ort.sh MODEL.bin WxH...
#
# stdout, one fact a line, for tools/bench.sh:
#   version V                     onnxruntime-node's version
#   check PSNR WxH PHOTO          ONNX Runtime against the engine (ffmpeg's
#                                 nst filter, temporal=0), rgb24, dB
#   time WxH MS FRAMES WARMUP     median ms per frame
#   skip REASON                   nothing could be timed (no npm, ...)
# Progress and errors go to stderr. onnxruntime-node is installed from npm
# into $B/ort (tools/ort/package.json and its lockfile), once.
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3).
set -u
top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top" || exit 1
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
PY=${PYTHON:-python3}
model=$1; shift
name=$(basename "$model" .bin)
ort=$B/ort
work=$B/bench/ort
mkdir -p "$work" || exit 1

skip() { echo "skip $*"; exit 0; }

# ---- install ------------------------------------------------------------------
command -v node >/dev/null 2>&1 || skip "node is not installed (apt-get install nodejs npm)"
if ! cmp -s tools/ort/package-lock.json "$ort/package-lock.json" ||
   [ ! -d "$ort/node_modules/onnxruntime-node" ]; then
	command -v npm >/dev/null 2>&1 || skip "npm is not installed (apt-get install npm)"
	echo "bench-ort: installing onnxruntime-node from npm into $ort" >&2
	rm -rf "$ort" && mkdir -p "$ort" &&
		cp tools/ort/package.json tools/ort/package-lock.json "$ort/" || exit 1
	# --ignore-scripts: the CPU binaries are in the package; its install
	# script only fetches the CUDA provider, from outside npm.
	if ! (cd "$ort" && timeout 600 npm ci --ignore-scripts --no-audit --no-fund) \
			>"$work/npm.log" 2>&1; then
		rm -f "$ort/package-lock.json" # so that the next run tries again
		skip "npm could not install onnxruntime-node: $(grep -v '^npm warn' "$work/npm.log" | tail -n 1)"
	fi
fi
export NODE_PATH=$top/$ort/node_modules
version=$(node tools/ort/nst-ort.js version 2>"$work/load.err") ||
	skip "onnxruntime-node does not load: $(head -n 1 "$work/load.err")"
echo "version $version"

# ---- check: ONNX Runtime against the engine, one real photo, small -------------
# 160x90 is not a multiple of 4: odd SAME pads and the final crop are in it.
cw=160 ch=90
photo=$S/media/photos/chelsea.png
if [ -f "$photo" ] && [ -x "$B/ffmpeg" ]; then
	in=$work/check-in.rgb
	"$PY" tools/nst-onnx "$model" ${cw}x$ch -o "$work/check.onnx" &&
	"$B/ffmpeg" -hide_banner -nostdin -v error -y -i "$photo" \
		-vf "scale=$cw:$ch,format=rgb24" -f rawvideo "$in" &&
	"$B/ffmpeg" -hide_banner -nostdin -v error -y -f rawvideo -pix_fmt rgb24 \
		-s ${cw}x$ch -i "$in" -vf "nst=$model:temporal=0" -f rawvideo \
		-pix_fmt rgb24 "$work/check-nst.rgb" &&
	node tools/ort/nst-ort.js run "$work/check.onnx" ${cw}x$ch "$in" "$work/check-ort.rgb" &&
	psnr=$("$PY" tests/psnr.py "$work/check-nst.rgb" "$work/check-ort.rgb") &&
	echo "check $psnr ${cw}x$ch $(basename "$photo")" ||
	echo "bench-ort: the check could not run" >&2
else
	echo "bench-ort: no check ($photo or $B/ffmpeg missing)" >&2
fi

# ---- time ---------------------------------------------------------------------
for size in "$@"; do
	w=${size%x*} h=${size#*x}
	# ORT takes ~0.1-3 s a frame here: more frames where they are cheap
	if [ $((w * h)) -le $((640 * 360)) ]; then n=5 warm=2; else n=3 warm=1; fi
	onnx=$work/$name-$size.onnx
	"$PY" tools/nst-onnx "$model" "$size" -o "$onnx" || continue
	echo "bench-ort: $size, $warm warm-up + $n frames" >&2
	r=$(node tools/ort/nst-ort.js time "$onnx" "$size" -n $n -w $warm) &&
		echo "time $r $warm"
	rm -f "$onnx" # 6.7 MB each, and cheap to remake
done

#!/bin/sh
# nst-convert's PyTorch and ONNX importers (docs/import.md), cross-checked
# against independent runtimes on a real photo at an odd size (odd reflect
# pads, stride-2 convs that round up, the final crop):
#   - one random TransformerNet (fast_neural_style's architecture,
#     tests/import_transformer_net.py) saved as a .pth state dict, as an old
#     .model file, as ONNX at opsets 8 and 9 (the Model Zoo's forms), at
#     opset 13 with an open input size and at opset 11 resizing to sizes
#     computed from Shape: all six convert to the same bytes;
#   - what the nst filter (temporal=0) computes with it must match OpenCV DNN
#     running the ONNX file, PyTorch itself, and ONNX Runtime when
#     onnxruntime-node is installed (make bench installs it): PSNR >= 45 dB;
#   - an ONNX graph with input and output scaling (x / 255, tanh * 150 +
#     127.5, clamp) against OpenCV DNN the same way;
#   - files that are not such networks: exit status 1, a message naming the
#     first unsupported node or key, no traceback.
# Prints "ok - NAME" / "not ok - NAME: why". About 15 seconds.
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3).
# Needs Debian's python3-torch, python3-onnx, python3-opencv and
# python3-numpy for /usr/bin/python3.
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
PY=${PYTHON:-python3}
NPY=/usr/bin/python3
PHOTO=$S/media/photos/chelsea.png
T=$B/check/import
W=161 H=121
META="--name random --source test --license none --description random"

ok() { echo "ok - $*"; }
fail() { echo "not ok - $1: $2"; }

for f in "$B/ffmpeg" "$PHOTO"; do
	[ -f "$f" ] || { fail setup "$f is missing (make all; NST_SHARED=$S)"; exit 1; }
done
for m in numpy torch onnx cv2; do
	if ! "$NPY" -c "import $m" 2>/dev/null; then
		fail dependencies "$NPY cannot import $m: apt-get install python3-numpy python3-torch python3-onnx python3-opencv"
		exit 1
	fi
done
rm -rf "$T" && mkdir -p "$T" || exit 1

"$B/ffmpeg" -hide_banner -nostdin -v error -y -i "$PHOTO" -vf "scale=$W:$H,format=rgb24" \
	-f rawvideo "$T/in.rgb" 2>"$T/scale.err" ||
	{ fail setup "ffmpeg: $(tail -n 1 "$T/scale.err")"; exit 1; }
if ! "$NPY" tests/import_make.py "$T" $W $H "$T/in.rgb" >"$T/make.out" 2>&1; then
	fail setup "import_make.py: $(tail -n 1 "$T/make.out")"; exit 1
fi

# nst FILE: styles in.rgb with the converted FILE, into FILE.rgb
nst() {
	"$B/ffmpeg" -hide_banner -nostdin -v error -y -f rawvideo -pix_fmt rgb24 -s ${W}x$H \
		-i "$T/in.rgb" -vf "nst=$1:temporal=0" -f rawvideo -pix_fmt rgb24 "$1.rgb" \
		2>"$1.err" && [ ! -s "$1.err" ] # at -v error, anything said is an error
}
# psnr_check NAME A B WHAT
psnr_check() {
	p=$("$PY" tests/psnr.py "$2" "$3" 2>&1)
	if [ "$p" = inf ] || awk -v p="$p" 'BEGIN { exit !(p >= 45) }' 2>/dev/null; then
		ok "$1: $4, PSNR $p dB"
	else
		fail "$1" "$4: PSNR $p dB < 45"
	fi
}

# ---- the same network from six files ----------------------------------------
for f in net.pth net_old.model net8.onnx net9.onnx net13.onnx sized11.onnx; do
	if ! "$NPY" tools/nst-convert "$T/$f" -o "$T/$f.bin" $META >"$T/$f.out" 2>&1; then
		fail "convert-$f" "$(tail -n 1 "$T/$f.out")"
		continue
	fi
	if [ "$f" = net.pth ]; then
		ok "convert-$f: $(cat "$T/$f.out")"
	elif cmp -s "$T/net.pth.bin" "$T/$f.bin"; then
		ok "convert-$f: the same style.bin as from net.pth"
	else
		fail "convert-$f" "$T/$f.bin differs from $T/net.pth.bin"
	fi
done

# graph_from_state_dict, for tools/train: numpy arrays in, the same network
"$NPY" - "$T" $META >"$T/api.out" 2>&1 <<'PYEOF'
import sys
import torch
sys.path.insert(0, "tools")
from nstconvert.stylebin import write_style_bin
from nstconvert.torch_import import graph_from_state_dict
d, args = sys.argv[1], sys.argv[2:]
opts = dict(zip((a.lstrip("-") for a in args[0::2]), args[1::2]))
meta = [(k, opts[k]) for k in ("name", "description", "source", "license")]
sd = torch.load(d + "/net.pth")
g = graph_from_state_dict({k: v.numpy() for k, v in sd.items()})
write_style_bin(d + "/api.bin", meta + [("converter", "nst-convert 1")],
                g.tensors, g.layers)
PYEOF
if ! cmp -s "$T/api.bin" "$T/net.pth.bin"; then
	fail graph-from-state-dict "$T/api.bin differs from $T/net.pth.bin: $(tail -n 1 "$T/api.out")"
else
	ok "graph-from-state-dict: numpy arrays give the same style.bin as net.pth"
fi

# ---- cross-checks ----------------------------------------------------------------
if ! nst "$T/net.pth.bin"; then
	fail filter "ffmpeg: $(head -n 1 "$T/net.pth.bin.err")"; exit 1
fi
# A flat or mostly clamped output would let a wrong import pass.
spread=$("$NPY" -c 'import numpy as n, sys; a = n.fromfile(sys.argv[1], n.uint8)
print("%.1f %.2f" % (a.std(), ((a > 0) & (a < 255)).mean()))' "$T/torch.rgb")
if awk -v s="$spread" 'BEGIN { split(s, v, " "); exit !(v[1] >= 30 && v[2] >= 0.8) }'; then
	ok "output-spread: PyTorch's output has std $(echo $spread | cut -d' ' -f1), $(echo $spread | cut -d' ' -f2) of it unclamped"
else
	fail output-spread "PyTorch's output has std and unclamped share $spread: too flat to tell"
fi
psnr_check filter-vs-pytorch "$T/net.pth.bin.rgb" "$T/torch.rgb" \
	"TransformerNet on $(basename "$PHOTO") at ${W}x$H, filter against PyTorch"
if "$NPY" tests/import_opencv.py "$T/net9.onnx" $W $H "$T/in.rgb" "$T/cv.rgb" \
		>"$T/cv.out" 2>&1; then
	psnr_check filter-vs-opencv "$T/net.pth.bin.rgb" "$T/cv.rgb" \
		"filter against OpenCV $("$NPY" -c 'import cv2; print(cv2.__version__)') DNN on net9.onnx ($(cat "$T/cv.out"))"
else
	fail filter-vs-opencv "import_opencv.py: $(tail -n 1 "$T/cv.out")"
fi
ort=$B/ort/node_modules
if [ -d "$ort/onnxruntime-node" ] && command -v node >/dev/null 2>&1; then
	if NODE_PATH=$(pwd)/$ort node tools/ort/nst-ort.js run "$T/ort.onnx" ${W}x$H \
			"$T/in.rgb" "$T/ort.rgb" 2>"$T/ort.err"; then
		psnr_check filter-vs-onnxruntime "$T/net.pth.bin.rgb" "$T/ort.rgb" \
			"filter against onnxruntime-node $(NODE_PATH=$(pwd)/$ort node tools/ort/nst-ort.js version) on net9.onnx"
	else
		fail filter-vs-onnxruntime "nst-ort.js: $(tail -n 1 "$T/ort.err")"
	fi
else
	echo "# onnxruntime-node is not installed in $ort (make bench installs it): checked against OpenCV DNN and PyTorch only"
fi

# input range and output op from scalar ops around the network; OpenCV 4.6
# reads Clip's bounds as attributes only (opset 9)
for f in scaled9.onnx scaled13.onnx; do
	"$NPY" tools/nst-convert "$T/$f" -o "$T/$f.bin" $META >"$T/$f.out" 2>&1 ||
		fail "convert-$f" "$(tail -n 1 "$T/$f.out")"
done
if [ -f "$T/scaled9.onnx.bin" ] && [ -f "$T/scaled13.onnx.bin" ]; then
	if cmp -s "$T/scaled9.onnx.bin" "$T/scaled13.onnx.bin"; then
		ok "convert-scaled13.onnx: the same style.bin as from scaled9.onnx"
	else
		fail convert-scaled13.onnx "$T/scaled13.onnx.bin differs from $T/scaled9.onnx.bin"
	fi
	if ! nst "$T/scaled9.onnx.bin"; then
		fail scaled-vs-opencv "ffmpeg: $(head -n 1 "$T/scaled9.onnx.bin.err")"
	elif ! "$NPY" tests/import_opencv.py "$T/scaled9.onnx" $W $H "$T/in.rgb" \
			"$T/scaled_cv.rgb" >"$T/scaled_cv.out" 2>&1; then
		fail scaled-vs-opencv "import_opencv.py: $(tail -n 1 "$T/scaled_cv.out")"
	else
		psnr_check scaled-vs-opencv "$T/scaled9.onnx.bin.rgb" "$T/scaled_cv.rgb" \
			"x / 255, tanh * 150 + 127.5, clamp: filter against OpenCV DNN"
	fi
fi

# ---- refused ---------------------------------------------------------------------
# refused FILE PATTERN: exit 1 and a one-line "nst-convert: FILE: ..." message
# that matches PATTERN (grep -E)
refused() {
	"$NPY" tools/nst-convert "$T/$1" -o "$T/refused.bin" >"$T/$1.out" 2>&1
	rc=$?
	msg=$(head -n 1 "$T/$1.out")
	if [ $rc -eq 1 ] && [ "$(wc -l <"$T/$1.out")" -eq 1 ] &&
			echo "$msg" | grep -q "^nst-convert: $T/$1: " &&
			echo "$msg" | grep -Eq "$2" && [ ! -e "$T/refused.bin" ]; then
		ok "refused-$1: ${msg#nst-convert: $T/}"
	else
		fail "refused-$1" "exit $rc, expected /$2/: $(tail -n 1 "$T/$1.out")"
	fi
}
refused bad_sigmoid.onnx "Sigmoid node 'sig' is not supported"
refused bad_batchnorm.onnx "BatchNormalization node 'bn' is not supported"
refused bad_pad_edge.onnx "Pad node 'pad': Pad mode 'edge'"
refused bad_resize_linear.onnx "Resize node 'up': mode 'linear'"
refused bad_garbage.onnx "not an ONNX model"
refused bad_missing.pth "missing 'res3.in2.bias'"
refused bad_shape.pth "'conv2.conv2d.weight' has shape \[64, 32, 5, 5\]"
refused bad_extra.pth "unexpected 'res6.conv1.conv2d.weight'"
refused bad_list.pth "expected a state dict"
refused bad_text.pth "not a PyTorch state dict file"

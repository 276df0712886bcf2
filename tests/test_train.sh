#!/bin/sh
# tools/train: a short training on real photos with Van Gogh's Starry Night
# as the style and a randomly initialised VGG (--random-vgg: ImageNet weights
# cannot be fetched here; the loss still has to fall). Checks that the loss
# falls (and that the same check fails for a network that does not learn),
# that a checkpoint resumes to the very same network, that the exported
# style.bin runs in the filter and computes what PyTorch computes, and that
# bad options fail with a message. Writes the loss curve to
# $B/check/train/loss.png. Prints "ok - NAME" / "not ok - NAME: why".
# About a minute on 2 busy cores.
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3).
# Needs Debian's python3-torch and python3-torchvision for /usr/bin/python3.
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
PY=${PYTHON:-python3}
NPY=/usr/bin/python3
P=$S/media/photos
STYLE=$P/starry_night.jpg
T=$B/check/train
# 4 images, batches of 2: 2 iterations an epoch
SIZE=64 EPOCHS=8 ITERS=16 CKPT=12 K=4
CK=ckpt/$(printf 'ckpt-%08d' $CKPT)

ok() { echo "ok - $*"; }
fail() { echo "not ok - $1: $2"; }

for f in "$B/ffmpeg" "$STYLE" "$P/chelsea.png"; do
	[ -f "$f" ] || { fail setup "$f is missing (make all; NST_SHARED=$S)"; exit 1; }
done
if ! "$NPY" -c 'import torch, torchvision, numpy' 2>/dev/null; then
	fail dependencies "$NPY cannot import torch, torchvision and numpy: apt-get install python3-torch python3-torchvision python3-numpy"
	exit 1
fi
rm -rf "$T" && mkdir -p "$T/content" "$T/empty" "$T/torch-home" || exit 1

# content: four real photos, their shorter side scaled to 80
for p in astronaut.png chelsea.png coffee.png rocket.jpg; do
	"$B/ffmpeg" -hide_banner -nostdin -v error -y -i "$P/$p" \
		-vf scale=80:80:force_original_aspect_ratio=increase "$T/content/${p%.*}.png" ||
		{ fail setup "ffmpeg cannot scale $P/$p"; exit 1; }
done

train() { # NAME ARGS...: tools/train with the test's settings; $rc, $T/NAME.err
	name=$1; shift
	"$NPY" tools/train --style "$STYLE" --style-size 128 --content "$T/content" \
		--random-vgg --size $SIZE --batch-size 2 --workers 0 --threads 1 --seed 7 \
		--license "test network" "$@" 2>"$T/$name.err"
	rc=$?
}
clean() { # NAME: exited 0 without a traceback
	[ "$rc" -eq 0 ] && ! grep -q Traceback "$T/$1.err"
}
# ratio CSV: the mean total loss of the last K iterations over that of the
# first K (then the two means); falls RATIO: exit status 0 when it is below
# 0.8. A network that does not learn stays near 1 (the batches differ, the
# style term dominates).
ratio() {
	awk -F, -v k=$K 'NR > 1 { t[++n] = $6 }
		END { if (n < 2 * k) { print "nan"; exit }
		      for (i = 1; i <= k; i++) { a += t[i]; b += t[n - k + i] }
		      printf "%.3f %.4g %.4g\n", b / a, a / k, b / k }' "$1"
}
falls() { awk -v r="$1" 'BEGIN { exit !(r != "nan" && r < 0.8) }'; }

# ---- training -------------------------------------------------------------
start=$(date +%s)
train run --epochs $EPOCHS --checkpoint-dir "$T/ckpt" --checkpoint-every $CKPT -o "$T/starry.bin"
secs=$(($(date +%s) - start))
if ! clean run; then
	fail train "exit $rc: $(tail -n 1 "$T/run.err")"; exit 1
fi
rows=$(($(wc -l <"$T/starry.loss.csv") - 1))
rate=$(sed -n 's/.*(\([0-9.]* it\/s\).*/\1/p' "$T/run.err")
if [ "$rows" -eq $ITERS ] && [ -s "$T/starry.pth" ] && [ -s "$T/$CK.pt" ] && [ -s "$T/$CK.bin" ]; then
	ok "train: $ITERS iterations at ${SIZE}x$SIZE in $secs s with start-up ($rate); style.bin, .pth, checkpoints"
else
	fail train "$rows loss rows (want $ITERS), or .pth / checkpoint $CKPT missing: $(ls "$T" "$T/ckpt" | tr '\n' ' ')"
fi
grep -q "^\\[[#.]*\\] [0-9]*/$ITERS epoch .* total .* content .* style .* tv " "$T/run.err" &&
	ok "progress: a bar with the losses on stderr" ||
	fail progress "no progress line with total/content/style/tv in $T/run.err"

set -- $(ratio "$T/starry.loss.csv")
if falls "$1"; then
	ok "loss-falls: mean total of the last $K iterations $3 = $1 x the first $K's $2 (< 0.8)"
else
	fail loss-falls "mean total of the last $K iterations $3 = $1 x the first $K's $2, not < 0.8"
fi
if gnuplot -e "csv='$T/starry.loss.csv'; png='$T/loss.png'; title='test_train: starry_night, random VGG, ${SIZE}px'" \
	tools/train-plot.gp 2>"$T/plot.err" && [ -s "$T/loss.png" ]; then
	ok "loss-curve: $T/loss.png"
else
	fail loss-curve "gnuplot: $(tail -n 1 "$T/plot.err")"
fi

# The criterion against a network that cannot learn (--lr 0): it must fail.
train still --epochs 4 --lr 0 -o "$T/still.bin"
set -- $(ratio "$T/still.loss.csv")
if ! clean still; then
	fail loss-criterion "--lr 0 run: exit $rc: $(tail -n 1 "$T/still.err")"
elif falls "$1"; then
	fail loss-criterion "with --lr 0 the loss 'falls' too (ratio $1): the check cannot tell"
else
	ok "loss-criterion: with --lr 0 the ratio is $1, which fails the check"
fi

# --vgg: a file in torchvision's layout holding the very weights that
# --random-vgg draws gives the very same losses.
if ! "$NPY" tests/train_vgg_file.py 7 "$T/vgg16.pth" 2>"$T/vgg-file.err"; then
	fail vgg-file "$(tail -n 1 "$T/vgg-file.err")"
else
	"$NPY" tools/train --style "$STYLE" --style-size 128 --content "$T/content" \
		--vgg "$T/vgg16.pth" --size $SIZE --batch-size 2 --workers 0 --threads 1 --seed 7 \
		--epochs 1 -o "$T/vgg.bin" 2>"$T/vgg.err"
	rc=$?
	if ! clean vgg; then
		fail vgg-file "exit $rc: $(tail -n 1 "$T/vgg.err")"
	elif [ "$(sed -n 2,3p "$T/vgg.loss.csv")" = "$(sed -n 2,3p "$T/starry.loss.csv")" ]; then
		ok "vgg-file: --vgg FILE (torchvision's layout) gives the losses of the same weights drawn by --random-vgg"
	else
		fail vgg-file "--vgg FILE: losses $(sed -n 2p "$T/vgg.loss.csv"), with --random-vgg $(sed -n 2p "$T/starry.loss.csv")"
	fi
	rm -f "$T/vgg16.pth"  # 59 MB
fi

# ---- resume ---------------------------------------------------------------
# From the checkpoint at $CKPT to the end: the same losses and the very same
# network as the run that did not stop (CPU, one thread: bit-exact).
cp "$T/starry.loss.csv" "$T/resumed.loss.csv"
train resume --epochs $EPOCHS --resume "$T/$CK.pt" -o "$T/resumed.bin"
if ! clean resume; then
	fail resume "exit $rc: $(tail -n 1 "$T/resume.err")"
elif ! grep -q "resumed from .* at iteration $CKPT" "$T/resume.err"; then
	fail resume "no 'resumed from ... at iteration $CKPT' in $T/resume.err"
elif ! cmp -s "$T/starry.loss.csv" "$T/resumed.loss.csv"; then
	fail resume "the losses differ: $(diff "$T/starry.loss.csv" "$T/resumed.loss.csv" | sed -n 2p)"
elif ! cmp -s "$T/starry.bin" "$T/resumed.bin"; then
	fail resume "the losses are the same, the style.bin is not"
else
	ok "resume: from iteration $CKPT, the same $((ITERS - CKPT)) losses and a byte-identical style.bin"
fi
# the networks no longer needed: 80 of the run's 105 MB
rm -f "$T"/ckpt/*.pt "$T"/still.bin "$T"/still.pth "$T"/resumed.bin "$T"/resumed.pth "$T"/vgg.bin "$T"/vgg.pth

# ---- the exported style.bin in the filter -----------------------------------
W=227 H=151
"$B/ffmpeg" -hide_banner -nostdin -v error -y -i "$P/chelsea.png" -vf "scale=$W:$H,format=rgb24" \
	-f rawvideo "$T/in.rgb" || { fail filter "ffmpeg cannot scale chelsea.png"; exit 1; }
for m in starry "$CK"; do
	n=$(basename "$m")
	"$B/ffmpeg" -hide_banner -nostdin -v error -y -f rawvideo -pix_fmt rgb24 -s ${W}x$H \
		-i "$T/in.rgb" -vf "nst=$T/$m.bin:temporal=0" -f rawvideo -pix_fmt rgb24 \
		"$T/$n.rgb" 2>"$T/ffmpeg-$n.err"
	rc=$?
	size=$(wc -c <"$T/$n.rgb" 2>/dev/null || echo 0)
	if [ $rc -ne 0 ] || [ -s "$T/ffmpeg-$n.err" ]; then
		fail "filter-$n" "ffmpeg exit $rc: $(head -n 1 "$T/ffmpeg-$n.err")"
	elif [ "$size" -ne $((W * H * 3)) ]; then
		fail "filter-$n" "$size bytes out, a ${W}x$H rgb24 frame is $((W * H * 3))"
	else
		p=$("$PY" tests/psnr.py "$T/in.rgb" "$T/$n.rgb")
		if [ "$p" != inf ] && awk -v p="$p" 'BEGIN { exit !(p < 20) }'; then
			ok "filter-$n: $m.bin runs in the filter: a ${W}x$H frame unlike the input (PSNR $p dB)"
		else
			fail "filter-$n" "the output is the input, or close to it: PSNR $p dB"
		fi
	fi
done
if ! "$NPY" tests/train_stylize.py "$T/starry.pth" $W $H "$T/in.rgb" "$T/torch.rgb" 2>"$T/stylize.err"; then
	fail filter-matches-torch "$(tail -n 1 "$T/stylize.err")"
else
	p=$("$PY" tests/psnr.py "$T/starry.rgb" "$T/torch.rgb")
	if [ "$p" = inf ] || awk -v p="$p" 'BEGIN { exit !(p >= 40) }'; then
		ok "filter-matches-torch: the filter and PyTorch on the trained network, PSNR $p dB"
	else
		fail filter-matches-torch "PSNR $p dB < 40 between the filter and PyTorch"
	fi
fi

# ---- bad options: a message and exit status 1 (2 for usage), no traceback ----
bad() { # NAME STATUS PATTERN ARGS...
	name=$1 want=$2 pat=$3; shift 3
	TORCH_HOME=$T/torch-home "$NPY" tools/train "$@" >/dev/null 2>"$T/$name.err"
	rc=$?
	if [ $rc -eq "$want" ] && grep -q "$pat" "$T/$name.err" && ! grep -q Traceback "$T/$name.err"; then
		ok "$name: $(tail -n 1 "$T/$name.err")"
	else
		fail "$name" "exit $rc (want $want), message: $(tail -n 1 "$T/$name.err")"
	fi
}
bad no-style 2 'required: --style' --content "$T/content" --random-vgg -o "$T/x.bin"
bad missing-style 1 '^train: style image .*: no such file' --style "$T/nothing.jpg" \
	--content "$T/content" --random-vgg -o "$T/x.bin"
bad empty-content 1 '^train: content folder .* holds no images' --style "$STYLE" \
	--content "$T/empty" --random-vgg -o "$T/x.bin"
bad no-vgg 1 '^train: no VGG-16 weights: give --vgg PATH' --style "$STYLE" \
	--content "$T/content" -o "$T/x.bin"
# a file that is a state dict, but not VGG-16's: the trained network itself
bad wrong-vgg 1 "^train: --vgg .*: not torchvision's VGG-16 layout" --style "$STYLE" \
	--content "$T/content" --vgg "$T/starry.pth" --size $SIZE --device cpu -o "$T/x.bin"

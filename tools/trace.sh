#!/bin/sh
# make trace: build/trace/trace.txt, what the engine computes for the test
# photos (tools/nst-trace.c): the dispatches of udnie at 640x360 and a hash
# of every restyled frame, in fp32 and fp16, along each way through the
# frame path. Compare two of them (before and after a change that must not
# alter the output) with diff.
#
# Environment: NST_SHARED (../shared), NST_BUILD (build), TRACE_SIZE (640x360).
set -eu
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
size=${TRACE_SIZE:-640x360}
w=${size%x*} h=${size#*x}
out=$B/trace
mkdir -p "$out"
frames=
for p in "$S"/media/photos/*.png "$S"/media/photos/*.jpg; do
	[ -f "$p" ] || continue
	f=$out/$(basename "${p%.*}").rgb
	"$B/ffmpeg" -v error -nostdin -y -i "$p" -vf "scale=$w:$h" -f rawvideo \
		-pix_fmt rgb24 "$f"
	frames="$frames $f"
done
# shellcheck disable=SC2086
"$B/nst-trace" "$B/models/udnie.bin" "$size" $frames > "$out/trace.txt"
echo "$out/trace.txt: $(grep -c '^frame' "$out/trace.txt") frames," \
	"$(grep -c '^  ' "$out/trace.txt") dispatches"

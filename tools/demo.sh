#!/bin/sh
# Stylizes a few seconds of a real clip with build/ffmpeg and the nst filter:
#   build/demo/<style>.mp4        the clip, restyled (libx264 if built, else mpeg4)
#   build/demo/before-after.png   one frame, original and restyled side by side
# Called by `make demo`. Environment: NST_BUILD (build), NST_SHARED
# (../shared), NST_DEMO_STYLE (udnie), NST_DEMO_SECONDS (1),
# NST_DEMO_SIZE (640x360).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top"
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
style=${NST_DEMO_STYLE:-udnie}
seconds=${NST_DEMO_SECONDS:-1}
size=${NST_DEMO_SIZE:-640x360}
w=${size%x*} h=${size#*x}
ff=$B/ffmpeg
model=$B/models/$style.bin
out=$B/demo

die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }
[ -x "$ff" ] || die "$ff is missing: make all"
[ -f "$model" ] || die "$model is missing: make models"
clip=
for c in "$S/media/clips/balle-jbart.mp4" "$S/media/clips/vtest.avi"; do
	[ -f "$c" ] && { clip=$c; break; }
done
[ -n "$clip" ] || die "no clip in $S/media/clips (set NST_SHARED)"
mkdir -p "$out"

if "$ff" -hide_banner -encoders 2>/dev/null | grep -q ' libx264 '; then
	venc="-c:v libx264 -preset medium -crf 18"
else
	venc="-c:v mpeg4 -q:v 2"
fi
# Fill the frame, cropping the excess, with square pixels: the scaled size
# follows the display aspect ratio (balle-jbart.mp4 is 720x576 at 4:3).
fit="scale=w='ceil(max($w,$h*dar)/2)*2':h='ceil(max($h,$w/dar)/2)*2',crop=$w:$h,setsar=1"

echo "demo: $seconds s of ${clip##*/} at ${w}x$h, style $style, ${venc#-c:v }"
start=$(date +%s.%N)
# The audio, if any, is copied as it is; -stats keeps the progress line even
# at -v error, for the frame count below.
"$ff" -hide_banner -nostdin -y -v error -stats -t "$seconds" -i "$clip" \
	-map 0:v:0 -map '0:a?' -c:a copy \
	-vf "$fit,nst=$model" $venc -pix_fmt yuv420p -movflags +faststart \
	"$out/$style.mp4" 2>"$out/ffmpeg.log" || { cat "$out/ffmpeg.log" >&2; die "ffmpeg failed"; }
end=$(date +%s.%N)
frames=$(tr '\r' '\n' < "$out/ffmpeg.log" | sed -n 's/^frame= *\([0-9]*\).*/\1/p' | tail -n 1)

# One frame a second in, the original left, the styled right.
"$ff" -hide_banner -nostdin -y -v error -ss 1 -i "$clip" -frames:v 1 -update 1 \
	-filter_complex "[0:v]$fit,format=rgb24,split[a][b];[b]nst=$model[s];[a][s]hstack" \
	"$out/before-after.png" || die "ffmpeg failed on the before/after frame"

awk -v f="${frames:-0}" -v s="$start" -v e="$end" -v o="$out/$style.mp4" -v p="$out/before-after.png" 'BEGIN {
	t = e - s
	printf "demo: %s (%d frames in %.1f s: %.2f fps, start-up included)\n", o, f, t, (t > 0 ? f / t : 0)
	printf "demo: %s\n", p
}'

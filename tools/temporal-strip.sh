#!/bin/sh
# A strip of consecutive frames, one row per video (e.g. the input, the
# per-frame output, the smoothed output), cropped, for docs/ and the README.
#
#   tools/temporal-strip.sh OUT.jpg FIRST COUNT CROP VIDEO...
#
# FIRST: the first frame; COUNT: frames per row; CROP: w:h:x:y of ffmpeg's
# crop filter. Uses $NST_BUILD/ffmpeg (build/ffmpeg).
set -eu
[ $# -ge 5 ] || { echo "usage: $0 OUT.jpg FIRST COUNT CROP VIDEO..." >&2; exit 2; }
FF=${NST_BUILD:-build}/ffmpeg
out=$1 first=$2 count=$3 crop=$4
shift 4
rows=$#
inputs= graph= i=0
for v in "$@"; do
	inputs="$inputs -i $v"
	graph="$graph[$i:v]select='between(n,$first,$((first + count - 1)))',crop=$crop,tile=${count}x1[r$i];"
	i=$((i + 1))
done
i=0 stack=
while [ $i -lt $rows ]; do stack="$stack[r$i]"; i=$((i + 1)); done
# shellcheck disable=SC2086 # $inputs is a list of options
"$FF" -hide_banner -nostdin -v error -y $inputs \
	-filter_complex "${graph}${stack}vstack=inputs=$rows" -frames:v 1 -q:v 3 "$out"

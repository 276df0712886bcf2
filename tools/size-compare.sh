#!/bin/sh
# The network below the frame's size against the network at full size, on
# photos: each photo at SIZE (scaled to cover it, centre-cropped) is styled
# (1) by the network at SIZE, (2) with size=NET, the guided upsampling, and
# (3) by the network at NET on the photo reduced by area averaging (kept as
# NAME.low.rgb), its output upsampled bilinearly by swscale; prints the
# PSNR of (2) and (3) against (1), one markdown row per photo.
#
#   tools/size-compare.sh [-s 1280x720] [-n 640x360] [-m udnie] PHOTO...
#
# Uses $NST_BUILD/ffmpeg (build/ffmpeg), its models and tests/psnr.py;
# keeps its frames in $NST_BUILD/size-compare/ (NAME.in, .full, .guided,
# .low, .bilinear.rgb), where tools/size-methods.py reads them.
set -eu
B=${NST_BUILD:-build}
FF=$B/ffmpeg
PY=${PYTHON:-python3}
size=1280x720 net=640x360 style=udnie
while getopts s:n:m: o; do
	case $o in
	s) size=$OPTARG ;;
	n) net=$OPTARG ;;
	m) style=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-s WxH] [-n WxH] [-m STYLE] PHOTO..." >&2; exit 2; }
W=${size%x*} H=${size#*x} w=${net%x*} h=${net#*x}
model=$B/models/$style.bin
T=$B/size-compare
mkdir -p "$T"
ff() { "$FF" -hide_banner -nostdin -v error -y "$@"; }
raw() { echo "-f rawvideo -pix_fmt rgb24"; }

echo "| photo | guided (size=$net) | bilinear | guided - bilinear |"
echo "|---|---|---|---|"
for photo in "$@"; do
	n=$(basename "${photo%.*}")-$style-$size
	# shellcheck disable=SC2046 # raw's options
	{
		ff -i "$photo" -vf "scale=$W:$H:force_original_aspect_ratio=increase,crop=$W:$H" \
			$(raw) "$T/$n.in.rgb"
		ff -f rawvideo -pix_fmt rgb24 -s "$size" -i "$T/$n.in.rgb" \
			-vf "nst=$model:temporal=0" $(raw) "$T/$n.full.rgb"
		ff -f rawvideo -pix_fmt rgb24 -s "$size" -i "$T/$n.in.rgb" \
			-vf "nst=$model:temporal=0:size=$net" $(raw) "$T/$n.guided.rgb"
		ff -f rawvideo -pix_fmt rgb24 -s "$size" -i "$T/$n.in.rgb" \
			-vf "scale=$w:$h:flags=area,nst=$model:temporal=0" $(raw) "$T/$n.low.rgb"
		ff -f rawvideo -pix_fmt rgb24 -s "$net" -i "$T/$n.low.rgb" \
			-vf "scale=$W:$H:flags=bilinear" $(raw) "$T/$n.bilinear.rgb"
	}
	g=$("$PY" tests/psnr.py "$T/$n.guided.rgb" "$T/$n.full.rgb")
	l=$("$PY" tests/psnr.py "$T/$n.bilinear.rgb" "$T/$n.full.rgb")
	echo "| $(basename "$photo") | $g dB | $l dB | $(awk "BEGIN { printf \"%+.2f\", $g - $l }") dB |"
done

#!/bin/sh
# The per-frame baseline of issue #3 (temporal smoothing): stylizes the first
# $FRAMES frames of both test clips at about half size with each of the five
# styles, one network pass per frame (plain `nst=STYLE.bin`), and grades every
# result with tools/nst-temporal. Writes, under $OUT (build/temporal):
#
#   CLIP/input.mp4          the scaled input, PNG in MP4 (lossless rgb24)
#   CLIP/STYLE.mp4          the per-frame stylized output, lossless too
#   CLIP/STYLE.seconds      wall-clock seconds of that ffmpeg run
#   CLIP/STYLE.json         tools/nst-temporal's summary of it
#   baseline.md             the table: clip, style, E_warp, flicker, seconds
#                           (of the ffmpeg run: wall clock, engine set-up
#                           included, on whatever else the machine runs)
#
# "style" none is the input itself: what the flow's and the warp's own errors
# leave on a video that is consistent by construction (see docs/temporal.md).
#
# Resumable: a file that exists is not made again (each is written under a
# temporary name and renamed when complete), so a killed run goes on where it
# stopped. Delete a file to redo it; after changing FRAMES, use another OUT. The whole run takes 15-25 minutes on a
# 2-core CPU with lavapipe; run it in the background:
#
#   nohup tools/temporal-baseline.sh > build/temporal.log 2>&1 &
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), FRAMES (60),
# STYLES ("udnie wave la_muse rain_princess scream"), OUT ($NST_BUILD/temporal),
# NICE (10: the network runs at a lower priority, the machine is shared).

set -u
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
FF=$B/ffmpeg
N=${FRAMES:-60}
STYLES=${STYLES:-"udnie wave la_muse rain_princess scream"}
OUT=${OUT:-$B/temporal}
NICE=${NICE:-10}
HERE=$(dirname "$0")
METRIC=$HERE/nst-temporal

die() { echo "temporal-baseline: $*" >&2; exit 1; }
. "$HERE/temporal-lib.sh"

# Another engineer may be relinking build/ffmpeg while this runs: wait for it
# (up to 10 minutes) rather than fail half-way through a long run.
need_ffmpeg() {
	i=0
	while [ ! -x "$FF" ]; do
		[ $i -ge 60 ] && die "$FF is missing (build it with make)"
		[ $i -eq 0 ] && echo "waiting for $FF to appear..." >&2
		i=$((i + 1)); sleep 10
	done
}

for st in $STYLES; do
	[ -f "$B/models/$st.bin" ] || die "$B/models/$st.bin is missing (make models)"
done
mkdir -p "$OUT" || die "cannot create $OUT"

# clip name, file under $S/media/clips, size (half of 768x576 and 720x576)
CLIPS="vtest:vtest.avi:384x288 balle:balle-jbart.mp4:360x288"

for c in $CLIPS; do
	name=${c%%:*}; rest=${c#*:}; file=${rest%%:*}; size=${rest#*:}
	src=$S/media/clips/$file
	[ -f "$src" ] || die "$src is missing (NST_SHARED=$S)"
	d=$OUT/$name
	mkdir -p "$d" || die "cannot create $d"

	# The input at the graded size, once: every style and the metric read the
	# same lossless frames, so no scaler or codec differs between them.
	if [ ! -f "$d/input.mp4" ]; then
		need_ffmpeg
		echo "$name: input, $N frames at $size"
		"$FF" -hide_banner -nostdin -v error -y -i "$src" -an -sn -frames:v "$N" \
			-vf "scale=${size%x*}:${size#*x},format=rgb24" -c:v png "$d/input.tmp.mp4" &&
			mv "$d/input.tmp.mp4" "$d/input.mp4" || die "$name: making the input failed"
	fi

	for st in $STYLES; do
		[ -f "$d/$st.mp4" ] && continue
		need_ffmpeg
		echo "$name: $st ..."
		stylize "$d/input.mp4" "$st" temporal=0 "$d/$st"
		echo "$name: $st done in $(cat "$d/$st.seconds") s"
	done
done

# Grade everything (cheap next to the network: a few seconds a video). A
# summary is redone when its video is newer.
[ -x "$METRIC" ] || die "$METRIC is missing"
table=$OUT/baseline.tmp.md
{
	echo "| clip | style | E_warp (x 10^-3) | static flicker (levels) | seconds |"
	echo "|---|---|---|---|---|"
} > "$table"
for c in $CLIPS; do
	name=${c%%:*}
	d=$OUT/$name
	for st in none $STYLES; do
		video=$d/$st.mp4; [ "$st" = none ] && video=$d/input.mp4
		js=$d/$st.json
		if [ ! -f "$js" ] || [ "$video" -nt "$js" ]; then
			need_ffmpeg
			"$METRIC" --ffmpeg "$FF" --input "$d/input.mp4" --output "$video" \
				--frames "$N" > "$d/$st.tmp.json" 2> "$d/$st.log" ||
				die "$name: $st: nst-temporal failed: $(tail -n 1 "$d/$st.log")"
			mv "$d/$st.tmp.json" "$js"
			echo "$name: $st: $(cat "$d/$st.log")"
		fi
		secs=-; [ -f "$d/$st.seconds" ] && secs=$(cat "$d/$st.seconds")
		# The summary is one line of JSON; /usr/bin/python3 is there (the
		# metric needs it), so read it properly rather than with sed.
		/usr/bin/python3 - "$js" "$name" "$st" "$secs" >> "$table" <<-'EOF' ||
			import json, sys
			r = json.load(open(sys.argv[1]))
			fl = r["static_flicker"]
			fl = "n/a" if fl is None else f"{fl:.2f}"
			print(f"| {sys.argv[2]} | {sys.argv[3]} | {1000 * r['e_warp']:.3f} | {fl} | {sys.argv[4]} |")
		EOF
			die "cannot read $js"
	done
done
mv "$table" "$OUT/baseline.md"
echo "wrote $OUT/baseline.md:"
cat "$OUT/baseline.md"

#!/bin/sh
# Issue #3's measurement of the temporal smoothing: stylizes the clips that
# tools/temporal-baseline.sh prepared with each style under each smoothing
# configuration, and grades every result with tools/nst-temporal against
# the input (E_warp, static flicker) and against the per-frame output of
# the same style (drift). Run tools/temporal-baseline.sh first. Writes,
# under $OUT (build/temporal):
#
#   CLIP/STYLE.TAG.mp4      the smoothed output, PNG in MP4 (lossless)
#   CLIP/STYLE.TAG.seconds  wall-clock seconds of that ffmpeg run
#   CLIP/STYLE.TAG.json     tools/nst-temporal's summary of it
#   sweep.md                the table: clip, style, configuration, E_warp and
#                           flicker (and their change from per frame), drift
#
# CONFIGS is a list of TAG=OPTIONS, OPTIONS being the nst options after the
# model with ',' for ':' (so that they survive the shell's word splitting),
# e.g. "warp=temporal=0.7,smooth=warp norm=temporal=0.7,smooth=norm".
# Resumable like the baseline: delete a file to redo it.
#
# Environment: NST_BUILD (build), FRAMES (60), STYLES (the five), CONFIGS,
# OUT ($NST_BUILD/temporal), NICE (10), FFMPEG ($NST_BUILD/ffmpeg: a copy keeps a
# long sweep apart from rebuilds).

set -u
B=${NST_BUILD:-build}
FF=${FFMPEG:-$B/ffmpeg}
N=${FRAMES:-60}
STYLES=${STYLES:-"udnie wave la_muse rain_princess scream"}
CONFIGS=${CONFIGS:-"warp=temporal=0.7,smooth=warp norm=temporal=0.7,smooth=norm all=temporal=0.7"}
OUT=${OUT:-$B/temporal}
NICE=${NICE:-10}
CLIPS=${CLIPS:-"vtest balle"}
METRIC=$(dirname "$0")/nst-temporal

die() { echo "temporal-sweep: $*" >&2; exit 1; }
. "$(dirname "$0")/temporal-lib.sh"

[ -x "$FF" ] || die "$FF is missing (make ffmpeg)"
for c in $CLIPS; do
	[ -f "$OUT/$c/input.mp4" ] || die "$OUT/$c/input.mp4 is missing (run tools/temporal-baseline.sh)"
	for st in $STYLES; do
		[ -f "$OUT/$c/$st.json" ] || die "$OUT/$c/$st.json is missing (run tools/temporal-baseline.sh)"
	done
done

for c in $CLIPS; do
	d=$OUT/$c
	for st in $STYLES; do
		# a per-frame summary from before the pulse was measured is redone
		if ! grep -q '"pulse"' "$d/$st.json"; then
			"$METRIC" --ffmpeg "$FF" --input "$d/input.mp4" --output "$d/$st.mp4" \
				--frames "$N" > "$d/$st.tmp.json" 2> "$d/$st.log" &&
				mv "$d/$st.tmp.json" "$d/$st.json" || die "$c: $st: nst-temporal failed"
		fi
		for cfg in $CONFIGS; do
			tag=${cfg%%=*}; opts=$(echo "${cfg#*=}" | tr , :)
			v=$d/$st.$tag
			if [ ! -f "$v.mp4" ]; then
				echo "$c: $st: $tag ($opts) ..."
				stylize "$d/input.mp4" "$st" "$opts" "$v"
			fi
			if [ ! -f "$v.json" ] || [ "$v.mp4" -nt "$v.json" ]; then
				"$METRIC" --ffmpeg "$FF" --input "$d/input.mp4" --output "$v.mp4" \
					--reference "$d/$st.mp4" --frames "$N" > "$v.tmp.json" 2> "$v.log" ||
					die "$c: $st: $tag: nst-temporal failed: $(tail -n 1 "$v.log")"
				mv "$v.tmp.json" "$v.json"
				echo "$c: $st: $tag: $(cat "$v.log")"
			fi
		done
	done
done

# The table, every configuration next to the per-frame row of its style.
/usr/bin/python3 - "$OUT" "$CLIPS" "$STYLES" "$CONFIGS" > "$OUT/sweep.tmp.md" <<'EOF' ||
import json, os, sys
out, clips, styles, configs = sys.argv[1], *[a.split() for a in sys.argv[2:]]
print("| clip | style | smoothing | E_warp (x 10^-3; x the input's) | static flicker (levels) "
      "| texture retention | trails (levels) | drift PSNR, worst frame (dB) | seconds |")
print("|---|---|---|---|---|---|---|---|---|")
def secs(path):
    return open(path).read().strip() if os.path.exists(path) else "-"
def ratio(r):
    return f"{r['e_warp_ratio']:.2f}x" if r.get("e_warp_ratio") is not None else "-"
for c in clips:
    for st in styles:
        base = json.load(open(os.path.join(out, c, st + ".json")))
        print(f"| {c} | {st} | per frame | {1000 * base['e_warp']:.3f} ({ratio(base)}) "
              f"| {base['static_flicker']:.2f} | - | - | - "
              f"| {secs(os.path.join(out, c, st + '.seconds'))} |")
        for cfg in configs:
            tag, opts = cfg.split("=", 1)
            r = json.load(open(os.path.join(out, c, f"{st}.{tag}.json")))
            fl = 100 * (r["static_flicker"] / base["static_flicker"] - 1)
            print(f"| {c} | {st} | {opts.replace(',', ':')} | {1000 * r['e_warp']:.3f} ({ratio(r)}) "
                  f"| {r['static_flicker']:.2f} ({fl:+.0f}%) "
                  f"| {100 * r['texture_retention']:.0f}% | {r['trails']:.2f} "
                  f"| {r['drift_psnr']:.1f} ({r['drift_psnr_min']:.1f}) "
                  f"| {secs(os.path.join(out, c, f'{st}.{tag}.seconds'))} |")
EOF
	die "cannot make the table"
mv "$OUT/sweep.tmp.md" "$OUT/sweep.md"
cat "$OUT/sweep.md"

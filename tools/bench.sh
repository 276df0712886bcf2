#!/bin/sh
# make bench: the udnie network through libnst (build/nst-bench), through
# ONNX Runtime on the same CPU (tools/bench-ort.sh), and through the whole
# ffmpeg path (tools/bench-ffmpeg.sh), in one run, so that all of them see
# the same machine. Prints one markdown table and the ffmpeg-path line,
# writes them to build/bench/bench.md and plots ms per frame against
# megapixels to build/bench/bench.png (gnuplot, tools/bench-plot.gp).
#
# Environment:
#   NST_BENCH_SIZES     sizes to time (default: 256x256 640x360 1280x720
#                       1920x1080); e.g. "256x256 640x360" for a quick run
#   NST_BENCH_FFMPEG    frames N of the ffmpeg path (N and 2N are run;
#                       default 4; 0 skips it)
#   NST_BENCH_TEMPORAL  1 (default): also the temporal smoothing's cost at
#                       640x360; 0 skips it
#   NST_BENCH_SIZE      1 (default): also 1280x720 frames with the network at
#                       640x360 (size=); 0 skips it
#   NST_BENCH_BIG       1 (default): also tiling's cost (1920x1080 in bands of
#                       135 rows against the whole frame, alternating) and
#                       3840x2160, which tiles by itself on lavapipe; 0 skips it
#   NST_BUILD (build), NST_SHARED (../shared), PYTHON (python3)
# Takes 5-8 minutes on 2 cores and lavapipe, most of it 1920x1080 and up.
set -u
top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top" || exit 1
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
export NST_BUILD=$B NST_SHARED=$S
sizes=${NST_BENCH_SIZES:-256x256 640x360 1280x720 1920x1080}
ffn=${NST_BENCH_FFMPEG:-4}
model=$B/models/udnie.bin
out=$B/bench
md=$out/bench.md
status=0

die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }
[ -x "$B/nst-bench" ] || die "$B/nst-bench is missing (make $B/nst-bench)"
[ -f "$model" ] || die "$model is missing (make models)"
mkdir -p "$out" || exit 1
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null; }
load_start=$(load)

# ---- libnst -------------------------------------------------------------------
# 1920x1080 has taken 10-60 s a frame on lavapipe: one warm-up and one
# timed frame there, a median of 3 below it. A size > 1280x720 is big.
small= big=
for s in $sizes; do
	w=${s%x*} h=${s#*x}
	case $w$h in *[!0-9]*|'') die "NST_BENCH_SIZES: '$s' is not WxH" ;; esac
	if [ $((w * h)) -gt $((1280 * 720)) ]; then big="$big $s"; else small="$small $s"; fi
done
: >"$out/nst.txt"
for set in small big; do
	eval list=\$$set
	[ -n "$list" ] || continue
	[ $set = small ] && n=3 || n=1
	echo "== libnst (nst-bench, $n timed frame(s) after 1 warm-up):$list" >&2
	# shellcheck disable=SC2086 # $list is a list of sizes
	"$B/nst-bench" "$model" $list -n $n | tee -a "$out/nst.txt" >&2
done
# rows "| WxH | ms | GFLOP/s | ..." -> "WxH ms gflops"; columns by position
# because nst-bench may grow more
awk -F'|' '$2 ~ /^ *[0-9]+x[0-9]+ *$/ { gsub(/ /, ""); print $2, $3, $4, $5, $6 }' \
	"$out/nst.txt" >"$out/nst.dat"
device=$(sed -n 's/^device: \([^;]*\).*/\1/p' "$out/nst.txt" | head -n 1)
for s in $sizes; do # a size nst-bench did not time fails the bench
	grep -q "^$s " "$out/nst.dat" || status=1
done

# ---- ONNX Runtime -----------------------------------------------------------------
echo "== ONNX Runtime:$(printf ' %s' $sizes)" >&2
# shellcheck disable=SC2086
tools/bench-ort.sh "$model" $sizes >"$out/ort.txt"
ort_version=$(awk '$1 == "version" { print $2 }' "$out/ort.txt")
ort_skip=$(sed -n 's/^skip //p' "$out/ort.txt")
check=$(awk '$1 == "check" { print $2, $3, $4 }' "$out/ort.txt")

# ---- the ffmpeg path ---------------------------------------------------------------
ff_line=
if [ "$ffn" -gt 0 ]; then
	echo "== ffmpeg path: 640x360, $ffn and $((2 * ffn)) frames" >&2
	ff_line=$(tools/bench-ffmpeg.sh "$model" "$ffn")
fi

# ---- the temporal smoothing's cost (the filter's default, temporal=0.5) -------------
temporal=
if [ "${NST_BENCH_TEMPORAL:-1}" != 0 ]; then
	echo "== temporal smoothing's cost at 640x360" >&2
	temporal=$("$B/nst-bench" "$model" 640x360 -n 5 -t 0.5 | grep '^|') || status=1
fi

# ---- where a frame's device time goes, and the precisions --------------------------
echo "== per-layer device time at 640x360 (timestamp queries)" >&2
"$B/nst-bench" "$model" 640x360 -n 1 -p >"$out/layers.txt" 2>&1 || status=1
echo "== fp32, fp16 tensors, fp16 tensors and multiplies at 640x360, runs alternating" >&2
: >"$out/precision.txt"
for round in 1 2; do
	# fp16a fails, saying why, and drops out of the report on a device
	# without shaderFloat16
	for p in fp32 fp16 fp16a; do
		"$B/nst-bench" "$model" 640x360 -n 3 -f "$p" |
			awk -F'|' -v p="$p" '$2 ~ /x/ { gsub(/ /, ""); print p, $3, $5 }' >>"$out/precision.txt"
	done
done

# ---- the network below the frame's size (size=640x360 on 1280x720 frames) ---------
netsize=
if [ "${NST_BENCH_SIZE:-1}" != 0 ]; then
	echo "== 1280x720 frames with the network at 640x360 (size=)" >&2
	netsize=$("$B/nst-bench" "$model" 1280x720 -n 3 -s 640x360 | grep '^|') || status=1
fi

# ---- big frames: what tiling costs, and 3840x2160 ----------------------------------
big_rows=
if [ "${NST_BENCH_BIG:-1}" != 0 ]; then
	echo "== tiling at 1920x1080 (bands of 135 rows against the whole frame), and 3840x2160" >&2
	: >"$out/big.txt"
	for t in -1 135 -1 135; do
		NST_TILE_ROWS=$t "$B/nst-bench" "$model" 1920x1080 -n 1 |
			awk -F'|' -v t="$t" '$2 ~ /x/ { gsub(/ /, ""); print t, $3, $5 }' >>"$out/big.txt"
	done
	NST_TILE_ROWS=0 "$B/nst-bench" "$model" 3840x2160 -n 1 |
		awk -F'|' '$2 ~ /x/ { gsub(/ /, ""); print "4k", $3, $5, $4 }' >>"$out/big.txt"
	grep -q '^4k ' "$out/big.txt" || status=1
	big_rows=$(awk '{ if ($1 == "4k") { k = $2; km = $3; kg = $4; next }
			if (!($1 in best) || $2 < best[$1]) best[$1] = $2; mem[$1] = $3 }
		END {
			printf "| 1920x1080, whole frame | %.0f | %.0f |\n", best["-1"], mem["-1"]
			printf "| 1920x1080, bands of 135 rows | %.0f (%.2fx) | %.0f (%.2fx) |\n", best["135"],
				best["135"] / best["-1"], mem["135"], mem["135"] / mem["-1"]
			if (k != "") printf "| 3840x2160, tiled where needed (%s GFLOP/s) | %.0f | %.0f |\n", kg, k, km
		}' "$out/big.txt")
fi

# ---- the report --------------------------------------------------------------------
{
	echo "## make bench: udnie (126,144 MAC per pixel)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores," \
		"$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1);" \
		"load average $load_start at the start, $(load) at the end."
	echo "nst: libnst on ${device:-?}; median of 3 timed frames after 1 warm-up" \
		"(1 timed frame after 1 warm-up above 1280x720), rgb24 frames in host memory."
	if [ -n "$ort_skip" ]; then
		echo "ONNX Runtime: not timed: $ort_skip."
	else
		echo "ONNX Runtime: onnxruntime-node $ort_version, CPU, 2 intra-op threads," \
			"the same network exported by tools/nst-onnx; median of 5 frames after 2 warm-ups" \
			"(3 after 1 above 640x360)."
	fi
	echo
	echo "| size | megapixels | nst ms per frame | nst GFLOP/s | device MiB (x largest activation) | ONNX Runtime ms per frame | nst / ONNX Runtime |"
	echo "|---|---|---|---|---|---|---|"
	for s in $sizes; do
		awk -v s="$s" -v f1="$out/nst.dat" -v f2="$out/ort.txt" 'BEGIN {
			split(s, d, "x")
			while ((getline l < f1) > 0) { split(l, a, " "); if (a[1] == s) { ms = a[2]; gf = a[3]; mem = a[4]; x = a[5] } }
			while ((getline l < f2) > 0) { split(l, a, " "); if (a[1] == "time" && a[2] == s) ort = a[3] }
			printf "| %s | %.2f | %s | %s | %s | %s | %s |\n", s, d[1] * d[2] / 1e6,
				ms == "" ? "failed" : sprintf("%.0f", ms), gf == "" ? "-" : gf,
				mem == "" ? "-" : sprintf("%.0f (%.2fx)", mem, x),
				ort == "" ? "-" : sprintf("%.0f", ort),
				(ms == "" || ort == "") ? "-" : sprintf("%.1fx", ms / ort)
		}'
	done
	echo
	if [ -n "$check" ]; then
		set -- $check
		echo "ONNX model checked against libnst (ffmpeg's nst filter, temporal=0) on $3 at $2:" \
			"PSNR $1 dB over rgb24 bytes (pass: >= 45 dB)."
	elif [ -z "$ort_skip" ]; then
		echo "ONNX model: NOT checked against libnst (see the output above)."
	fi
	case $ff_line in
	ffmpeg*)
		set -- $ff_line
		printf '%s' "ffmpeg path at 640x360 ($7 decode, nst temporal=0, null output): $(printf '%.3f' "$6") fps," \
			" $5 ms per frame (wall time of $((2 * $2)) frames minus that of $2)"
		awk -v p="$5" -v a="$8" -v b="$9" 'BEGIN {
			if (a == "?" || b == "?") { print "; the bare network could not be timed next to it."; exit }
			# against the faster of the two: load only ever slows a run down
			n = a < b ? a : b; r = p / n
			printf "; the bare network (nst-bench, 640x360, just before and after) %.0f and %.0f ms:" \
				" ratio %.2f to the faster (target: at most 1.10, %s).\n", a, b, r, r <= 1.10 ? "met" : "NOT met" }' ;;
	skip*) echo "ffmpeg path: not timed: ${ff_line#skip }." ;;
	esac
	# ffmpeg links libnst statically: one older than the library may hold
	# another engine than nst-bench (make bench rebuilds it; a bare
	# tools/bench.sh does not)
	if [ -n "$ff_line" ] && [ "$B/ffmpeg" -ot "$B/libnst.a" ]; then
		echo "(Warning: $B/ffmpeg is older than $B/libnst.a, so the ratio may compare two versions of the engine: make ffmpeg.)"
	fi
	if [ -s "$out/precision.txt" ]; then
		echo
		awk '{ n[$1]++; if (!($1 in best) || $2 < best[$1]) best[$1] = $2; mem[$1] = $3 }
			END { printf "Precision at 640x360 (best of %d alternating runs): fp32 %.0f ms, %.0f MiB;" \
				" fp16 tensors %.0f ms, %.0f MiB (fp16 / fp32: %.2f)", n["fp32"], best["fp32"], mem["fp32"],
				best["fp16"], mem["fp16"], best["fp16"] / best["fp32"]
				if ("fp16a" in best)
					printf "; fp16 tensors and multiplies %.0f ms (/ fp32: %.2f)", best["fp16a"],
						best["fp16a"] / best["fp32"]
				print "." }' "$out/precision.txt"
	fi
	echo
	echo "Where one 640x360 frame's device time goes (Vulkan timestamp queries):"
	sed -n '/one frame on the device/,$p' "$out/layers.txt"
	if [ -n "$netsize" ]; then
		echo
		echo "1280x720 frames with the network at 640x360 (size=640x360, guided upsampling), frames alternating with the full-size network:"
		echo
		echo "$netsize"
	fi
	if [ -n "$big_rows" ]; then
		echo
		echo "Big frames: tiling (the full-resolution convs in bands, statistics over the whole frame; best of 2 alternating runs at 1920x1080, one frame after a warm-up at 3840x2160):"
		echo
		echo "| frames | ms per frame | device MiB |"
		echo "|---|---|---|"
		echo "$big_rows"
	fi
	if [ -n "$temporal" ]; then
		echo
		echo "The filter's default temporal smoothing (temporal=0.5) at 640x360, frames alternating with the per-frame path:"
		echo
		echo "$temporal"
	fi
} >"$md"
cat "$md"

# a result that contradicts the check fails the bench
if [ -n "$check" ] && ! awk -v p="${check%% *}" 'BEGIN { exit !(p == "inf" || p + 0 >= 45) }'; then
	echo "bench.sh: the ONNX model does not compute what libnst computes (PSNR ${check%% *} dB < 45)" >&2
	status=1
fi

# ---- the plot ----------------------------------------------------------------------
awk '{ split($1, d, "x"); print d[1] * d[2] / 1e6, $2 }' "$out/nst.dat" >"$out/plot-nst.dat"
awk '$1 == "time" { split($2, d, "x"); print d[1] * d[2] / 1e6, $3 }' "$out/ort.txt" >"$out/plot-ort.dat"
# ncnn's Vulkan backend on the same driver, quoted from the team's notes
awk -F'|' '
	/^\| runtime \|/ { for (i = 3; i < NF; i++) { c = $i; gsub(/ /, "", c); col[i] = c } }
	/^\| ncnn Vulkan on lavapipe, fp32 \|/ { for (i in col) if (col[i] ~ /^[0-9]+x[0-9]+$/) {
		split(col[i], d, "x"); v = $i; gsub(/ /, "", v); print d[1] * d[2] / 1e6, v } }' \
	"$S/notes/measured.md" 2>/dev/null | sort -n >"$out/plot-ncnn.dat"
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "no plot: gnuplot is not installed (apt-get install gnuplot-nox; ./configure does)"
elif gnuplot -e "dir='$out'; device='${device:-lavapipe}'; ort='${ort_version:-?}'" \
		tools/bench-plot.gp 2>"$out/gnuplot.log"; then
	echo "plot: $out/bench.png; table: $md"
else
	echo "no plot: gnuplot failed: $(tail -n 1 "$out/gnuplot.log")"
fi
exit $status

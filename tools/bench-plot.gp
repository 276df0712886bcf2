# The plot of `make bench` (tools/bench.sh): ms per frame against megapixels
# for libnst and ONNX Runtime from this run, and ncnn's Vulkan backend on the
# same driver as quoted in the team's notes. Log-log, because the sizes span
# 32x in pixels and the times 1000x between runtimes; a runtime whose time
# is proportional to the pixels is then a straight line of slope 1.
#
#   gnuplot -e "dir='build/bench'; device='...'; ort='1.30.0'" tools/bench-plot.gp
# reads dir/plot-{nst,ort,ncnn}.dat ("megapixels ms" lines; an empty file is
# left out) and writes dir/bench.png.

set terminal pngcairo size 900,600 font "sans,11"
set output dir."/bench.png"
set title "udnie style network: time per frame (lower is better)"
set xlabel "frame size, megapixels (log scale)" offset 0,-0.6
set ylabel "ms per frame (log scale)"
set logscale xy
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key top left box opaque
set xrange [0.05:3]
set xtics ("256x256\n0.066" 0.065536, "640x360\n0.23" 0.2304, "1280x720\n0.92" 0.9216, \
           "1920x1080\n2.07" 2.0736)
set format y "%.0f"

# a file with no data would stop the plot: plot only those that have some
has(f) = system("test -s '".f."' && echo 1 || echo 0") + 0
nst = dir."/plot-nst.dat"
ortf = dir."/plot-ort.dat"
ncnn = dir."/plot-ncnn.dat"
t_nst = "nst: libnst on ".device." (this run)"
t_ort = "ONNX Runtime ".ort." CPU, 2 threads (this run)"
t_ncnn = "ncnn Vulkan on lavapipe, fp32 (quoted: measured.md)"

cmd = "plot nst w lp lw 2 pt 7 lc rgb '#d62728' t t_nst"
if (has(ortf)) cmd = cmd.", ortf w lp lw 2 pt 5 lc rgb '#1f77b4' t t_ort"
if (has(ncnn)) cmd = cmd.", ncnn w lp lw 2 pt 9 dt 2 lc rgb '#7f7f7f' t t_ncnn"
eval cmd

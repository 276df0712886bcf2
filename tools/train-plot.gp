# The loss curve of a tools/train run: the weighted losses (total, content,
# style, total variation) per iteration from its .loss.csv. Log scale in y,
# because the terms differ by orders of magnitude.
#
#   gnuplot -e "csv='build/models/starry.loss.csv'; png='loss.png'; \
#               title='starry'" tools/train-plot.gp

set terminal pngcairo size 900,600 font "sans,11" noenhanced
set output png
if (!exists("title")) title = "tools/train"
set title title.": weighted losses per iteration (lower is better)"
set xlabel "iteration"
set ylabel "loss (log scale)"
set logscale y
set grid xtics ytics mytics lc rgb "#dddddd"
set key outside right top box opaque
set datafile separator ","
set format y "%.0e"

# columns: iteration,epoch,content,style,tv,total
plot csv u 1:6 skip 1 w lp lw 2 pt 7 ps 0.6 lc rgb '#d62728' t "total", \
     csv u 1:3 skip 1 w l lw 1.5 lc rgb '#1f77b4' t "content (alpha)", \
     csv u 1:4 skip 1 w l lw 1.5 lc rgb '#2ca02c' t "style (beta)", \
     csv u 1:5 skip 1 w l lw 1.5 dt 2 lc rgb '#7f7f7f' t "tv (gamma)"

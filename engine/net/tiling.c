/* Big inputs in bands: which tensors, how many rows, and their steps. */
#include "net/ops.h"

#define TILE_BANDS 8 /* bands of a tiled conv when the size is not asked for */

static int is_direct_conv(const NstNet *net, const NstExec *x)
{
    NstOp op = nst_exec_layer(net, x)->op;
    return !x->wino && (op == NST_OP_CONV || op == NST_OP_CONV_TRANSPOSE);
}

/* Whether exec e can be kept in bands: a direct conv writing one of the
 * network's largest tensors, read only by a deferred instance norm that
 * a direct conv applies as it reads (the shape of a fast style network's
 * first and last full-resolution layers). */
static int can_band(const NstNet *net, int e, VkDeviceSize largest)
{
    const NstExec *p = &net->exec[e], *n = p + 1, *c = p + 2;
    int readers = net->final_value == e;

    if (e + 2 >= net->n_exec || !is_direct_conv(net, p) || !is_direct_conv(net, c) ||
        nst_exec_layer(net, n)->op != NST_OP_INSTANCE_NORM || !n->deferred ||
        n->input[0] != e || c->input[0] != e + 1 ||
        (VkDeviceSize)p->out_w * p->out_h * p->out_c4 < largest)
        return 0;
    for (int r = 0; r < net->n_exec; r++)
        readers += (net->exec[r].input[0] == e) + (net->exec[r].input[1] == e);
    return readers == 1;
}

/* Bands of `rows` rows (0: the tensor's height over TILE_BANDS) for
 * every conv that can be kept in bands, and as many of a Winograd conv's
 * tile rows per pass, whose scratch (2.25 times its input and output)
 * would otherwise hold the most memory of all; returns how many convs
 * are kept in bands. */
static int mark_bands(NstNet *net, int rows)
{
    VkDeviceSize largest = 0;
    int n = 0;

    for (int e = 0; e < net->n_exec; e++) {
        const NstExec *x = &net->exec[e];
        VkDeviceSize t = (VkDeviceSize)x->out_w * x->out_h * x->out_c4;
        largest = t > largest ? t : largest;
    }
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *p = &net->exec[e], *c = p + 2;
        int r = rows > 0 ? rows : (int)nst_groups(p->out_h, TILE_BANDS);
        if (p->wino) { /* rows of the network's input, in its tile rows */
            int t = rows > 0 ? (int)((int64_t)rows * p->out_h / net->in_h / NST_WINO_TILE)
                             : (int)nst_groups(p->tiles_y, TILE_BANDS);
            p->band_rows = t < 1 ? 1 : t < p->tiles_y ? t : p->tiles_y;
            continue;
        }
        if (!can_band(net, e, largest))
            continue;
        p->band = 1;
        r = r < p->out_h ? r : p->out_h;
        /* the next conv's rows per band: about as many of the tensor's */
        p->band_out = (int)((int64_t)r * c->out_h / p->out_h);
        p->band_out = p->band_out > 0 ? p->band_out : 1;
        p->band_rows = r;
        for (int y = 0; y < c->out_h; y += p->band_out) {
            int y1 = y + p->band_out < c->out_h ? y + p->band_out : c->out_h, lo, hi;
            nst_conv_rows_read(net, c, y, y1, &lo, &hi);
            p->band_rows = hi - lo > p->band_rows ? hi - lo : p->band_rows;
        }
        n++;
        e += 2; /* the next conv's result is whole */
    }
    return n;
}

/* The most device memory a plan should take: half of the device's largest
 * allocation or heap, whichever is less, so that the frames, the weights,
 * the temporal state and another instance of the filter still fit. */
static VkDeviceSize plan_budget(const NstVk *vk)
{
    VkDeviceSize heap = 0;

    for (uint32_t i = 0; i < vk->mem_props.memoryHeapCount; i++)
        if (vk->mem_props.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT &&
            vk->mem_props.memoryHeaps[i].size > heap)
            heap = vk->mem_props.memoryHeaps[i].size;
    if (!heap || heap > vk->max_allocation)
        heap = vk->max_allocation;
    return heap / 2;
}

static int plan_fits(const NstNet *net, VkDeviceSize arena)
{
    for (int b = 0; b < net->n_buffers; b++)
        if (net->buffer_size[b] / net->buffer_texel[b] >
            net->vk->props.limits.maxTexelBufferElements)
            return 0;
    return arena <= plan_budget(net->vk);
}

/* Buffers for the whole-frame plan, or, where that does not fit the
 * device or tiling is asked for, for a plan that keeps the largest
 * tensors in bands. */
int nst_tiling_plan_buffers(NstNet *net, VkDeviceSize *arena)
{
    VkDeviceSize whole;
    int ret;

    net->tiled = 0;
    for (int e = 0; e < net->n_exec; e++)
        net->exec[e].band = net->exec[e].band_rows = 0;
    if ((ret = nst_arena_assign(net, arena)) < 0 || net->tile_req < 0 ||
        (net->tile_req == 0 && plan_fits(net, *arena)))
        return ret;
    whole = *arena;
    if (!(net->tiled = mark_bands(net, net->tile_req)))
        return NST_OK; /* nothing to tile: the limits are checked later */
    nst_arena_free_plan(net);
    if ((ret = nst_arena_assign(net, arena)) < 0)
        return ret;
    nst_log(net->vk->log, NST_LOG_INFO, "%dx%d network: %d tensors kept in bands, "
            "%.1f MiB of tensors instead of %.1f", net->in_w, net->in_h, net->tiled,
            *arena / 1048576.0, whole / 1048576.0);
    return NST_OK;
}

/* Chunks of each instance norm's statistics: a banded tensor's bands
 * each end in a partial one. */
void nst_tiling_count_chunks(NstNet *net)
{
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        const NstExec *p = e > 0 ? x - 1 : NULL;
        if (nst_exec_layer(net, x)->op != NST_OP_INSTANCE_NORM)
            continue;
        x->n_chunks = (int)nst_groups(x->in_w * x->in_h, NST_STATS_CHUNK);
        if (p && p->band) {
            x->n_chunks = 0;
            for (int y = 0; y < p->out_h; y += p->band_rows) {
                int rows = p->out_h - y < p->band_rows ? p->out_h - y : p->band_rows;
                x->n_chunks += (int)nst_groups(rows * p->out_w, NST_STATS_CHUNK);
            }
        }
    }
}

/* A banded conv p, its deferred norm and the conv that reads it: p band
 * by band for the norm's statistics, then for each band of the reader's
 * rows, the rows of p it reads (again) and the reader's rows. The
 * reader's 9x9 or strided window makes the second pass recompute a few
 * rows more per band: the price of never holding p's whole result. */
int nst_tiling_plan_bands(NstNet *net, int e)
{
    NstExec *p = &net->exec[e], *n = p + 1, *c = p + 2;
    const NstBuffer *src = nst_net_value_buffer(net, p->input[0]), *band = &net->buffers[p->buffer];
    const NstBuffer *dst = &net->buffers[c->buffer];
    int rows = p->band_rows, k0 = 0, ret;

    for (int y = 0; y < p->out_h; y += rows) {
        int y1 = y + rows < p->out_h ? y + rows : p->out_h;
        net->cur_layer = p->layer;
        if ((ret = nst_conv_step(net, p, src, band, (NstRows){ y, y1, 0, p->in_h, y, rows })) < 0)
            return ret;
        net->cur_layer = n->layer;
        if ((ret = nst_norm_stats_step(net, n, band, rows * p->out_w, (y1 - y) * p->out_w, k0)) < 0)
            return ret;
        k0 += (int)nst_groups((y1 - y) * p->out_w, NST_STATS_CHUNK);
    }
    if ((ret = nst_norm_reduce_step(net, n)) < 0)
        return ret;
    p->step_end = n->step_end = net->n_steps;
    for (int y = 0; y < c->out_h; y += p->band_out) {
        int y1 = y + p->band_out < c->out_h ? y + p->band_out : c->out_h, lo, hi;
        nst_conv_rows_read(net, c, y, y1, &lo, &hi);
        net->cur_layer = p->layer;
        if ((ret = nst_conv_step(net, p, src, band, (NstRows){ lo, hi, 0, p->in_h, lo, rows })) < 0)
            return ret;
        net->cur_layer = c->layer;
        if ((ret = nst_conv_step(net, c, band, dst, (NstRows){ y, y1, lo, rows, 0, c->out_h })) < 0)
            return ret;
    }
    c->step_end = net->n_steps;
    return NST_OK;
}

/* Steps of the plan: three per exec at most, more for banded ones. */
int nst_tiling_count_steps(const NstNet *net)
{
    int n = 3 * net->n_exec;

    for (int e = 0; e < net->n_exec; e++) {
        const NstExec *p = &net->exec[e];
        if (p->wino && p->band_rows)
            n += 3 * (int)nst_groups(p->tiles_y, p->band_rows);
        if (p->band)
            n += 2 * (int)nst_groups(p->out_h, p->band_rows) +
                 2 * (int)nst_groups(p[2].out_h, p->band_out);
    }
    return n;
}

/* The tensors of a plan: their lifetimes and places in one arena. */
#include <stdlib.h>

#include "net/ops.h"

void nst_arena_free_plan(NstNet *net)
{
    free(net->buffers);
    free(net->buffer_size);
    free(net->buffer_offset);
    free(net->buffer_texel);
    net->buffers = NULL;
    net->buffer_size = NULL;
    net->buffer_offset = NULL;
    net->buffer_texel = NULL;
    net->n_buffers = 0;
}

/* Lifetime of each tensor, in exec indices: from its writer to its last
 * reader (the input from -1, scratch within its exec). */
typedef struct Slot {
    int first, last;
} Slot;

/* A tensor of `texels` texels of `texel` bytes. */
static int new_slot(NstNet *net, Slot *slots, VkDeviceSize texels, int texel,
                    int first, int last)
{
    VkDeviceSize a = nst_vk_view_alignment(net->vk), size = texels * texel;
    int i = net->n_buffers++;

    net->buffer_texel[i] = texel;
    net->buffer_size[i] = (size + a - 1) / a * a;
    slots[i] = (Slot){ first, last };
    return i;
}

/* Places the tensors in the arena, largest first, each at the lowest
 * offset free of every placed tensor alive at the same time (the greedy
 * by-size plan of TFLite's arena planner): near the most bytes alive at
 * once, which is the least any plan can do. */
static VkDeviceSize place_slots(NstNet *net, const Slot *slots, int *order)
{
    int n = net->n_buffers;
    VkDeviceSize arena = 0;

    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) /* by size, descending; n is small */
        for (int j = i; j > 0 && net->buffer_size[order[j]] > net->buffer_size[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        int s = order[i];
        VkDeviceSize at = 0;
        int moved = 1;
        while (moved) { /* slide past every overlapping placed tensor */
            moved = 0;
            for (int k = 0; k < i; k++) {
                int o = order[k];
                if (slots[o].last < slots[s].first || slots[s].last < slots[o].first)
                    continue; /* never alive together */
                if (at < net->buffer_offset[o] + net->buffer_size[o] &&
                    net->buffer_offset[o] < at + net->buffer_size[s]) {
                    at = net->buffer_offset[o] + net->buffer_size[o];
                    moved = 1;
                }
            }
        }
        net->buffer_offset[s] = at;
        if (at + net->buffer_size[s] > arena)
            arena = at + net->buffer_size[s];
    }
    return arena;
}

/* Gives every tensor a slot and the slots their offsets; returns the
 * arena's size in *arena. With a side tensor (nst_net_plan), it and the
 * input live from before the network to after it. */
int nst_arena_assign(NstNet *net, VkDeviceSize *arena)
{
    /* the input, per exec an output and two Winograd scratch tensors, and
     * the side tensor */
    int n = net->n_exec, max = 3 * n + 2, input_last = -1, tb = net->fp16 ? 8 : 16;
    Slot *slots;
    int *order;

    net->buffers = calloc((size_t)max, sizeof(*net->buffers));
    net->buffer_size = calloc((size_t)max, sizeof(*net->buffer_size));
    net->buffer_offset = calloc((size_t)max, sizeof(*net->buffer_offset));
    net->buffer_texel = calloc((size_t)max, sizeof(*net->buffer_texel));
    slots = calloc((size_t)max, sizeof(*slots));
    order = calloc((size_t)max, sizeof(*order));
    if (!net->buffers || !net->buffer_size || !net->buffer_offset || !net->buffer_texel ||
        !slots || !order) {
        free(slots);
        free(order);
        return NST_ERR_NOMEM;
    }
    for (int e = 0; e < n; e++)
        net->exec[e].last_use = e;
    for (int e = 0; e < n; e++)
        for (int i = 0; i < 2; i++) {
            /* a banded conv runs again among its reader's steps */
            int v = net->exec[e].input[i], at = net->exec[e].band ? e + 2 : e;
            if (v == -1)
                input_last = at > input_last ? at : input_last;
            else if (v >= 0 && at > net->exec[v].last_use)
                net->exec[v].last_use = at;
        }
    if (net->final_value >= 0)
        net->exec[net->final_value].last_use = n; /* read by the output step */
    else
        input_last = n;

    net->input_buffer = new_slot(net, slots, (VkDeviceSize)net->in_w * net->in_h, tb,
                                 -1, net->side_texels ? n : input_last);
    for (int e = 0; e < n; e++) {
        NstExec *x = &net->exec[e];
        VkDeviceSize tiles = (VkDeviceSize)x->tiles_x * NST_WINO_POS *
                             (x->band_rows ? x->band_rows : x->tiles_y);
        /* fp32 always: the inverse transform multiplies rounding errors */
        if (x->wino) {
            x->buf_v = new_slot(net, slots, tiles * x->in_c4, 16, e, e);
            x->buf_m = new_slot(net, slots, tiles * x->out_c4, 16, e, e);
        }
        if (x->deferred) { /* its value is its input's tensor, read later */
            x->buffer = x->input[0] < 0 ? net->input_buffer : net->exec[x->input[0]].buffer;
            if (slots[x->buffer].last < x->last_use)
                slots[x->buffer].last = x->last_use;
            continue;
        }
        x->buffer = new_slot(net, slots, (VkDeviceSize)x->out_w * x->out_c4 *
                             (x->band ? x->band_rows : x->out_h), tb, e, x->last_use);
    }
    net->side_buffer = -1;
    if (net->side_texels)
        net->side_buffer = new_slot(net, slots, net->side_texels, tb, -1, n);
    *arena = place_slots(net, slots, order);
    free(slots);
    free(order);
    return NST_OK;
}

int nst_arena_check_texels(const NstNet *net, VkDeviceSize texels)
{
    uint32_t limit = net->vk->props.limits.maxTexelBufferElements;

    if (texels > limit) {
        nst_log(net->vk->log, NST_LOG_ERROR, "a %dx%d frame needs a tensor of "
                "%llu texels; the device allows %u per buffer", net->gpu->width,
                net->gpu->height, (unsigned long long)texels, limit);
        return NST_ERR_LIMITS;
    }
    return NST_OK;
}

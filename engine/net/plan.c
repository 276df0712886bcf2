/* A plan of the network for an input size: its buffers and steps, their
 * recording, and the test entry that runs it on a tensor. */
#include <stdlib.h>
#include <string.h>

#include "net/ops.h"
#include "util/half.h"

int nst_net_add_step(NstNet *net, int pipeline, NstBinds b, const void *push,
                     size_t push_size, uint32_t gx, uint32_t gy, uint32_t gz)
{
    int ret = nst_dispatch_step(net->gpu, net->pool, &net->steps[net->n_steps], pipeline,
                                b, push, push_size, gx, gy, gz, net->cur_layer);

    if (ret >= 0)
        net->n_steps++;
    return ret;
}

static int plan_exec(NstNet *net, NstExec *x)
{
    switch (nst_exec_layer(net, x)->op) {
    case NST_OP_CONV:
    case NST_OP_CONV_TRANSPOSE:
        return nst_conv_plan(net, x);
    case NST_OP_INSTANCE_NORM:
        return nst_norm_plan(net, x);
    default: /* upsample, relu, add */
        return nst_eltwise_plan(net, x);
    }
}

void nst_net_free_plan(NstNet *net)
{
    if (net->pool)
        vkDestroyDescriptorPool(net->vk->device, net->pool, NULL);
    for (int i = 0; net->buffers && i < net->n_buffers; i++)
        nst_vk_buffer_destroy(net->vk, &net->buffers[i]);
    nst_vk_buffer_destroy(net->vk, &net->arena);
    nst_vk_buffer_destroy(net->vk, &net->partials);
    nst_vk_buffer_destroy(net->vk, &net->factors);
    nst_vk_buffer_destroy(net->vk, &net->io);
    nst_arena_free_plan(net);
    free(net->steps);
    net->pool = VK_NULL_HANDLE;
    net->steps = NULL;
    net->n_steps = 0;
    net->side_buffer = -1;
    net->in_w = net->in_h = 0;
}

static int plan(NstNet *net, int in_w, int in_h, VkDeviceSize side_texels)
{
    VkDeviceSize partials = 32, arena;
    int n_factors, max_steps, ret;

    net->in_w = in_w;
    net->in_h = in_h;
    net->side_texels = side_texels;
    net->cur_layer = -1;
    if ((ret = nst_net_infer_shapes(net)) < 0)
        return ret;
    net->tile_planned = net->tile_req;
    if ((ret = nst_tiling_plan_buffers(net, &arena)) < 0)
        return ret;
    nst_tiling_count_chunks(net);
    for (int b = 0; b < net->n_buffers; b++)
        if ((ret = nst_arena_check_texels(net, net->buffer_size[b] / net->buffer_texel[b])) < 0)
            return ret;
    if ((ret = nst_vk_buffer_create(net->vk, &net->arena, arena,
                                    NST_BUF_TENSOR | NST_BUF_ARENA | NST_BUF_COPY)) < 0)
        return ret;
    for (int b = 0; b < net->n_buffers; b++)
        if ((ret = nst_vk_buffer_view(net->vk, &net->arena, net->buffer_offset[b],
                                      net->buffer_size[b], net->buffer_texel[b] == 8
                                      ? VK_FORMAT_R16G16B16A16_SFLOAT
                                      : VK_FORMAT_R32G32B32A32_SFLOAT,
                                      &net->buffers[b])) < 0)
            return ret;
    /* partials: a mean, M2 and count per chunk of a channel texel; factors:
     * the gate, then per instance norm its history and its a, b */
    net->norm_gate = 0;
    net->n_norms = 0;
    n_factors = 1;
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        if (nst_exec_layer(net, x)->op == NST_OP_INSTANCE_NORM) {
            VkDeviceSize np = (VkDeviceSize)x->out_c4 * x->n_chunks * NST_STATS_PART;
            partials = np > partials ? np : partials;
            x->norm_index = net->n_norms++;
            x->hist_off = n_factors;
            x->ab_off = n_factors + 2 * x->out_c4;
            n_factors += 4 * x->out_c4;
        }
    }
    if ((ret = nst_vk_buffer_create(net->vk, &net->partials, partials, NST_BUF_STORAGE)) < 0 ||
        (ret = nst_vk_buffer_create(net->vk, &net->factors, (VkDeviceSize)n_factors * 16,
                                    NST_BUF_STORAGE | NST_BUF_COPY)) < 0)
        return ret;

    max_steps = nst_tiling_count_steps(net);
    net->steps = calloc((size_t)max_steps, sizeof(*net->steps));
    if (!net->steps)
        return NST_ERR_NOMEM;
    if ((ret = nst_dispatch_pool(net->gpu, max_steps, &net->pool)) < 0)
        return ret;
    for (int e = 0; e < net->n_exec; e++) {
        net->cur_layer = net->exec[e].layer;
        if (net->exec[e].band) {
            if ((ret = nst_tiling_plan_bands(net, e)) < 0)
                return ret;
            e += 2;
            continue;
        }
        if ((ret = plan_exec(net, &net->exec[e])) < 0)
            return ret;
        net->exec[e].step_end = net->n_steps;
    }
    net->cur_layer = -1;
    return NST_OK;
}

int nst_net_planned(const NstNet *net, int in_w, int in_h, VkDeviceSize side_texels)
{
    return net->in_w == in_w && net->in_h == in_h && net->side_texels == side_texels &&
           net->tile_planned == net->tile_req;
}

int nst_net_plan(NstNet *net, int in_w, int in_h, VkDeviceSize side_texels)
{
    int ret;

    if (nst_net_planned(net, in_w, in_h, side_texels))
        return NST_OK;
    nst_net_free_plan(net);
    if ((ret = plan(net, in_w, in_h, side_texels)) < 0) {
        nst_net_free_plan(net);
        return ret;
    }
    /* what was made for the last plan must be remade */
    if (!++net->plan_id)
        net->plan_id = 1;
    return NST_OK;
}

void nst_net_close_gate(NstNet *net)
{
    /* the barrier after the frame path's first step orders this fill
     * before the network */
    vkCmdFillBuffer(net->vk->cmd, net->factors.buffer, (VkDeviceSize)net->norm_gate * 16,
                    16, 0);
}

void nst_net_record(NstNet *net)
{
    for (int s = 0; s < net->n_steps; s++)
        nst_dispatch_record(net->gpu, &net->steps[s]);
}

int nst_net_run_tensor(NstNet *net, const NstTensor *in, int layer, NstTensor *out)
{
    const NstBuffer *src;
    VkDeviceSize in_bytes, out_bytes;
    int tw, th, tc4, ret, value = -2, channels, step_end, tb;
    float *host;
    uint16_t *half;

    memset(out, 0, sizeof(*out));
    if (in->c != 3)
        return NST_ERR_INVALID;
    net->gpu->width = in->w;
    net->gpu->height = in->h;
    if ((ret = nst_net_plan(net, in->w, in->h, 0)) < 0)
        return ret;
    if (layer < 0)
        value = net->final_value;
    for (int e = 0; e < net->n_exec && value == -2; e++)
        if (net->exec[e].last == layer)
            value = e;
    if (value < 0 || net->exec[value].deferred || net->exec[value].band)
        return NST_ERR_INVALID; /* no whole tensor holds it */
    channels = net->exec_layers[value].out_ch;
    step_end = net->exec[value].step_end;
    nst_net_value_size(net, value, &tw, &th, &tc4);
    tb = net->fp16 ? 8 : 16;
    in_bytes = (VkDeviceSize)in->w * in->h * tb;
    out_bytes = (VkDeviceSize)tw * th * tc4 * tb;
    if (!net->io.buffer) {
        VkDeviceSize size = 0; /* the largest buffer holds any value */
        for (int b = 0; b < net->n_buffers; b++)
            size = net->buffer_size[b] > size ? net->buffer_size[b] : size;
        if ((ret = nst_vk_buffer_create(net->vk, &net->io, size,
                                        NST_BUF_HOST | NST_BUF_COPY)) < 0)
            return ret;
    }
    host = net->io.mapped;
    half = net->io.mapped;
    memset(host, 0, in_bytes);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < in->w * in->h; i++) {
            float v = in->data[(size_t)c * in->w * in->h + i];
            if (net->fp16)
                half[4 * i + c] = nst_half_from_float(v);
            else
                host[4 * i + c] = v;
        }

    src = nst_net_value_buffer(net, value);
    if ((ret = nst_vk_begin(net->vk)) < 0)
        return ret;
    nst_net_close_gate(net);
    vkCmdCopyBuffer(net->vk->cmd, net->io.buffer, net->buffers[net->input_buffer].buffer,
                    1, &(VkBufferCopy){ 0, net->buffers[net->input_buffer].offset, in_bytes });
    nst_vk_barrier(net->vk);
    for (int s = 0; s < step_end; s++)
        nst_dispatch_record(net->gpu, &net->steps[s]);
    vkCmdCopyBuffer(net->vk->cmd, src->buffer, net->io.buffer, 1,
                    &(VkBufferCopy){ src->offset, 0, out_bytes });
    nst_vk_barrier(net->vk);
    if ((ret = nst_vk_submit_wait(net->vk)) < 0)
        return ret;
    if ((ret = nst_tensor_alloc(out, channels, th, tw)) < 0)
        return ret;
    for (int c = 0; c < out->c; c++)
        for (int i = 0; i < tw * th; i++) {
            size_t k = ((size_t)(c / 4) * tw * th + i) * 4 + c % 4;
            out->data[(size_t)c * tw * th + i] = net->fp16 ? nst_half_to_float(half[k]) : host[k];
        }
    return NST_OK;
}

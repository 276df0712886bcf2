/* Motion-compensated output smoothing: state, steps, recording. */
#include <string.h>

#include "frame/frame.h"
#include "frame/temporal.h"

void nst_temporal_free(NstTemporal *t, NstVk *vk)
{
    if (t->pool)
        vkDestroyDescriptorPool(vk->device, t->pool, NULL);
    nst_vk_buffer_destroy(vk, &t->state);
    nst_vk_buffer_destroy(vk, &t->out);
    nst_vk_buffer_destroy(vk, &t->prev_out);
    nst_vk_buffer_destroy(vk, &t->stat);
    t->pool = VK_NULL_HANDLE;
    t->plan_id = 0;
    t->valid = 0;
}

/* State layout, in floats: L (w h), S (sw sh) of this frame, the same two
 * of the previous frame, so that one copy moves the pair, then the flow
 * (2 sw sh) and the cut statistic. */
static void layout_state(NstTemporal *t)
{
    uint32_t n = (uint32_t)t->width * (uint32_t)t->height;
    uint32_t ns = (uint32_t)t->sw * (uint32_t)t->sh;

    t->off_l = 0;
    t->off_s = n;
    t->off_lp = n + ns;
    t->off_sp = 2 * n + ns;
    t->off_f = 2 * (n + ns);
    t->off_stat = t->off_f + 2 * ns;
}

static int set_step(NstNet *net, NstTemporal *t, NstStep *s, int pipeline, NstBinds b,
                    uint32_t gx, uint32_t gy)
{
    memset(s, 0, sizeof(*s));
    s->pipeline = pipeline;
    s->layer = -1;
    s->groups[0] = gx ? gx : 1;
    s->groups[1] = gy ? gy : 1;
    s->groups[2] = 1;
    return nst_net_set(net, t->pool, b, &s->set);
}

static void push_static(NstTemporal *t, const NstNet *net)
{
    int32_t luma[8] = { t->width, t->height, t->sw, t->sh, NST_TEMPORAL_SCALE,
                        net->input_bgr, (int32_t)t->off_l, (int32_t)t->off_s };
    int32_t cut[5] = { t->sw * t->sh, (int32_t)t->off_s, (int32_t)t->off_sp,
                       (int32_t)t->off_stat, net->norm_gate };
    int32_t flow[7] = { t->sw, t->sh, (int32_t)t->off_s, (int32_t)t->off_sp,
                        (int32_t)t->off_f, NST_TEMPORAL_RADIUS, NST_TEMPORAL_PATCH };

    memcpy(t->luma.push, luma, sizeof(luma));
    nst_push_float(t->luma.push, 8, (net->input_max - net->input_min) / 255.0f);
    nst_push_float(t->luma.push, 9, net->input_min);
    memcpy(t->cut.push, cut, sizeof(cut));
    nst_push_float(t->cut.push, 7, NST_TEMPORAL_CUT);
    memcpy(t->flow.push, flow, sizeof(flow));
    nst_push_float(t->flow.push, 7, NST_TEMPORAL_PENALTY);
}

static int plan(NstTemporal *t, NstNet *net)
{
    VkDeviceSize tensor = (VkDeviceSize)net->width * net->height * 16;
    const NstBuffer *input = &net->buffers[net->frame_buffer];
    const NstBuffer *styled;
    const int *P = net->pipe_temporal;
    int styled_w, ret;

    nst_net_styled(net, &styled, &styled_w);

    t->width = net->width;
    t->height = net->height;
    t->sw = (int)nst_groups(t->width, NST_TEMPORAL_SCALE);
    t->sh = (int)nst_groups(t->height, NST_TEMPORAL_SCALE);
    layout_state(t);
    if ((VkDeviceSize)(t->off_stat + 1) * 4 > net->vk->props.limits.maxStorageBufferRange) {
        nst_log(net->vk->log, NST_LOG_ERROR, "temporal smoothing of a %dx%d frame "
                "exceeds the device's storage buffer range", t->width, t->height);
        return NST_ERR_LIMITS;
    }
    if ((ret = nst_vk_buffer_create(net->vk, &t->state, (VkDeviceSize)(t->off_stat + 1) * 4,
                                    NST_BUF_STORAGE | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(net->vk, &t->out, tensor,
                                    NST_BUF_TENSOR | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(net->vk, &t->prev_out, tensor,
                                    NST_BUF_TENSOR | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(net->vk, &t->stat, 16,
                                    NST_BUF_HOST | NST_BUF_COPY)) < 0 ||
        (ret = nst_net_pool(net, 7, &t->pool)) < 0)
        return ret;

    NstBinds luma = { input, NULL, NULL, &t->state, NULL };
    NstBinds state = { NULL, NULL, NULL, &t->state, NULL };
    NstBinds cut = { NULL, NULL, NULL, &t->state, &net->factors };
    NstBinds blend = { styled, &t->prev_out, &t->out, &t->state, NULL };
    NstBinds out = { &t->out, NULL, NULL, &net->staging, NULL };
    if ((ret = set_step(net, t, &t->luma, P[0], luma, nst_groups(t->sw, 8), nst_groups(t->sh, 8))) < 0 ||
        (ret = set_step(net, t, &t->cut, P[1], cut, 1, 1)) < 0 ||
        (ret = set_step(net, t, &t->flow, P[2], state, nst_groups(t->sw, 8), nst_groups(t->sh, 8))) < 0 ||
        (ret = set_step(net, t, &t->blend, P[3], blend, nst_groups(t->width, 8),
                        nst_groups(t->height, 8))) < 0)
        return ret;
    for (int p = 0; p < net->frame.n_planes; p++)
        if ((ret = set_step(net, t, &t->pix_out[p], net->pipe_pix_out, out,
                            nst_groups((int)nst_groups(net->frame.row_bytes[p], 4), 8),
                            nst_groups(net->frame.rows[p], 8))) < 0)
            return ret;
    push_static(t, net);

    /* Zeros rather than whatever the memory held: nothing reads the state
     * before it is valid, but the flow pass runs over it regardless. */
    if ((ret = nst_vk_begin(net->vk)) < 0)
        return ret;
    vkCmdFillBuffer(net->vk->cmd, t->state.buffer, 0, VK_WHOLE_SIZE, 0);
    vkCmdFillBuffer(net->vk->cmd, t->prev_out.buffer, 0, VK_WHOLE_SIZE, 0);
    nst_vk_barrier(net->vk);
    return nst_vk_submit_wait(net->vk);
}

int nst_temporal_prepare(NstTemporal *t, NstNet *net)
{
    int ret;

    if (t->plan_id && t->plan_id == net->plan_id)
        return NST_OK;
    nst_temporal_free(t, net->vk);
    if ((ret = plan(t, net)) < 0) {
        nst_temporal_free(t, net->vk);
        return ret;
    }
    t->plan_id = net->plan_id;
    return NST_OK;
}

void nst_temporal_record_input(NstTemporal *t, NstNet *net)
{
    float k = t->mechanisms & NST_TEMPORAL_NORM ? t->strength : 0.0f;

    t->cut.push[5] = (uint32_t)t->valid;
    nst_push_float(t->cut.push, 6, k);
    nst_net_record(net, &t->luma);
    /* before the network: the statistics' smoothing needs its verdict */
    nst_net_record(net, &t->cut);
}

static void record_copies(NstTemporal *t, NstNet *net)
{
    VkCommandBuffer cmd = net->vk->cmd;
    VkDeviceSize pair = (VkDeviceSize)t->off_lp * 4;
    VkBufferCopy luma = { 0, pair, pair };
    VkBufferCopy stat = { (VkDeviceSize)t->off_stat * 4, 0, 4 };
    VkBufferCopy out = { 0, 0, t->out.size };

    vkCmdCopyBuffer(cmd, t->state.buffer, t->state.buffer, 1, &luma);
    vkCmdCopyBuffer(cmd, t->state.buffer, t->stat.buffer, 1, &stat);
    if (t->mechanisms & NST_TEMPORAL_WARP)
        vkCmdCopyBuffer(cmd, t->out.buffer, t->prev_out.buffer, 1, &out);
    nst_vk_barrier(net->vk);
}

void nst_temporal_record_output(NstTemporal *t, NstNet *net, const NstFrame *f,
                                float strength)
{
    /* the output transform is applied by the blend: pixels pass as they are */
    NstLayer identity = { .op = NST_OP_OUTPUT, .out_mul = 1.0f, .out_add = 0.0f,
                          .out_min = 0.0f, .out_max = 255.0f };
    const NstBuffer *styled;
    int tw;
    const NstLayer *o = nst_net_styled(net, &styled, &tw);
    int32_t head[13] = { t->width, t->height, tw, o->out_tanh, net->input_bgr,
                         t->sw, t->sh, NST_TEMPORAL_SCALE, (int32_t)t->off_l,
                         (int32_t)t->off_lp, (int32_t)t->off_f, (int32_t)t->off_stat,
                         t->valid };
    uint32_t *push = t->blend.push;

    memcpy(push, head, sizeof(head));
    nst_push_float(push, 13, o->out_mul);
    nst_push_float(push, 14, o->out_add);
    nst_push_float(push, 15, o->out_min);
    nst_push_float(push, 16, o->out_max);
    nst_push_float(push, 17, t->strength);
    nst_push_float(push, 18, NST_TEMPORAL_CUT);
    nst_push_float(push, 19, NST_TEMPORAL_LO);
    nst_push_float(push, 20, NST_TEMPORAL_HI);
    for (int p = 0; p < net->frame.n_planes; p++)
        nst_frame_push_out(&net->frame, f, &identity, 0, p, t->width, strength,
                           net->preserve_color, t->pix_out[p].push);

    if (t->mechanisms & NST_TEMPORAL_WARP) {
        nst_net_record(net, &t->flow);
        nst_net_record(net, &t->blend);
        for (int p = 0; p < net->frame.n_planes; p++)
            nst_net_record(net, &t->pix_out[p]);
    } else { /* the per-frame output; the previous output is not needed */
        for (int s = net->pix_out_step; s < net->n_steps; s++)
            nst_net_record(net, &net->steps[s]);
    }
    record_copies(t, net);
}

void nst_temporal_done(NstTemporal *t, NstNet *net)
{
    memcpy(&t->last_cut, t->stat.mapped, sizeof(t->last_cut));
    if (t->valid)
        nst_log(net->vk->log, NST_LOG_DEBUG, "temporal: mean luma change %.2f%s",
                t->last_cut, t->last_cut > NST_TEMPORAL_CUT ? " (scene cut)" : "");
    t->valid = 1;
}

/* Motion-compensated output smoothing: state, steps, recording. */
#include <string.h>

#include "frame/temporal.h"

/* temporal_luma.comp's push-constant block. */
typedef struct LumaPush {
    int32_t w, h, sw, sh, scale, bgr, off_l, off_s;
    float in_mul, in_add;   /* tensor = pixel * in_mul + in_add */
} LumaPush;
_Static_assert(sizeof(LumaPush) == 10 * 4, "temporal_luma.comp's push block");

/* temporal_cut.comp's push-constant block. */
typedef struct CutPush {
    int32_t n, off_s, off_sp, off_stat;
    int32_t gate_off, valid;
    float norm_k, cut;      /* the gate when the frame follows the previous one */
} CutPush;
_Static_assert(sizeof(CutPush) == 8 * 4, "temporal_cut.comp's push block");

/* flow_block.comp's push-constant block. */
typedef struct FlowPush {
    int32_t sw, sh, off_s, off_sp, off_f, radius, patch_r;
    float penalty;
} FlowPush;
_Static_assert(sizeof(FlowPush) == 8 * 4, "flow_block.comp's push block");

/* temporal_blend.comp's push-constant block. */
typedef struct BlendPush {
    int32_t w, h, t_w, out_tanh, bgr, sw, sh, scale;
    int32_t off_l, off_lp, off_f, off_stat, valid;
    float out_mul, out_add, out_min, out_max;
    float strength, cut, lo, hi;
} BlendPush;
_Static_assert(sizeof(BlendPush) == 21 * 4, "temporal_blend.comp's push block");

int nst_temporal_init(NstTemporal *t, NstPipelines *p)
{
    static const char *const names[4] = {
        "temporal_luma", "temporal_cut", "flow_block", "temporal_blend",
    };

    for (int i = 0; i < 4; i++) {
        int r = nst_pipeline_get(p, names[i], NULL, 0);
        if (r < 0)
            return r;
        t->pipe[i] = r;
    }
    return NST_OK;
}

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

static int set_step(NstDispatch *d, NstTemporal *t, NstStep *s, int pipeline, NstBinds b,
                    uint32_t gx, uint32_t gy)
{
    memset(s, 0, sizeof(*s));
    s->pipeline = pipeline;
    s->layer = -1;
    s->groups[0] = gx ? gx : 1;
    s->groups[1] = gy ? gy : 1;
    s->groups[2] = 1;
    return nst_dispatch_set(d, t->pool, b, &s->set);
}

static void push_static(NstTemporal *t, const NstTemporalIo *io)
{
    LumaPush luma = { t->width, t->height, t->sw, t->sh, NST_TEMPORAL_SCALE, io->input_bgr,
                      (int32_t)t->off_l, (int32_t)t->off_s,
                      (io->input_max - io->input_min) / 255.0f, io->input_min };
    CutPush cut = { t->sw * t->sh, (int32_t)t->off_s, (int32_t)t->off_sp,
                    (int32_t)t->off_stat, io->gate_texel, 0, 0.0f, NST_TEMPORAL_CUT };
    FlowPush flow = { t->sw, t->sh, (int32_t)t->off_s, (int32_t)t->off_sp,
                      (int32_t)t->off_f, NST_TEMPORAL_RADIUS, NST_TEMPORAL_PATCH,
                      NST_TEMPORAL_PENALTY };

    memcpy(t->luma.push, &luma, sizeof(luma));
    memcpy(t->cut.push, &cut, sizeof(cut));
    memcpy(t->flow.push, &flow, sizeof(flow));
}

static int plan(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io)
{
    const NstFrameLayout *l = io->layout;
    VkDeviceSize tensor = (VkDeviceSize)l->width * l->height * 16;
    const int *P = t->pipe;
    int ret;

    t->width = l->width;
    t->height = l->height;
    t->sw = (int)nst_groups(t->width, NST_TEMPORAL_SCALE);
    t->sh = (int)nst_groups(t->height, NST_TEMPORAL_SCALE);
    layout_state(t);
    if ((VkDeviceSize)(t->off_stat + 1) * 4 > d->vk->props.limits.maxStorageBufferRange) {
        nst_log(d->vk->log, NST_LOG_ERROR, "temporal smoothing of a %dx%d frame "
                "exceeds the device's storage buffer range", t->width, t->height);
        return NST_ERR_LIMITS;
    }
    if ((ret = nst_vk_buffer_create(d->vk, &t->state, (VkDeviceSize)(t->off_stat + 1) * 4,
                                    NST_BUF_STORAGE | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &t->out, tensor,
                                    NST_BUF_TENSOR | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &t->prev_out, tensor,
                                    NST_BUF_TENSOR | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &t->stat, 16,
                                    NST_BUF_HOST | NST_BUF_COPY)) < 0 ||
        (ret = nst_dispatch_pool(d, 7, &t->pool)) < 0)
        return ret;

    NstBinds luma = { io->input, NULL, NULL, &t->state, NULL };
    NstBinds state = { NULL, NULL, NULL, &t->state, NULL };
    NstBinds cut = { NULL, NULL, NULL, &t->state, io->gate };
    NstBinds blend = { io->styled, &t->prev_out, &t->out, &t->state, NULL };
    NstBinds out = { &t->out, NULL, NULL, io->staging, NULL };
    if ((ret = set_step(d, t, &t->luma, P[0], luma, nst_groups(t->sw, 8), nst_groups(t->sh, 8))) < 0 ||
        (ret = set_step(d, t, &t->cut, P[1], cut, 1, 1)) < 0 ||
        (ret = set_step(d, t, &t->flow, P[2], state, nst_groups(t->sw, 8), nst_groups(t->sh, 8))) < 0 ||
        (ret = set_step(d, t, &t->blend, P[3], blend, nst_groups(t->width, 8),
                        nst_groups(t->height, 8))) < 0)
        return ret;
    for (int p = 0; p < l->n_planes; p++)
        if ((ret = set_step(d, t, &t->pix_out[p], io->pix_out, out,
                            nst_groups((int)nst_groups(l->row_bytes[p], 4), 8),
                            nst_groups(l->rows[p], 8))) < 0)
            return ret;
    push_static(t, io);

    /* Zeros rather than whatever the memory held: nothing reads the state
     * before it is valid, but the flow pass runs over it regardless. */
    if ((ret = nst_vk_begin(d->vk)) < 0)
        return ret;
    vkCmdFillBuffer(d->vk->cmd, t->state.buffer, 0, VK_WHOLE_SIZE, 0);
    vkCmdFillBuffer(d->vk->cmd, t->prev_out.buffer, 0, VK_WHOLE_SIZE, 0);
    nst_vk_barrier(d->vk);
    return nst_vk_submit_wait(d->vk);
}

int nst_temporal_prepare(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io)
{
    int ret;

    if (t->plan_id && t->plan_id == io->plan_id)
        return NST_OK;
    nst_temporal_free(t, d->vk);
    if ((ret = plan(t, d, io)) < 0) {
        nst_temporal_free(t, d->vk);
        return ret;
    }
    t->plan_id = io->plan_id;
    return NST_OK;
}

void nst_temporal_record_input(NstTemporal *t, NstDispatch *d)
{
    CutPush cut;

    memcpy(&cut, t->cut.push, sizeof(cut));
    cut.valid = t->valid;
    cut.norm_k = t->mechanisms & NST_TEMPORAL_NORM ? t->strength : 0.0f;
    memcpy(t->cut.push, &cut, sizeof(cut));
    nst_dispatch_record(d, &t->luma);
    /* before the network: the statistics' smoothing needs its verdict */
    nst_dispatch_record(d, &t->cut);
}

void nst_temporal_record_output(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io,
                                const NstFrame *f, float strength)
{
    /* the output transform is applied by the blend: pixels pass as they are */
    NstLayer identity = { .op = NST_OP_OUTPUT, .out_mul = 1.0f, .out_add = 0.0f,
                          .out_min = 0.0f, .out_max = 255.0f };
    const NstLayer *o = io->transform;
    BlendPush blend = {
        t->width, t->height, io->styled_w, o->out_tanh, io->input_bgr, t->sw, t->sh,
        NST_TEMPORAL_SCALE, (int32_t)t->off_l, (int32_t)t->off_lp, (int32_t)t->off_f,
        (int32_t)t->off_stat, t->valid,
        o->out_mul, o->out_add, o->out_min, o->out_max,
        t->strength, NST_TEMPORAL_CUT, NST_TEMPORAL_LO, NST_TEMPORAL_HI,
    };

    memcpy(t->blend.push, &blend, sizeof(blend));
    for (int p = 0; p < io->layout->n_planes; p++) {
        NstPixOutPush out;
        nst_frame_push_out(io->layout, f, &identity, 0, p, t->width, strength,
                           io->preserve, &out);
        memcpy(t->pix_out[p].push, &out, sizeof(out));
    }
    nst_dispatch_record(d, &t->flow);
    nst_dispatch_record(d, &t->blend);
    for (int p = 0; p < io->layout->n_planes; p++)
        nst_dispatch_record(d, &t->pix_out[p]);
}

void nst_temporal_record_end(NstTemporal *t, NstDispatch *d)
{
    VkCommandBuffer cmd = d->vk->cmd;
    VkDeviceSize pair = (VkDeviceSize)t->off_lp * 4;
    VkBufferCopy luma = { 0, pair, pair };
    VkBufferCopy stat = { (VkDeviceSize)t->off_stat * 4, 0, 4 };
    VkBufferCopy out = { 0, 0, t->out.size };

    vkCmdCopyBuffer(cmd, t->state.buffer, t->state.buffer, 1, &luma);
    vkCmdCopyBuffer(cmd, t->state.buffer, t->stat.buffer, 1, &stat);
    if (t->mechanisms & NST_TEMPORAL_WARP)
        vkCmdCopyBuffer(cmd, t->out.buffer, t->prev_out.buffer, 1, &out);
    nst_vk_barrier(d->vk);
}

void nst_temporal_done(NstTemporal *t, NstVk *vk)
{
    memcpy(&t->last_cut, t->stat.mapped, sizeof(t->last_cut));
    if (t->valid)
        nst_log(vk->log, NST_LOG_DEBUG, "temporal: mean luma change %.2f%s",
                t->last_cut, t->last_cut > NST_TEMPORAL_CUT ? " (scene cut)" : "");
    t->valid = 1;
}

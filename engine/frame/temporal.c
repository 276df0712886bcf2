/* Motion-compensated output smoothing: state, steps, recording. */
#include <string.h>

#include "frame/temporal.h"

/* temporal_luma.comp's push-constant block. */
typedef struct LumaPush {
    int32_t w, h, sw, sh, scale, bgr, off_l, off_s;
    float in_mul, in_add;   /* tensor = pixel * in_mul + in_add */
} LumaPush;
_Static_assert(sizeof(LumaPush) == 10 * 4, "temporal_luma.comp's push block");

/* temporal_stats.comp's push-constant block. */
typedef struct StatsPush {
    int32_t n, off_s, off_sp, off_stat;
    int32_t gate_off, valid;
    float norm_k, cut;      /* the gate when the frame follows the previous one */
    int32_t w, h, sw, sh, scale, off_l, off_lp, off_f;
    float sigma_min, sigma_max;
} StatsPush;
_Static_assert(sizeof(StatsPush) == 18 * 4, "temporal_stats.comp's push block");

/* temporal_stabilise.comp's push-constant block. */
typedef struct StabilisePush {
    int32_t w, h, sw, sh, scale, off_l, off_lp, off_f;
    int32_t off_stat, valid, m_cur, m_prev, bgr;
    float in_mul;           /* tensor units a level */
    float cut, alpha, k_pix, k_nb, k_err, k_drift, k_still;
} StabilisePush;
_Static_assert(sizeof(StabilisePush) == 21 * 4, "temporal_stabilise.comp's push block");

/* flow_block.comp's push-constant block. */
typedef struct FlowPush {
    int32_t sw, sh, off_s, off_sp, off_f, radius, patch_r;
    float penalty;
} FlowPush;
_Static_assert(sizeof(FlowPush) == 8 * 4, "flow_block.comp's push block");

/* temporal_blend.comp's push-constant block. */
typedef struct BlendPush {
    int32_t w, h, t_w, out_tanh, bgr, sw, sh, scale;
    int32_t off_l, off_lp, off_f, off_c, off_stat, valid, m_cur, near;
    float out_mul, out_add, out_min, out_max;
    float strength, hold, move, cut, lo, hi, k_still;
    int32_t near_px;
} BlendPush;
_Static_assert(sizeof(BlendPush) == 28 * 4, "temporal_blend.comp's push block");

/* temporal_changed.comp's push-constant block. */
typedef struct ChangedPush {
    int32_t w, h, sw, sh, scale, off_c, m_cur, least;
} ChangedPush;
_Static_assert(sizeof(ChangedPush) == 8 * 4, "temporal_changed.comp's push block");

/* temporal_renew.comp's push-constant block. */
typedef struct RenewPush {
    int32_t w, h, sw, sh, scale, off_c, m_cur, near, radius;
} RenewPush;
_Static_assert(sizeof(RenewPush) == 9 * 4, "temporal_renew.comp's push block");

int nst_temporal_init(NstTemporal *t, NstPipelines *p, int fp16)
{
    /* the stabiliser writes the network's input, in the activations' format */
    const char *const names[7] = {
        "temporal_luma", "temporal_stats", "flow_block", "temporal_blend",
        fp16 ? "temporal_stabilise.f16" : "temporal_stabilise", "temporal_changed",
        fp16 ? "temporal_renew.f16" : "temporal_renew",
    };

    for (int i = 0; i < 7; i++) {
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
    nst_vk_buffer_destroy(vk, &t->raw);
    nst_vk_buffer_destroy(vk, &t->prev_in);
    nst_vk_buffer_destroy(vk, &t->mean);
    nst_vk_buffer_destroy(vk, &t->stat);
    t->pool = VK_NULL_HANDLE;
    t->plan_id = 0;
    t->valid = 0;
}

/* State layout, in floats: L (w h), S (sw sh) of this frame, the same two
 * of the previous frame, so that one copy moves the pair, then the flow
 * (2 sw sh), the blocks that changed (sw sh) and the statistics (the
 * cut's, the noise's). */
static void layout_state(NstTemporal *t)
{
    uint32_t n = (uint32_t)t->width * (uint32_t)t->height;
    uint32_t ns = (uint32_t)t->sw * (uint32_t)t->sh;

    t->off_l = 0;
    t->off_s = n;
    t->off_lp = n + ns;
    t->off_sp = 2 * n + ns;
    t->off_f = 2 * (n + ns);
    t->off_c = t->off_f + 2 * ns;
    t->off_stat = t->off_c + ns;
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
    float in_mul = (io->input_max - io->input_min) / 255.0f;
    LumaPush luma = { t->width, t->height, t->sw, t->sh, NST_TEMPORAL_SCALE, io->input_bgr,
                      (int32_t)t->off_l, (int32_t)t->off_s, in_mul, io->input_min };
    StatsPush stats = { t->sw * t->sh, (int32_t)t->off_s, (int32_t)t->off_sp,
                        (int32_t)t->off_stat, io->gate_texel, 0, 0.0f, NST_TEMPORAL_CUT,
                        t->width, t->height, t->sw, t->sh, NST_TEMPORAL_SCALE,
                        (int32_t)t->off_l, (int32_t)t->off_lp, (int32_t)t->off_f,
                        NST_TEMPORAL_SIGMA_MIN, NST_TEMPORAL_SIGMA_MAX };
    FlowPush flow = { t->sw, t->sh, (int32_t)t->off_s, (int32_t)t->off_sp,
                      (int32_t)t->off_f, NST_TEMPORAL_RADIUS, NST_TEMPORAL_PATCH,
                      NST_TEMPORAL_PENALTY };
    StabilisePush stab = { t->width, t->height, t->sw, t->sh, NST_TEMPORAL_SCALE,
                           (int32_t)t->off_l, (int32_t)t->off_lp, (int32_t)t->off_f,
                           (int32_t)t->off_stat, 0, 0, 0, io->input_bgr,
                           in_mul < 0.0f ? -in_mul : in_mul,
                           NST_TEMPORAL_CUT, NST_TEMPORAL_ALPHA, NST_TEMPORAL_K_PIX,
                           NST_TEMPORAL_K_NB, NST_TEMPORAL_K_ERR, NST_TEMPORAL_K_DRIFT,
                           NST_TEMPORAL_K_STILL };
    ChangedPush changed = { t->width, t->height, t->sw, t->sh, NST_TEMPORAL_SCALE,
                            (int32_t)t->off_c, 0, NST_TEMPORAL_CHANGED };
    RenewPush renew = { t->width, t->height, t->sw, t->sh, NST_TEMPORAL_SCALE,
                        (int32_t)t->off_c, 0,
                        (NST_TEMPORAL_RENEW + NST_TEMPORAL_SCALE - 1) / NST_TEMPORAL_SCALE,
                        NST_TEMPORAL_RENEW };

    memcpy(t->luma.push, &luma, sizeof(luma));
    memcpy(t->stats.push, &stats, sizeof(stats));
    memcpy(t->flow.push, &flow, sizeof(flow));
    memcpy(t->stabilise.push, &stab, sizeof(stab));
    memcpy(t->changed.push, &changed, sizeof(changed));
    memcpy(t->renew.push, &renew, sizeof(renew));
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
    /* the means of this frame and the last, a vec4 a pixel each */
    VkDeviceSize mean = (VkDeviceSize)l->width * l->height * 2 * 16;
    VkDeviceSize range = d->vk->props.limits.maxStorageBufferRange;
    if ((VkDeviceSize)(t->off_stat + 2) * 4 > range || mean > range) {
        nst_log(d->vk->log, NST_LOG_ERROR, "temporal smoothing of a %dx%d frame "
                "exceeds the device's storage buffer range", t->width, t->height);
        return NST_ERR_LIMITS;
    }
    /* the network's input, and copies of it in its own format */
    t->input_bytes = (VkDeviceSize)l->width * l->height *
                     (io->input->format == VK_FORMAT_R16G16B16A16_SFLOAT ? 8 : 16);
    if ((ret = nst_vk_buffer_create(d->vk, &t->state, (VkDeviceSize)(t->off_stat + 2) * 4,
                                    NST_BUF_STORAGE | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create_format(d->vk, &t->raw, t->input_bytes,
                                           NST_BUF_TENSOR | NST_BUF_COPY,
                                           io->input->format)) < 0 ||
        (ret = nst_vk_buffer_create_format(d->vk, &t->prev_in, t->input_bytes,
                                           NST_BUF_TENSOR | NST_BUF_COPY,
                                           io->input->format)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &t->mean, mean,
                                    NST_BUF_STORAGE | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &t->out, tensor,
                                    NST_BUF_TENSOR | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &t->prev_out, tensor,
                                    NST_BUF_TENSOR | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &t->stat, 16,
                                    NST_BUF_HOST | NST_BUF_COPY)) < 0 ||
        (ret = nst_dispatch_pool(d, 10, &t->pool)) < 0)
        return ret;

    NstBinds luma = { io->input, NULL, NULL, &t->state, NULL };
    NstBinds state = { NULL, NULL, NULL, &t->state, NULL };
    NstBinds stats = { NULL, NULL, NULL, &t->state, io->gate };
    NstBinds stab = { &t->raw, &t->prev_in, io->input, &t->state, &t->mean };
    NstBinds blend = { io->styled, &t->prev_out, &t->out, &t->state, &t->mean };
    NstBinds state_mean = { NULL, NULL, NULL, &t->state, &t->mean };
    NstBinds renew = { &t->raw, NULL, io->input, &t->state, &t->mean };
    NstBinds out = { &t->out, NULL, NULL, io->staging, NULL };
    uint32_t gx = nst_groups(t->width, 8), gy = nst_groups(t->height, 8);
    if ((ret = set_step(d, t, &t->luma, P[0], luma, nst_groups(t->sw, 8), nst_groups(t->sh, 8))) < 0 ||
        (ret = set_step(d, t, &t->stats, P[1], stats, 1, 1)) < 0 ||
        (ret = set_step(d, t, &t->flow, P[2], state, nst_groups(t->sw, 8), nst_groups(t->sh, 8))) < 0 ||
        (ret = set_step(d, t, &t->blend, P[3], blend, gx, gy)) < 0 ||
        (ret = set_step(d, t, &t->stabilise, P[4], stab, gx, gy)) < 0 ||
        (ret = set_step(d, t, &t->changed, P[5], state_mean, nst_groups(t->sw, 8),
                        nst_groups(t->sh, 8))) < 0 ||
        (ret = set_step(d, t, &t->renew, P[6], renew, gx, gy)) < 0)
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
    vkCmdFillBuffer(d->vk->cmd, t->prev_in.buffer, 0, VK_WHOLE_SIZE, 0);
    vkCmdFillBuffer(d->vk->cmd, t->mean.buffer, 0, VK_WHOLE_SIZE, 0);
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

/* This frame's and the last frame's halves of `mean`, in vec4s. */
static int32_t mean_half(const NstTemporal *t, int previous)
{
    return (t->parity ^ previous) ? (int32_t)(t->width * t->height) : 0;
}

static void copy(NstVk *vk, const NstBuffer *from, const NstBuffer *to, VkDeviceSize size)
{
    VkBufferCopy region = { from->offset, to->offset, size };

    vkCmdCopyBuffer(vk->cmd, from->buffer, to->buffer, 1, &region);
    nst_vk_barrier(vk);
}

void nst_temporal_record_input(NstTemporal *t, NstDispatch *d, const NstTemporalIo *io)
{
    StatsPush stats;
    StabilisePush stab;
    ChangedPush changed;
    RenewPush renew;

    memcpy(&stats, t->stats.push, sizeof(stats));
    stats.valid = t->valid;
    stats.norm_k = t->mechanisms & NST_TEMPORAL_NORM ? t->strength : 0.0f;
    memcpy(t->stats.push, &stats, sizeof(stats));
    nst_dispatch_record(d, &t->luma);
    if (t->mechanisms & (NST_TEMPORAL_WARP | NST_TEMPORAL_INPUT))
        nst_dispatch_record(d, &t->flow);
    /* before the network: the statistics' smoothing needs its verdict */
    nst_dispatch_record(d, &t->stats);
    if (!(t->mechanisms & NST_TEMPORAL_INPUT))
        return;
    memcpy(&stab, t->stabilise.push, sizeof(stab));
    stab.valid = t->valid;
    stab.m_cur = mean_half(t, 0);
    stab.m_prev = mean_half(t, 1);
    memcpy(t->stabilise.push, &stab, sizeof(stab));
    copy(d->vk, io->input, &t->raw, t->input_bytes);
    nst_dispatch_record(d, &t->stabilise);
    memcpy(&changed, t->changed.push, sizeof(changed));
    changed.m_cur = stab.m_cur;
    memcpy(t->changed.push, &changed, sizeof(changed));
    nst_dispatch_record(d, &t->changed);
    memcpy(&renew, t->renew.push, sizeof(renew));
    renew.m_cur = stab.m_cur;
    memcpy(t->renew.push, &renew, sizeof(renew));
    nst_dispatch_record(d, &t->renew);
    /* now, before the network reuses the input's memory */
    copy(d->vk, io->input, &t->prev_in, t->input_bytes);
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
        (int32_t)t->off_c, (int32_t)t->off_stat, t->valid,
        t->mechanisms & NST_TEMPORAL_INPUT ? mean_half(t, 0) : -1, NST_TEMPORAL_NEAR_BLOCKS,
        o->out_mul, o->out_add, o->out_min, o->out_max,
        t->strength, t->strength + (1.0f - t->strength) * NST_TEMPORAL_HOLD_BOOST,
        t->strength + (1.0f - t->strength) * NST_TEMPORAL_MOVE_BOOST,
        NST_TEMPORAL_CUT, NST_TEMPORAL_LO, NST_TEMPORAL_HI, NST_TEMPORAL_K_STILL,
        NST_TEMPORAL_NEAR,
    };

    memcpy(t->blend.push, &blend, sizeof(blend));
    for (int p = 0; p < io->layout->n_planes; p++) {
        NstPixOutPush out;
        nst_frame_push_out(io->layout, f, &identity, 0, p, t->width, strength,
                           io->preserve, &out);
        memcpy(t->pix_out[p].push, &out, sizeof(out));
    }
    nst_dispatch_record(d, &t->blend);
    for (int p = 0; p < io->layout->n_planes; p++)
        nst_dispatch_record(d, &t->pix_out[p]);
}

void nst_temporal_record_end(NstTemporal *t, NstDispatch *d)
{
    VkCommandBuffer cmd = d->vk->cmd;
    VkDeviceSize pair = (VkDeviceSize)t->off_lp * 4;
    VkBufferCopy luma = { 0, pair, pair };
    VkBufferCopy stat = { (VkDeviceSize)t->off_stat * 4, 0, 8 };
    VkBufferCopy out = { 0, 0, t->out.size };

    vkCmdCopyBuffer(cmd, t->state.buffer, t->state.buffer, 1, &luma);
    vkCmdCopyBuffer(cmd, t->state.buffer, t->stat.buffer, 1, &stat);
    if (t->mechanisms & NST_TEMPORAL_WARP)
        vkCmdCopyBuffer(cmd, t->out.buffer, t->prev_out.buffer, 1, &out);
    nst_vk_barrier(d->vk);
    /* the next frame's half of the means, decided when recording: frames
     * may be recorded before the last one has run (engine/async.c) */
    t->parity ^= 1;
}

void nst_temporal_done(NstTemporal *t, NstVk *vk)
{
    const float *stat = t->stat.mapped;

    t->last_cut = stat[0];
    t->last_sigma = stat[1];
    if (t->valid)
        nst_log(vk->log, NST_LOG_DEBUG, "temporal: mean luma change %.2f%s, noise %.2f "
                "levels", t->last_cut, t->last_cut > NST_TEMPORAL_CUT ? " (scene cut)" : "",
                t->last_sigma);
    t->valid = 1;
}

/* The network below the frame's size: area downscale, guided upsampling. */
#include <string.h>

#include "net/net.h"
#include "frame/resize.h"

int nst_resize_init(NstResize *r, NstPipelines *p, int fp16)
{
    /* the downscale writes the network's input, in the activations'
     * format; the rest write buffers of their own, in fp32 */
    const char *const names[4] = {
        fp16 ? "downscale.f16" : "downscale", "guided_coef", "guided_mean", "guided_apply",
    };
    const int32_t radius[4] = { 0, NST_GUIDED_RADIUS, NST_GUIDED_MEAN_RADIUS, 0 };

    for (int i = 0; i < 4; i++) {
        int ret = nst_pipeline_get(p, names[i], &radius[i], radius[i] ? 1 : 0);
        if (ret < 0)
            return ret;
        r->pipe[i] = ret;
    }
    return NST_OK;
}

static int clamp_side(int want, int side, int *clamped)
{
    if (want > side) {
        *clamped = 1;
        return side;
    }
    return want;
}

int nst_resize_net_size(const NstResize *r, int w, int h, int *net_w, int *net_h)
{
    int clamped = 0;

    *net_w = w;
    *net_h = h;
    if (r->req_scale > 0.0f) {
        /* rounded to the nearest, at least one pixel; scale <= 1 */
        *net_w = (int)(w * (double)r->req_scale + 0.5);
        *net_h = (int)(h * (double)r->req_scale + 0.5);
        *net_w = *net_w < 1 ? 1 : *net_w;
        *net_h = *net_h < 1 ? 1 : *net_h;
    } else if (r->req_w > 0) {
        *net_w = clamp_side(r->req_w, w, &clamped);
        *net_h = clamp_side(r->req_h, h, &clamped);
    }
    return clamped;
}

/* A step over gx x gy pixels (8x8 workgroups) and gz planes; push is a
 * block of 32-bit words, as the shader declares it. */
static int make_step(NstNet *net, NstStep *s, int pipeline, NstBinds b,
                     const void *push, size_t push_size, int gx, int gy, int gz)
{
    return nst_net_step(net, s, pipeline, b, push, (int)(push_size / 4), nst_groups(gx, 8),
                        nst_groups(gy, 8), (uint32_t)gz);
}

int nst_resize_plan(NstResize *r, NstNet *net)
{
    const NstLayer *o = &net->output;
    int w = net->width, h = net->height, lw = net->in_w, lh = net->in_h;
    int fv = net->final_value;
    int tw = fv < 0 ? lw : net->exec[fv].out_w;
    const NstBuffer *full = &net->buffers[net->frame_buffer];
    const NstBuffer *small = &net->buffers[net->input_buffer];
    const NstBuffer *styled = &net->buffers[fv < 0 ? net->input_buffer : net->exec[fv].buffer];
    VkDeviceSize plane = (VkDeviceSize)lw * lh * 16, frame = (VkDeviceSize)w * h * 16;
    uint32_t limit = net->vk->props.limits.maxTexelBufferElements;
    /* network units back to colours in 0..1, whatever the model's range */
    float g_mul = 1.0f / (net->input_max - net->input_min), g_add = -net->input_min * g_mul;
    int ret;

    if (4 * plane / 16 > limit || frame / 16 > limit) {
        nst_log(net->vk->log, NST_LOG_ERROR, "upsampling from %dx%d to %dx%d needs "
                "%llu texels; the device allows %u per buffer", lw, lh, w, h,
                (unsigned long long)((4 * plane > frame ? 4 * plane : frame) / 16), limit);
        return NST_ERR_LIMITS;
    }
    if ((ret = nst_vk_buffer_create(net->vk, &r->coef, 4 * plane, NST_BUF_TENSOR)) < 0 ||
        (ret = nst_vk_buffer_create(net->vk, &r->mean, 3 * plane, NST_BUF_TENSOR)) < 0 ||
        (ret = nst_vk_buffer_create(net->vk, &r->out, frame, NST_BUF_TENSOR)) < 0)
        return ret;

    r->identity = *o;
    r->identity.out_tanh = 0;
    r->identity.out_mul = 1.0f;
    r->identity.out_add = 0.0f;

    int32_t down[5] = { w, h, lw, lh, 1 };
    struct { int32_t i[4]; float f[7]; } fit = {
        { lw, lh, tw, o->out_tanh },
        { NST_GUIDED_EPS, g_mul, g_add, o->out_mul, o->out_add, o->out_min, o->out_max },
    };
    int32_t avg[2] = { lw, lh };
    struct { int32_t i[4]; float f[4]; } apply = {
        { w, h, lw, lh }, { g_mul, g_add, o->out_min, o->out_max },
    };
    NstBinds b_down = { full, NULL, small, NULL, NULL };
    NstBinds b_fit = { small, styled, &r->coef, NULL, NULL };
    NstBinds b_avg = { &r->coef, NULL, &r->mean, NULL, NULL };
    NstBinds b_apply = { full, &r->mean, &r->out, NULL, NULL };
    if ((ret = make_step(net, &r->down, r->pipe[0], b_down, down, sizeof(down), lw, lh, 1)) < 0 ||
        (ret = make_step(net, &r->fit, r->pipe[1], b_fit, &fit, sizeof(fit), lw, lh, 1)) < 0 ||
        (ret = make_step(net, &r->avg, r->pipe[2], b_avg, avg, sizeof(avg), lw, lh, 1)) < 0 ||
        (ret = make_step(net, &r->apply, r->pipe[3], b_apply, &apply, sizeof(apply), w, h, 1)) < 0)
        return ret;
    return NST_OK;
}

void nst_resize_record_down(const NstResize *r, NstNet *net)
{
    nst_net_record(net, &r->down);
}

void nst_resize_record_up(const NstResize *r, NstNet *net)
{
    nst_net_record(net, &r->fit);
    nst_net_record(net, &r->avg);
    nst_net_record(net, &r->apply);
}

void nst_resize_free(NstResize *r, NstVk *vk)
{
    nst_vk_buffer_destroy(vk, &r->coef);
    nst_vk_buffer_destroy(vk, &r->mean);
    nst_vk_buffer_destroy(vk, &r->out);
    memset(&r->down, 0, sizeof(r->down));
    memset(&r->fit, 0, sizeof(r->fit));
    memset(&r->avg, 0, sizeof(r->avg));
    memset(&r->apply, 0, sizeof(r->apply));
    r->active = 0;
}

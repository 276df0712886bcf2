/* The network below the frame's size: area downscale, guided upsampling. */
#include <string.h>

#include "frame/resize.h"

/* downscale.comp's push-constant block. */
typedef struct DownPush {
    int32_t in_w, in_h, out_w, out_h, c4;
} DownPush;
_Static_assert(sizeof(DownPush) == 5 * 4, "downscale.comp's push block");

/* guided_coef.comp's push-constant block. */
typedef struct CoefPush {
    int32_t w, h, t_w, out_tanh;
    float eps, g_mul, g_add, out_mul, out_add, out_min, out_max;
} CoefPush;
_Static_assert(sizeof(CoefPush) == 11 * 4, "guided_coef.comp's push block");

/* guided_mean.comp's push-constant block. */
typedef struct MeanPush {
    int32_t w, h;
} MeanPush;
_Static_assert(sizeof(MeanPush) == 2 * 4, "guided_mean.comp's push block");

/* guided_apply.comp's push-constant block. */
typedef struct ApplyPush {
    int32_t w, h, lw, lh;
    float g_mul, g_add, out_min, out_max;
} ApplyPush;
_Static_assert(sizeof(ApplyPush) == 8 * 4, "guided_apply.comp's push block");

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

/* A step over gx x gy pixels (8x8 workgroups) and gz planes. */
static int make_step(NstDispatch *d, VkDescriptorPool pool, NstStep *s, int pipeline,
                     NstBinds b, const void *push, size_t push_size, int gx, int gy, int gz)
{
    return nst_dispatch_step(d, pool, s, pipeline, b, push, push_size, nst_groups(gx, 8),
                             nst_groups(gy, 8), (uint32_t)gz, -1);
}

int nst_resize_plan(NstResize *r, NstDispatch *d, VkDescriptorPool pool,
                    const NstResizeIo *io)
{
    const NstLayer *o = io->output;
    int w = io->w, h = io->h, lw = io->lw, lh = io->lh;
    VkDeviceSize plane = (VkDeviceSize)lw * lh * 16, frame = (VkDeviceSize)w * h * 16;
    uint32_t limit = d->vk->props.limits.maxTexelBufferElements;
    /* network units back to colours in 0..1, whatever the model's range */
    float g_mul = 1.0f / (io->input_max - io->input_min), g_add = -io->input_min * g_mul;
    int ret;

    if (4 * plane / 16 > limit || frame / 16 > limit) {
        nst_log(d->vk->log, NST_LOG_ERROR, "upsampling from %dx%d to %dx%d needs "
                "%llu texels; the device allows %u per buffer", lw, lh, w, h,
                (unsigned long long)((4 * plane > frame ? 4 * plane : frame) / 16), limit);
        return NST_ERR_LIMITS;
    }
    if ((ret = nst_vk_buffer_create(d->vk, &r->coef, 4 * plane, NST_BUF_TENSOR)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &r->mean, 3 * plane, NST_BUF_TENSOR)) < 0 ||
        (ret = nst_vk_buffer_create(d->vk, &r->out, frame, NST_BUF_TENSOR)) < 0)
        return ret;

    r->identity = *o;
    r->identity.out_tanh = 0;
    r->identity.out_mul = 1.0f;
    r->identity.out_add = 0.0f;

    DownPush down = { w, h, lw, lh, 1 };
    CoefPush fit = { lw, lh, io->out_w, o->out_tanh, NST_GUIDED_EPS, g_mul, g_add,
                     o->out_mul, o->out_add, o->out_min, o->out_max };
    MeanPush avg = { lw, lh };
    ApplyPush apply = { w, h, lw, lh, g_mul, g_add, o->out_min, o->out_max };
    NstBinds b_down = { io->full, NULL, io->small, NULL, NULL };
    NstBinds b_fit = { io->small, io->styled, &r->coef, NULL, NULL };
    NstBinds b_avg = { &r->coef, NULL, &r->mean, NULL, NULL };
    NstBinds b_apply = { io->full, &r->mean, &r->out, NULL, NULL };
    if ((ret = make_step(d, pool, &r->down, r->pipe[0], b_down, &down, sizeof(down), lw, lh, 1)) < 0 ||
        (ret = make_step(d, pool, &r->fit, r->pipe[1], b_fit, &fit, sizeof(fit), lw, lh, 1)) < 0 ||
        (ret = make_step(d, pool, &r->avg, r->pipe[2], b_avg, &avg, sizeof(avg), lw, lh, 1)) < 0 ||
        (ret = make_step(d, pool, &r->apply, r->pipe[3], b_apply, &apply, sizeof(apply), w, h, 1)) < 0)
        return ret;
    return NST_OK;
}

void nst_resize_record_down(const NstResize *r, NstDispatch *d)
{
    nst_dispatch_record(d, &r->down);
}

void nst_resize_record_up(const NstResize *r, NstDispatch *d)
{
    nst_dispatch_record(d, &r->fit);
    nst_dispatch_record(d, &r->avg);
    nst_dispatch_record(d, &r->apply);
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

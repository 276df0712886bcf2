/* The public engine: a device, its pipelines and one network. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0");
}

static int pick_precision(NstEngine *e, int want)
{
    const char *env = getenv("NST_PRECISION");
    const VkPhysicalDeviceType type = e->vk.props.deviceType;

    if (want == NST_PRECISION_AUTO && env && *env) {
        if (!strcmp(env, "fp16"))
            want = NST_PRECISION_FP16;
        else if (!strcmp(env, "fp16a"))
            want = NST_PRECISION_FP16_ARITH;
        else if (!strcmp(env, "fp32"))
            want = NST_PRECISION_FP32;
        else {
            nst_log(&e->log, NST_LOG_ERROR, "NST_PRECISION=%s: give fp16, fp16a or fp32", env);
            return NST_ERR_INVALID;
        }
    }
    switch (want) {
    case NST_PRECISION_AUTO:
        /* the rule of docs/performance.md: a CPU device converts on the
         * cores that compute, so it keeps fp32; a GPU stores fp16, and
         * multiplies in fp16 too where it is a discrete or integrated one
         * with shaderFloat16 (packed fp16 math) */
        e->fp16 = e->vk.fp16_texels && type != VK_PHYSICAL_DEVICE_TYPE_CPU;
        e->fp16_arith = e->fp16 && e->vk.fp16_arith &&
                        (type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ||
                         type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU);
        return NST_OK;
    case NST_PRECISION_FP32:
        e->fp16 = e->fp16_arith = 0;
        return NST_OK;
    case NST_PRECISION_FP16:
    case NST_PRECISION_FP16_ARITH:
        if (!e->vk.fp16_texels) {
            nst_log(&e->log, NST_LOG_ERROR, "'%s' has no fp16 texel buffers",
                    e->vk.props.deviceName);
            return NST_ERR_UNSUPPORTED;
        }
        if (want == NST_PRECISION_FP16_ARITH && !e->vk.fp16_arith) {
            nst_log(&e->log, NST_LOG_ERROR, "'%s' has no fp16 arithmetic (shaderFloat16)",
                    e->vk.props.deviceName);
            return NST_ERR_UNSUPPORTED;
        }
        e->fp16 = 1;
        e->fp16_arith = want == NST_PRECISION_FP16_ARITH;
        return NST_OK;
    default:
        nst_log(&e->log, NST_LOG_ERROR, "precision %d is not one of NST_PRECISION_*", want);
        return NST_ERR_INVALID;
    }
}

int nst_engine_create(const NstModel *model, const NstEngineOptions *options,
                      NstEngine **engine)
{
    return nst_engine_open(model, options, NULL, 1, engine);
}

int nst_engine_create_on_device(const NstModel *model, const NstEngineOptions *options,
                                const NstVulkanDevice *device, NstEngine **engine)
{
    if (!device) {
        if (engine)
            *engine = NULL;
        return NST_ERR_INVALID;
    }
    return nst_engine_open(model, options, device, 1, engine);
}

int nst_engine_open(const NstModel *model, const NstEngineOptions *options,
                    const NstVulkanDevice *device, int frames, NstEngine **engine)
{
    NstEngineOptions none = { 0 };
    const char *env;
    NstEngine *e;
    int ret;

    if (!engine)
        return NST_ERR_INVALID;
    *engine = NULL;
    if (!model)
        return NST_ERR_INVALID;
    if (!options)
        options = &none;
    e = calloc(1, sizeof(*e));
    if (!e)
        return NST_ERR_NOMEM;
    e->temporal.mechanisms = NST_TEMPORAL_ALL;
    e->log.fn = options->log;
    e->log.opaque = options->log_opaque;
    ret = device ? nst_vk_wrap(&e->vk, device, &e->log) :
          nst_vk_create(&e->vk, options->device,
                        options->validation || env_flag("NST_VALIDATION"), &e->log);
    if (ret >= 0)
        ret = nst_pipelines_init(&e->pipes, &e->vk);
    if (ret >= 0)
        ret = pick_precision(e, options->precision);
    if (ret >= 0)
        ret = nst_dispatch_init(&e->gpu, &e->vk, &e->pipes);
    if (ret >= 0)
        ret = nst_net_init(&e->net, &e->gpu, model, e->fp16, e->fp16_arith);
    if (ret >= 0) {
        e->net.smooth_last = NST_TEMPORAL_NORM_LAST; /* frame/temporal.h says why */
        ret = nst_path_init(&e->path, &e->gpu, &e->net);
    }
    if (ret >= 0)
        ret = nst_temporal_init(&e->temporal, &e->pipes, e->net.fp16);
    if (ret >= 0)
        ret = nst_dispatch_warm_up(&e->gpu);
    if (ret >= 0 && frames)
        ret = nst_net_check_frames(&e->net); /* a model that cannot, refused now */
    if (ret >= 0 && (env = getenv("NST_TILE_ROWS")) && *env) {
        char *end;
        long rows = strtol(env, &end, 10);
        /* the range is nst_engine_set_tiling's to check */
        ret = *end || rows != (int)rows ? NST_ERR_INVALID : nst_engine_set_tiling(e, (int)rows);
        if (ret < 0)
            nst_log(&e->log, NST_LOG_ERROR, "NST_TILE_ROWS=%s: give -1, 0 or rows", env);
    }
    if (ret < 0) {
        nst_engine_free(&e);
        return ret;
    }
    *engine = e;
    return NST_OK;
}

static int check_frame(NstEngine *e, const NstFrame *f, float strength)
{
    if (!e || !f || (unsigned)f->format >= NST_PIX_NB || f->width < 1 || f->height < 1)
        return NST_ERR_INVALID;
    if (!(strength >= 0.0f && strength <= 1.0f)) {
        nst_log(&e->log, NST_LOG_ERROR, "strength %g is outside 0..1", strength);
        return NST_ERR_INVALID;
    }
    return NST_OK;
}

int nst_engine_process(NstEngine *e, NstFrame *f, float strength)
{
    int ret = check_frame(e, f, strength);

    if (ret < 0)
        return ret;
    if (e->async.count) {
        /* it would come back before frames submitted earlier */
        nst_log(&e->log, NST_LOG_ERROR, "%d submitted frame(s) pending: receive "
                "them before processing synchronously", e->async.count);
        return NST_ERR_INVALID;
    }
    if (strength == 0.0f) {
        e->temporal.valid = 0; /* the next output must not follow an old one */
        return NST_OK;         /* the input, bit-exact */
    }
    if ((ret = nst_vk_alive(&e->vk)) < 0)
        return ret;
    return nst_path_process(&e->path, f, strength,
                           e->temporal.strength > 0.0f ? &e->temporal : NULL);
}

int nst_engine_submit(NstEngine *e, NstFrame *f, float strength)
{
    int ret = check_frame(e, f, strength);

    if (ret < 0)
        return ret;
    if (e->async.count == NST_ENGINE_DEPTH)
        return NST_ERR_AGAIN;
    if (strength == 0.0f)
        e->temporal.valid = 0; /* as in nst_engine_process */
    else if ((ret = nst_vk_alive(&e->vk)) < 0)
        return ret;
    return nst_async_submit(&e->async, &e->path,
                            e->temporal.strength > 0.0f ? &e->temporal : NULL, f, strength);
}

int nst_engine_receive(NstEngine *e, NstFrame **f)
{
    if (!e || !f)
        return NST_ERR_INVALID;
    /* the temporal state whatever the setting now: a failed frame that
     * used it must still invalidate it */
    return nst_async_receive(&e->async, &e->path, &e->temporal, f);
}

int nst_engine_pending(const NstEngine *e)
{
    return e ? e->async.count : 0;
}

int nst_engine_set_network_size(NstEngine *e, int width, int height)
{
    if (!e)
        return NST_ERR_INVALID;
    /* 32768: the largest frame side (engine/frame/frame.c) */
    if ((width || height) &&
        (width < 1 || height < 1 || width > 32768 || height > 32768)) {
        nst_log(&e->log, NST_LOG_ERROR, "network size %dx%d: give 1..32768 in both "
                "dimensions, or 0x0 for the frame's size", width, height);
        return NST_ERR_INVALID;
    }
    e->path.resize.req_w = width;
    e->path.resize.req_h = height;
    e->path.resize.req_scale = 0.0f;
    e->path.resize.req_new = 1;
    return NST_OK;
}

int nst_engine_set_network_scale(NstEngine *e, float scale)
{
    if (!e)
        return NST_ERR_INVALID;
    if (!(scale > 0.0f && scale <= 1.0f)) {
        nst_log(&e->log, NST_LOG_ERROR, "network scale %g is outside (0, 1]", scale);
        return NST_ERR_INVALID;
    }
    e->path.resize.req_w = e->path.resize.req_h = 0;
    e->path.resize.req_scale = scale;
    e->path.resize.req_new = 1;
    return NST_OK;
}

int nst_engine_set_tiling(NstEngine *e, int rows)
{
    if (!e)
        return NST_ERR_INVALID;
    if (rows < -1 || rows > 32768) {
        nst_log(&e->log, NST_LOG_ERROR, "tiling %d: give -1 (never), 0 (where needed) "
                "or rows of a band, 1..32768", rows);
        return NST_ERR_INVALID;
    }
    e->net.tile_req = rows;
    return NST_OK;
}

int nst_engine_set_preserve_color(NstEngine *e, int enable)
{
    if (!e)
        return NST_ERR_INVALID;
    e->path.preserve_color = !!enable;
    return NST_OK;
}

int nst_engine_set_temporal(NstEngine *e, float temporal)
{
    if (!e)
        return NST_ERR_INVALID;
    if (!(temporal >= 0.0f && temporal <= 1.0f)) {
        nst_log(&e->log, NST_LOG_ERROR, "temporal %g is outside 0..1", temporal);
        return NST_ERR_INVALID;
    }
    /* off forgets: frames styled meanwhile are not in the state */
    if (temporal == 0.0f)
        e->temporal.valid = 0;
    e->temporal.strength = temporal;
    return NST_OK;
}

int nst_engine_set_temporal_mechanisms(NstEngine *e, unsigned mechanisms)
{
    if (!e)
        return NST_ERR_INVALID;
    if (!mechanisms || (mechanisms & ~(unsigned)NST_TEMPORAL_ALL)) {
        nst_log(&e->log, NST_LOG_ERROR, "temporal mechanisms 0x%x: give a nonzero "
                "set of NST_TEMPORAL_WARP, _NORM and _INPUT", mechanisms);
        return NST_ERR_INVALID;
    }
    if (mechanisms != e->temporal.mechanisms)
        e->temporal.valid = 0; /* a state kept by other mechanisms is incomplete */
    e->temporal.mechanisms = mechanisms;
    return NST_OK;
}

void nst_engine_reset(NstEngine *e)
{
    if (e)
        e->temporal.valid = 0;
}

const char *nst_engine_device_name(const NstEngine *e)
{
    return e ? e->vk.props.deviceName : "";
}

int nst_engine_set_profiling(NstEngine *e, int enable)
{
    if (!e)
        return NST_ERR_INVALID;
    /* the query pool may be in use by frames on the device */
    nst_async_idle(&e->async, &e->path, &e->temporal);
    return nst_profiler_enable(&e->gpu.prof, &e->vk, enable);
}

int nst_engine_profile(const NstEngine *e, NstProfileEntry *entries, int max)
{
    const NstProfiler *p = e ? &e->gpu.prof : NULL;

    if (!p || max < 0 || (max && !entries))
        return NST_ERR_INVALID;
    if (!p->enabled)
        return 0;
    if (max && p->n_last)
        memcpy(entries, p->last, (size_t)(max < p->n_last ? max : p->n_last) * sizeof(*entries));
    return p->n_last;
}

void nst_engine_memory(const NstEngine *e, uint64_t *current, uint64_t *peak)
{
    if (current)
        *current = e ? e->vk.allocated : 0;
    if (peak)
        *peak = e ? e->vk.peak : 0;
}

int nst_engine_precision(const NstEngine *e)
{
    if (!e || !e->fp16)
        return NST_PRECISION_FP32;
    return e->fp16_arith ? NST_PRECISION_FP16_ARITH : NST_PRECISION_FP16;
}

unsigned nst_engine_validation_messages(const NstEngine *e)
{
    return e ? e->vk.validation_messages : 0;
}

void nst_engine_free(NstEngine **pe)
{
    NstEngine *e = pe ? *pe : NULL;

    if (!e)
        return;
    /* Nothing may be freed while the device uses it, even after a frame
     * given up on for a timeout: a device truly hung is for the driver to
     * reset, which ends this wait with VK_ERROR_DEVICE_LOST. */
    nst_vk_idle(&e->vk);
    nst_async_free(&e->async, &e->vk);
    nst_temporal_free(&e->temporal, &e->vk);
    nst_path_free(&e->path);
    nst_net_free(&e->net);
    nst_dispatch_free(&e->gpu);
    nst_pipelines_free(&e->pipes);
    nst_vk_destroy(&e->vk);
    free(e);
    *pe = NULL;
}

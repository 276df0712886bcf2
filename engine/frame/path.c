/* One frame's work in order: pixels in, temporal in, resize down, the
 * network, resize up, temporal out, pixels out. */
#include <string.h>

#include "frame/path.h"

int nst_path_init(NstPath *p, NstDispatch *gpu, NstNet *net)
{
    int r;

    memset(p, 0, sizeof(*p));
    p->gpu = gpu;
    p->net = net;
    /* it writes the network's input, in the activations' format */
    if ((r = nst_pipeline_get(gpu->pipes, net->fp16 ? "pix_to_tensor.f16" : "pix_to_tensor",
                              NULL, 0)) < 0)
        return r;
    p->pipe_pix_in = r;
    if ((r = nst_pipeline_get(gpu->pipes, "tensor_to_pix", NULL, 0)) < 0)
        return r;
    p->pipe_pix_out = r;
    return nst_resize_init(&p->resize, gpu->pipes, net->fp16);
}

static void free_plan(NstPath *p)
{
    NstVk *vk = p->gpu->vk;

    if (p->pool)
        vkDestroyDescriptorPool(vk->device, p->pool, NULL);
    nst_vk_buffer_destroy(vk, &p->staging);
    nst_resize_free(&p->resize, vk);
    p->pool = VK_NULL_HANDLE;
    p->width = p->height = 0;
}

void nst_path_free(NstPath *p)
{
    if (p->gpu)
        free_plan(p);
    memset(p, 0, sizeof(*p));
}

/* The styled tensor at the frame's size (the network's output, or its
 * upsampling), *width texels wide, and the transform to pixel values it
 * still needs. */
static const NstLayer *styled(const NstPath *p, const NstBuffer **buf, int *width)
{
    if (p->resize.active) {
        *buf = &p->resize.out;
        *width = p->width;
        return &p->resize.identity;
    }
    *buf = nst_net_output(p->net, width);
    return &p->net->output;
}

/* The frame's input tensor: the network's own at the frame's size, else
 * one the network's plan holds beside its own. */
static const NstBuffer *frame_tensor(const NstPath *p)
{
    return p->resize.active ? nst_net_side(p->net) : nst_net_input(p->net);
}

static int step(NstPath *p, NstStep *s, int pipeline, NstBinds b, uint32_t gx, uint32_t gy)
{
    return nst_dispatch_step(p->gpu, p->pool, s, pipeline, b, NULL, 0, gx, gy, 1, -1);
}

static int plan(NstPath *p, NstPixelFormat format, int width, int height, int in_w, int in_h)
{
    NstVk *vk = p->gpu->vk;
    NstNet *net = p->net;
    const NstBuffer *out;
    int out_w, ret;

    p->width = width;
    p->height = height;
    p->resize.active = in_w != width || in_h != height;
    p->gpu->width = width;
    p->gpu->height = height;
    if ((ret = nst_frame_layout(format, width, height, &p->frame)) < 0) {
        nst_log(vk->log, NST_LOG_ERROR, "unsupported frame %dx%d", width, height);
        return ret;
    }
    if ((ret = nst_net_plan(net, in_w, in_h, p->resize.active
                            ? (VkDeviceSize)width * height : 0)) < 0)
        return ret;
    p->net_plan_id = net->plan_id;
    /* a frame's work grows with its area: so does the time it may take
     * on a slow device (lavapipe on two cores: about 45 s at 3840x2160) */
    vk->timeout_s = NST_VK_TIMEOUT_S * (unsigned)(1 + (uint64_t)width * height / (1920 * 1080));
    if (p->frame.size > vk->props.limits.maxStorageBufferRange) {
        nst_log(vk->log, NST_LOG_ERROR, "a %dx%d frame (%zu bytes) exceeds the "
                "device's storage buffer range", width, height, p->frame.size);
        return NST_ERR_LIMITS;
    }
    if ((ret = nst_vk_buffer_create(vk, &p->staging, p->frame.size,
                                    (p->image_frames ? 0 : NST_BUF_HOST) |
                                    NST_BUF_STORAGE | NST_BUF_COPY)) < 0 ||
        (ret = nst_dispatch_pool(p->gpu, 1 + p->frame.n_planes + NST_RESIZE_STEPS,
                                 &p->pool)) < 0)
        return ret;
    p->staging_images = p->image_frames;

    /* frame -> input tensor; constants are set per frame */
    NstBinds in = { NULL, NULL, frame_tensor(p), &p->staging, NULL };
    if ((ret = step(p, &p->pix_in, p->pipe_pix_in, in, nst_groups(width, 8),
                    nst_groups(height, 8))) < 0)
        return ret;
    if (p->resize.active) {
        NstResizeIo io = { frame_tensor(p), nst_net_input(net), NULL, width, height, in_w, in_h,
                           0, &net->output, net->input_min, net->input_max };
        io.styled = nst_net_output(net, &io.out_w);
        if ((ret = nst_resize_plan(&p->resize, p->gpu, p->pool, &io)) < 0)
            return ret;
    }
    styled(p, &out, &out_w);
    NstBinds pix = { out, NULL, NULL, &p->staging, NULL };
    for (int k = 0; k < p->frame.n_planes; k++)
        if ((ret = step(p, &p->pix_out[k], p->pipe_pix_out, pix,
                        nst_groups((int)nst_groups(p->frame.row_bytes[k], 4), 8),
                        nst_groups(p->frame.rows[k], 8))) < 0)
            return ret;
    return NST_OK;
}

static int planned(const NstPath *p, NstPixelFormat format, int width, int height,
                   int in_w, int in_h)
{
    VkDeviceSize side = in_w != width || in_h != height ? (VkDeviceSize)width * height : 0;

    return p->width == width && p->height == height && p->frame.format == format &&
           nst_net_planned(p->net, in_w, in_h, side) &&
           p->net_plan_id == p->net->plan_id && p->staging_images == p->image_frames;
}

int nst_path_planned_for(const NstPath *p, NstPixelFormat format, int width, int height)
{
    int in_w, in_h;

    nst_resize_net_size(&p->resize, width, height, &in_w, &in_h);
    return planned(p, format, width, height, in_w, in_h);
}

int nst_path_prepare(NstPath *p, NstPixelFormat format, int width, int height)
{
    NstResize *r = &p->resize;
    int in_w, in_h, clamped = nst_resize_net_size(r, width, height, &in_w, &in_h);
    int again = !planned(p, format, width, height, in_w, in_h), ret;

    if (clamped && (again || r->req_new))
        nst_log(p->gpu->vk->log, NST_LOG_WARNING, "network size %dx%d is larger than "
                "the %dx%d frame: the network runs at %dx%d", r->req_w, r->req_h, width,
                height, in_w, in_h);
    r->req_new = 0;
    if (!again)
        return NST_OK;
    free_plan(p);
    if ((ret = plan(p, format, width, height, in_w, in_h)) < 0) {
        /* and the network's, made for it: a failed plan holds no memory */
        free_plan(p);
        nst_net_free_plan(p->net);
        return ret;
    }
    /* what was made for the last plan (frame/temporal.c) must be remade */
    if (!++p->plan_id)
        p->plan_id = 1;
    nst_log(p->gpu->vk->log, NST_LOG_DEBUG, "planned %dx%d, network at %dx%d: %d steps, "
            "%d buffers", width, height, in_w, in_h,
            p->net->n_steps + 1 + p->frame.n_planes + (r->active ? NST_RESIZE_STEPS : 0),
            p->net->n_buffers);
    return NST_OK;
}

static void temporal_io(const NstPath *p, NstTemporalIo *io)
{
    memset(io, 0, sizeof(*io));
    io->plan_id = p->plan_id;
    io->layout = &p->frame;
    io->input = frame_tensor(p);
    io->transform = styled(p, &io->styled, &io->styled_w);
    io->gate = &p->net->factors;
    io->gate_texel = p->net->norm_gate;
    io->staging = &p->staging;
    io->pix_out = p->pipe_pix_out;
    io->input_bgr = p->net->input_bgr;
    io->input_min = p->net->input_min;
    io->input_max = p->net->input_max;
    io->preserve = p->preserve_color;
}

int nst_path_setup(NstPath *p, const NstFrame *f, float strength, NstTemporal *t)
{
    const NstLayer *transform;
    const NstBuffer *out;
    NstTemporalIo io;
    NstPixInPush in;
    int out_w, ret;

    if ((ret = nst_path_prepare(p, f->format, f->width, f->height)) < 0 ||
        (ret = nst_net_check_output(p->net)) < 0)
        return ret;
    temporal_io(p, &io);
    if (t && (ret = nst_temporal_prepare(t, p->gpu, &io)) < 0)
        return ret;
    nst_frame_push_in(&p->frame, f, p->net->input_bgr, p->net->input_min,
                      p->net->input_max, &in);
    memcpy(p->pix_in.push, &in, sizeof(in));
    transform = styled(p, &out, &out_w);
    for (int k = 0; k < p->frame.n_planes; k++) {
        NstPixOutPush o;
        nst_frame_push_out(&p->frame, f, transform, p->net->input_bgr, k, out_w, strength,
                           p->preserve_color, &o);
        memcpy(p->pix_out[k].push, &o, sizeof(o));
    }
    return NST_OK;
}

void nst_path_record(NstPath *p, const NstFrame *f, float strength, NstTemporal *t)
{
    NstDispatch *d = p->gpu;

    nst_profiler_start(&d->prof, d->vk);
    nst_net_close_gate(p->net);
    nst_dispatch_record(d, &p->pix_in);
    if (t) {
        NstTemporalIo io;
        temporal_io(p, &io);
        nst_temporal_record_input(t, d, &io);
    }
    if (p->resize.active)
        nst_resize_record_down(&p->resize, d);
    nst_net_record(p->net);
    if (p->resize.active)
        nst_resize_record_up(&p->resize, d);
    if (t && (t->mechanisms & NST_TEMPORAL_WARP)) {
        NstTemporalIo io;
        temporal_io(p, &io);
        nst_temporal_record_output(t, d, &io, f, strength);
    } else { /* the per-frame output; the previous output is not needed */
        for (int k = 0; k < p->frame.n_planes; k++)
            nst_dispatch_record(d, &p->pix_out[k]);
    }
    if (t)
        nst_temporal_record_end(t, d);
}

int nst_path_process(NstPath *p, NstFrame *f, float strength, NstTemporal *t)
{
    NstVk *vk = p->gpu->vk;
    int ret;

    p->image_frames = 0;
    if ((ret = nst_path_setup(p, f, strength, t)) < 0)
        return ret;
    nst_frame_pack(&p->frame, f, p->staging.mapped);
    if ((ret = nst_vk_begin(vk)) < 0)
        return ret;
    nst_path_record(p, f, strength, t);
    if ((ret = nst_vk_submit_wait_frame(vk)) < 0) {
        p->gpu->prof.active = 0;
        if (t)
            t->valid = 0; /* the state is half-updated at best */
        return ret;
    }
    if (t)
        nst_temporal_done(t, vk);
    nst_frame_unpack(&p->frame, p->staging.mapped, f);
    return nst_dispatch_profile_done(p->gpu);
}

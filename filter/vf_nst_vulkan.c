/*
 * Copyright (c) 2025 the nst authors
 *
 * This file is part of FFmpeg.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * FFmpeg is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * You should have received a copy of the GNU Lesser General Public
 * License along with FFmpeg; if not, write to the Free Software
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301 USA
 */

/**
 * @file
 * The nst filter's Vulkan frames (AV_PIX_FMT_VULKAN): restyled on FFmpeg's
 * own Vulkan device, the engine made on it, each AVVkFrame handed to libnst
 * under its lock and given back where libnst left its images. In a file of
 * its own as it is FFmpeg's Vulkan API, which the rest of the filter does
 * not touch; where FFmpeg has no Vulkan frames (NST_VULKAN_FRAMES, vf_nst.h)
 * this file compiles to nothing.
 */

#include <string.h>

#include "vf_nst.h"

#if NST_VULKAN_FRAMES
#include "libavutil/buffer.h"
#include "libavutil/frame.h"
#include "libavutil/log.h"
#include "libavutil/pixdesc.h"
#include "filters.h"

/* libnst takes FFmpeg's queue locks around each use of the queue. FFmpeg 9
 * deprecates them for VK_KHR_internally_synchronized_queues, and drops
 * them at lavu 62: without them the driver keeps the queue safe itself. */
#if !defined(FF_API_VULKAN_SYNC_QUEUES) || FF_API_VULKAN_SYNC_QUEUES
#define NST_QUEUE_LOCKS 1
static void vk_lock_queue(void *opaque, uint32_t family, uint32_t index)
{
    AVHWDeviceContext *dev = opaque;
    AVVulkanDeviceContext *hwctx = dev->hwctx;
FF_DISABLE_DEPRECATION_WARNINGS
    hwctx->lock_queue(dev, family, index);
FF_ENABLE_DEPRECATION_WARNINGS
}

static void vk_unlock_queue(void *opaque, uint32_t family, uint32_t index)
{
    AVHWDeviceContext *dev = opaque;
    AVVulkanDeviceContext *hwctx = dev->hwctx;
FF_DISABLE_DEPRECATION_WARNINGS
    hwctx->unlock_queue(dev, family, index);
FF_ENABLE_DEPRECATION_WARNINGS
}
#else
#define NST_QUEUE_LOCKS 0
#endif

/* An engine on the device of the Vulkan frames, on its first queue
 * family with compute. */
int ff_nst_create_vulkan_engine(AVFilterContext *ctx, const NstModel *model,
                                const NstEngineOptions *opts, NstEngine **engine)
{
    NstContext *s = ctx->priv;
    AVHWFramesContext *frames = (AVHWFramesContext *)s->hw_frames->data;
    AVHWDeviceContext *dev = frames->device_ctx;
    AVVulkanDeviceContext *hwctx = dev->hwctx;
    NstVulkanDevice nd = {
        .instance        = hwctx->inst,
        .physical_device = hwctx->phys_dev,
        .device          = hwctx->act_dev,
        .features        = &hwctx->device_features,
#if NST_QUEUE_LOCKS
        .lock_queue      = vk_lock_queue,
        .unlock_queue    = vk_unlock_queue,
#endif
        .opaque          = dev,
    };
    int i;

    for (i = 0; i < hwctx->nb_qf; i++)
        if ((hwctx->qf[i].flags & VK_QUEUE_COMPUTE_BIT) && hwctx->qf[i].num > 0)
            break;
    if (i == hwctx->nb_qf) {
        av_log(ctx, AV_LOG_ERROR, "The Vulkan device has no compute queue in use.\n");
        return NST_ERR_DEVICE;
    }
    nd.queue_family = hwctx->qf[i].idx;
    return nst_engine_create_on_device(model, opts, &nd, engine);
}

/* Vulkan frames: what the engine can read, on the frames' own device. */
int ff_nst_config_vulkan(AVFilterContext *ctx, AVFilterLink *inlink)
{
    NstContext *s = ctx->priv;
    FilterLink *l = ff_filter_link(inlink);
    AVHWFramesContext *frames;
    AVVulkanFramesContext *vkfc;

    if (!l->hw_frames_ctx) {
        av_log(ctx, AV_LOG_ERROR, "Vulkan frames without a hardware frames context.\n");
        return AVERROR(EINVAL);
    }
    frames = (AVHWFramesContext *)l->hw_frames_ctx->data;
    vkfc = frames->hwctx;
    if (ff_nst_pix_fmt(frames->sw_format) == NST_PIX_NB ||
        frames->sw_format == AV_PIX_FMT_RGB24) {
        av_log(ctx, AV_LOG_ERROR, "Vulkan frames of %s cannot be restyled: upload "
               "yuv420p, nv12, yuv444p, rgba or bgra (format=...,hwupload).\n",
               av_get_pix_fmt_name(frames->sw_format));
        return AVERROR(ENOSYS);
    }
    if (vkfc->nb_layers > 1) {
        av_log(ctx, AV_LOG_ERROR, "Vulkan frames of %d layers cannot be restyled.\n",
               vkfc->nb_layers);
        return AVERROR(ENOSYS);
    }
    if (s->engine && s->hw_frames && s->hw_frames->data != l->hw_frames_ctx->data) {
        AVHWFramesContext *old = (AVHWFramesContext *)s->hw_frames->data;
        if (old->device_ctx != frames->device_ctx) {
            av_log(ctx, AV_LOG_ERROR, "The Vulkan frames' device changed.\n");
            return AVERROR(EINVAL);
        }
    }
    av_buffer_unref(&s->hw_frames);
    if (!(s->hw_frames = av_buffer_ref(l->hw_frames_ctx)))
        return AVERROR(ENOMEM);
    return 0;
}

/* An AVVkFrame as libnst sees it (the caller holds its lock). */
static void vk_frame_in(const AVFrame *frame, NstVulkanFrame *f)
{
    AVHWFramesContext *frames = (AVHWFramesContext *)frame->hw_frames_ctx->data;
    AVVulkanFramesContext *vkfc = frames->hwctx;
    const AVVkFrame *vkf = (const AVVkFrame *)frame->data[0];

    memset(f, 0, sizeof(*f));
    f->format = ff_nst_pix_fmt(frames->sw_format);
    f->width  = frame->width;
    f->height = frame->height;
    f->matrix = ff_nst_matrix(frame->colorspace);
    f->range  = frame->color_range == AVCOL_RANGE_JPEG ? NST_RANGE_FULL
                                                       : NST_RANGE_LIMITED;
    /* format[] lists the images: one multi-planar, or one per plane */
    for (int i = 0; i < AV_NUM_DATA_POINTERS && vkfc->format[i] != VK_FORMAT_UNDEFINED; i++) {
        if (i == FF_ARRAY_ELEMS(f->image)) {
            f->n_images = 0; /* more images than any format has: refused */
            return;
        }
        f->image[i]        = vkf->img[i];
        f->vk_format[i]    = vkfc->format[i];
        f->layout[i]       = vkf->layout[i];
        f->access[i]       = vkf->access[i];
        f->queue_family[i] = vkf->queue_family[i];
        f->sem[i]          = vkf->sem[i];
        f->sem_value[i]    = vkf->sem_value[i];
        f->n_images++;
    }
}

/* Where libnst left the images, for the frame's next user. */
static void vk_frame_out(const NstVulkanFrame *f, AVVkFrame *vkf)
{
    for (int i = 0; i < f->n_images; i++) {
        vkf->layout[i]       = f->layout[i];
        vkf->access[i]       = f->access[i];
        vkf->queue_family[i] = f->queue_family[i];
        vkf->sem_value[i]    = f->sem_value[i];
    }
}

/* Restyles a Vulkan frame on the device, in place when it is writable,
 * else into a new frame of its pool, which replaces it in *frame. */
int ff_nst_process_vulkan(AVFilterContext *ctx, AVFrame **frame, float strength)
{
    NstContext *s = ctx->priv;
    AVFrame *in = *frame, *out = in;
    AVHWFramesContext *frames = (AVHWFramesContext *)in->hw_frames_ctx->data;
    AVHWFramesContext *ours = (AVHWFramesContext *)s->hw_frames->data;
    AVVulkanFramesContext *vkfc = frames->hwctx;
    AVVkFrame *src, *dst;
    NstVulkanFrame nin, nout;
    int ret;

    if (frames->device_ctx != ours->device_ctx) {
        av_log(ctx, AV_LOG_ERROR, "A Vulkan frame of another device than the link's.\n");
        return AVERROR(EINVAL);
    }
    if (!av_frame_is_writable(in)) {
        if (!(out = av_frame_alloc()))
            return AVERROR(ENOMEM);
        if ((ret = av_hwframe_get_buffer(in->hw_frames_ctx, out, 0)) < 0 ||
            (ret = av_frame_copy_props(out, in)) < 0) {
            av_frame_free(&out);
            return ret;
        }
        out->width  = in->width;
        out->height = in->height;
    }
    src = (AVVkFrame *)in->data[0];
    dst = (AVVkFrame *)out->data[0];
    vkfc->lock_frame(frames, src);
    if (dst != src)
        vkfc->lock_frame(frames, dst);
    vk_frame_in(in, &nin);
    vk_frame_in(out, &nout);
    ret = nst_engine_process_vulkan(s->engine, &nin, out == in ? &nin : &nout, strength);
    vk_frame_out(&nin, src);
    if (dst != src) {
        vk_frame_out(&nout, dst);
        vkfc->unlock_frame(frames, dst);
    }
    vkfc->unlock_frame(frames, src);
    if (ret < 0) {
        ret = ff_nst_frame_error(ctx, in, ret);
        if (out != in)
            av_frame_free(&out);
        return ret;
    }
    if (out != in) {
        av_frame_free(frame);
        *frame = out;
    }
    return 0;
}
#endif /* NST_VULKAN_FRAMES */

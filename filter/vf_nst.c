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
 * Neural style transfer through libnst: every frame is restyled in place by
 * a feed-forward style network that libnst runs as Vulkan compute shaders.
 * The filter itself translates between FFmpeg's frames and libnst's, and
 * decides when each goes to the engine.
 *
 * This file is the filter: its options, the frames in memory on their way
 * through the engine, and the errors that end the stream. What runs beside
 * that path has a file of its own, one a job: vf_nst_swap.c, the thread
 * that loads the command model; vf_nst_realtime.c, realtime=1's worker
 * thread; vf_nst_vulkan.c, Vulkan frames on FFmpeg's own device. vf_nst.h
 * holds the context they share.
 *
 * With pipeline=1 frames are pipelined: each frame is submitted to the
 * engine, which starts it on the device and returns, and the filter
 * outputs the frame before it meanwhile; so the device restyles one frame
 * while the rest of the graph decodes the next and encodes the last. That
 * costs one frame of latency: a frame comes out when the next one comes
 * in, or at the end of the stream. It is off by default: the ffmpeg tool
 * rebuilds the filter graph, without draining it, when the frame size or
 * pixel format changes mid-stream, and the frame held then would be lost;
 * and on a CPU device there is nothing to gain (docs/performance.md).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "libavutil/dict.h"
#include "libavutil/eval.h"
#include "libavutil/mem.h"
#include "libavutil/opt.h"
#include "libavutil/parseutils.h"
#include "libavutil/pixdesc.h"
#include "avfilter.h"
#include "filters.h"
#include "version.h"
/* internal.h was folded into filters.h during the 7.1 cycle (lavfi 10.4). */
#if LIBAVFILTER_VERSION_INT < AV_VERSION_INT(10, 4, 100)
#include "internal.h"
#endif
#include "video.h"
#include "vf_nst.h"

#define OFFSET(x) offsetof(NstContext, x)
#define FLAGS  AV_OPT_FLAG_FILTERING_PARAM | AV_OPT_FLAG_VIDEO_PARAM
#define TFLAGS AV_OPT_FLAG_FILTERING_PARAM | AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_RUNTIME_PARAM

/* model comes first so that the shorthand nst=style.bin sets it. */
static const AVOption nst_options[] = {
    { "model",    "path to the style model (style.bin); the command model loads another",
      OFFSET(model_path), AV_OPT_TYPE_STRING, { .str = NULL }, 0,   0, FLAGS  },
    { "strength", "blend between the input (0) and the styled frame (1)",
      OFFSET(strength),   AV_OPT_TYPE_FLOAT,  { .dbl = 1.0  }, 0.0, 1.0, TFLAGS },
    { "temporal", "weight of the previous frame in the temporal smoothing (0: off, per-frame)",
      OFFSET(temporal),   AV_OPT_TYPE_FLOAT,  { .dbl = 0.5  }, 0.0, 1.0, TFLAGS },
    { "smooth",   "mechanisms of the temporal smoothing",
      OFFSET(smooth),     AV_OPT_TYPE_FLAGS,  { .i64 = NST_TEMPORAL_ALL }, 0, NST_TEMPORAL_ALL,
      TFLAGS, .unit = "smooth" },
        { "warp", "blend with the previous output along the motion",
          0, AV_OPT_TYPE_CONST, { .i64 = NST_TEMPORAL_WARP }, 0, 0, TFLAGS, .unit = "smooth" },
        { "norm", "smooth the instance-norm statistics",
          0, AV_OPT_TYPE_CONST, { .i64 = NST_TEMPORAL_NORM }, 0, 0, TFLAGS, .unit = "smooth" },
        { "input", "hold the network's input still where it changed only by noise",
          0, AV_OPT_TYPE_CONST, { .i64 = NST_TEMPORAL_INPUT }, 0, 0, TFLAGS, .unit = "smooth" },
    { "device",   "Vulkan device: index or part of its name (empty: automatic)",
      OFFSET(device),     AV_OPT_TYPE_STRING, { .str = NULL }, 0,   0, FLAGS  },
    { "precision", "storage of the tensors between layers, and the convolutions' multiplies",
      OFFSET(precision),  AV_OPT_TYPE_INT,    { .i64 = NST_PRECISION_AUTO }, NST_PRECISION_AUTO,
      NST_PRECISION_FP16_ARITH, FLAGS, .unit = "precision" },
        { "auto", "fp16 (and fp16 multiplies) on a GPU that has it, fp32 on a CPU device",
          0, AV_OPT_TYPE_CONST, { .i64 = NST_PRECISION_AUTO }, 0, 0, FLAGS, .unit = "precision" },
        { "fp32", "32-bit floats",
          0, AV_OPT_TYPE_CONST, { .i64 = NST_PRECISION_FP32 }, 0, 0, FLAGS, .unit = "precision" },
        { "fp16", "16-bit tensors: half the memory; fp32 arithmetic",
          0, AV_OPT_TYPE_CONST, { .i64 = NST_PRECISION_FP16 }, 0, 0, FLAGS, .unit = "precision" },
        { "fp16a", "16-bit tensors, and multiplies in fp16 with fp32 accumulation",
          0, AV_OPT_TYPE_CONST, { .i64 = NST_PRECISION_FP16_ARITH }, 0, 0, FLAGS, .unit = "precision" },
    { "size",     "run the network at WxH, or at a scale (0..1] of the frame's size (empty: the frame's)",
      OFFSET(size),       AV_OPT_TYPE_STRING, { .str = NULL }, 0,   0, TFLAGS },
    { "preserve_color", "keep the input's colours, take only the styled luminance",
      OFFSET(preserve_color), AV_OPT_TYPE_BOOL, { .i64 = 0 }, 0,   1, TFLAGS },
    { "pipeline", "restyle a frame on the device while the next one is decoded (one frame of latency)",
      OFFSET(pipeline),   AV_OPT_TYPE_BOOL,   { .i64 = 0    }, 0,   1, FLAGS  },
    { "realtime", "never hold a live stream up: lower the network's size, or reuse the last styled frame",
      OFFSET(realtime),   AV_OPT_TYPE_BOOL,   { .i64 = 0    }, 0,   1, FLAGS  },
    { NULL }
};

AVFILTER_DEFINE_CLASS(nst);

static int nst_to_averror(int err)
{
    switch (err) {
    case NST_ERR_INVALID:     return AVERROR(EINVAL);
    case NST_ERR_IO:          return AVERROR(EIO);
    case NST_ERR_FORMAT:      return AVERROR_INVALIDDATA;
    case NST_ERR_UNSUPPORTED: return AVERROR(ENOSYS);
    case NST_ERR_NOMEM:       return AVERROR(ENOMEM);
    case NST_ERR_LIMITS:      return AVERROR(ERANGE);
    case NST_ERR_DEVICE:
    default:                  return AVERROR_EXTERNAL;
    }
}

/* libnst reports through this callback, one line per call. Its info
 * messages (device selection, pipeline set-up) are what FFmpeg libraries
 * log at verbose level, so that a plain ffmpeg run stays quiet. */
static void nst_log(void *opaque, int level, const char *msg)
{
    int av_level;

    switch (level) {
    case NST_LOG_ERROR:   av_level = AV_LOG_ERROR;   break;
    case NST_LOG_WARNING: av_level = AV_LOG_WARNING; break;
    case NST_LOG_INFO:    av_level = AV_LOG_VERBOSE; break;
    default:              av_level = AV_LOG_DEBUG;   break;
    }
    av_log(opaque, av_level, "%s\n", msg);
}

/* The size option: empty (the frame's size), WxH or a size name such as
 * hd720, or a scale of the frame's size in (0, 1]. */
static int parse_size(AVFilterContext *ctx, const char *str, int *w, int *h, float *scale)
{
    char *end;
    double v;

    *w = *h = 0;
    *scale = 0.0f;
    if (!str || !*str || av_parse_video_size(w, h, str) >= 0)
        return 0;
    *w = *h = 0;
    v = av_strtod(str, &end);
    if (end != str && !*end && v > 0.0 && v <= 1.0) {
        *scale = (float)v;
        return 0;
    }
    av_log(ctx, AV_LOG_ERROR, "Invalid size '%s': give WxH (640x360), a size name "
           "(hd720) or a scale of the frame's size in (0, 1] (0.5).\n", str);
    return AVERROR(EINVAL);
}

int ff_nst_apply_size(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;
    int ret = s->net_scale > 0.0f
              ? nst_engine_set_network_scale(s->engine, s->net_scale)
              : nst_engine_set_network_size(s->engine, s->net_w, s->net_h);

    if (ret < 0)
        av_log(ctx, AV_LOG_ERROR, "Cannot run the network at size '%s': %s\n",
               s->size, nst_strerror(ret));
    return ret < 0 ? nst_to_averror(ret) : 0;
}

int ff_nst_load_model(AVFilterContext *ctx, const char *path, NstModel **model)
{
    char err[256] = "";
    int ret = nst_model_load_file(path, model, err, sizeof(err));

    if (ret >= 0)
        return 0;
    /* The loader's message names the file and the offending field. */
    if (*err)
        av_log(ctx, AV_LOG_ERROR, "Cannot load the model: %s\n", err);
    else
        av_log(ctx, AV_LOG_ERROR, "Cannot load the model '%s': %s\n", path,
               nst_strerror(ret));
    if (ret == NST_ERR_IO) {
        /* Say why the file cannot be read (ENOENT, EACCES, ...): open it
         * the way the loader does and report that errno. */
        FILE *f = fopen(path, "rb");
        if (!f)
            return AVERROR(errno);
        fclose(f);
    }
    return nst_to_averror(ret);
}

/* An engine for model on the device and precision of the options, or on
 * the Vulkan frames' device. */
int ff_nst_create_engine(AVFilterContext *ctx, const NstModel *model, const char *path,
                         NstEngine **engine)
{
    NstContext *s = ctx->priv;
    NstEngineOptions opts = {
        .device     = s->device,
        .log        = nst_log,
        .log_opaque = ctx,
        .precision  = s->precision,
    };
    const char *name = nst_model_meta(model, "name");
    int ret, prec;

    /* On failure libnst has logged the details (which device, which call). */
#if NST_VULKAN_FRAMES
    if (s->hw_frames)
        ret = ff_nst_create_vulkan_engine(ctx, model, &opts, engine);
    else
#endif
    ret = nst_engine_create(model, &opts, engine);
    if (ret < 0) {
        av_log(ctx, AV_LOG_ERROR, "Cannot create the engine: %s\n", nst_strerror(ret));
        return nst_to_averror(ret);
    }
    prec = nst_engine_precision(*engine);
    av_log(ctx, AV_LOG_INFO, "Style '%s' on Vulkan device '%s', %s\n",
           name ? name : path, nst_engine_device_name(*engine),
           prec == NST_PRECISION_FP16_ARITH ? "fp16 tensors, fp16 multiplies" :
           prec == NST_PRECISION_FP16 ? "fp16 tensors" : "fp32 tensors");
    return 0;
}

/* Loads and checks the model, so that a bad file or option fails at once.
 * The engine is created later, in config_input(): ffmpeg may initialize a
 * filter graph only to inspect it, and creating an engine (weights upload,
 * pipeline compilation) is the expensive part. */
static av_cold int init(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;
    int ret;

    s->last_pts = AV_NOPTS_VALUE;
    if (!s->model_path || !*s->model_path) {
        av_log(ctx, AV_LOG_ERROR,
               "No model given: use nst=model=STYLE.bin or nst=STYLE.bin.\n");
        return AVERROR(EINVAL);
    }
    if ((ret = parse_size(ctx, s->size, &s->net_w, &s->net_h, &s->net_scale)) < 0)
        return ret;

    return ff_nst_load_model(ctx, s->model_path, &s->model);
}

static av_cold void uninit(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;
    unsigned n;

    ff_nst_rt_stop(ctx); /* first: its thread may be using the engine */
    nst_model_free(&s->model);
    if (s->swap_running)
        ff_nst_join_swap(s); /* a swap under way: it may take seconds to give up */
    nst_engine_free(&s->swap_engine);
    av_freep(&s->swap_path);
    if (s->engine) {
        uint64_t held, peak;
        nst_engine_memory(s->engine, &held, &peak);
        av_log(ctx, AV_LOG_VERBOSE, "Device memory at the end: %"PRIu64" bytes held, "
               "%"PRIu64" at most\n", held, peak);
        /* Each message was already logged as it came; the count makes a run
         * with validation enabled easy to judge at a glance. */
        n = nst_engine_validation_messages(s->engine);
        if (n)
            av_log(ctx, AV_LOG_ERROR, "%u Vulkan validation message(s)\n", n);
        /* first: it drops the frames still held, and waits for the device */
        nst_engine_free(&s->engine);
    }
    /* frames held when the graph stopped early (an error, the output closed) */
    for (int i = 0; i < s->nb_held; i++)
        av_frame_free(&s->held[(s->held_first + i) % NST_ENGINE_DEPTH].frame);
    s->nb_held = 0;
    /* after the engines: they run on its device */
    av_buffer_unref(&s->hw_frames);
}

static const enum AVPixelFormat pix_fmts[] = {
    AV_PIX_FMT_RGB24, AV_PIX_FMT_RGBA, AV_PIX_FMT_BGRA,
    AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV444P, AV_PIX_FMT_NV12,
#if NST_VULKAN_FRAMES
    AV_PIX_FMT_VULKAN,
#endif
    AV_PIX_FMT_NONE
};

NstPixelFormat ff_nst_pix_fmt(enum AVPixelFormat fmt)
{
    switch (fmt) {
    case AV_PIX_FMT_RGB24:   return NST_PIX_RGB24;
    case AV_PIX_FMT_RGBA:    return NST_PIX_RGBA;
    case AV_PIX_FMT_BGRA:    return NST_PIX_BGRA;
    case AV_PIX_FMT_YUV420P: return NST_PIX_YUV420P;
    case AV_PIX_FMT_YUV444P: return NST_PIX_YUV444P;
    case AV_PIX_FMT_NV12:    return NST_PIX_NV12;
    default:                 return NST_PIX_NB; /* not negotiated */
    }
}

/* Untagged video is treated as BT.601, as swscale does. */
NstColorMatrix ff_nst_matrix(enum AVColorSpace csp)
{
    switch (csp) {
    case AVCOL_SPC_BT709:      return NST_MATRIX_BT709;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:  return NST_MATRIX_BT2020;
    default:                   return NST_MATRIX_BT601;
    }
}

void ff_nst_fill_frame(NstFrame *f, const AVFrame *frame)
{
    memset(f, 0, sizeof(*f));
    f->format = ff_nst_pix_fmt(frame->format);
    f->width  = frame->width;
    f->height = frame->height;
    for (int i = 0; i < 4; i++) {
        f->data[i]     = frame->data[i];
        f->linesize[i] = frame->linesize[i];
    }
    f->matrix = ff_nst_matrix(frame->colorspace);
    f->range  = frame->color_range == AVCOL_RANGE_JPEG ? NST_RANGE_FULL
                                                       : NST_RANGE_LIMITED;
}

static int config_input(AVFilterLink *inlink)
{
    AVFilterContext *ctx = inlink->dst;
    NstContext *s = ctx->priv;
    int ret;

#if NST_VULKAN_FRAMES
    if (inlink->format == AV_PIX_FMT_VULKAN && (ret = ff_nst_config_vulkan(ctx, inlink)) < 0)
        return ret;
#endif
    if (s->realtime && inlink->format == AV_PIX_FMT_VULKAN) {
        av_log(ctx, AV_LOG_ERROR, "realtime=1 restyles frames in memory: download the "
               "Vulkan frames first (hwdownload), or leave realtime off.\n");
        return AVERROR(ENOSYS);
    }
    if (s->engine)
        return 0;
    ret = ff_nst_create_engine(ctx, s->model, s->model_path, &s->engine);
    /* The engine keeps what it needs of the model. */
    nst_model_free(&s->model);
    if (ret >= 0)
        ret = ff_nst_apply_size(ctx);
    if (ret >= 0 && s->realtime)
        ret = ff_nst_rt_start(ctx);
    return ret;
}

int ff_nst_frame_error(AVFilterContext *ctx, const AVFrame *frame, int err)
{
    av_log(ctx, AV_LOG_ERROR, "Cannot process a %dx%d %s frame: %s\n",
           frame->width, frame->height, av_get_pix_fmt_name(frame->format),
           nst_strerror(err));
    return nst_to_averror(err);
}

/* Passes a frame on; after the first, says how much device memory a
 * frame takes (the soak test compares it with the end's). */
static int output_frame(AVFilterContext *ctx, AVFrame *frame)
{
    NstContext *s = ctx->priv;

    if (!s->frames_out++ && s->engine && !s->rt.running) {
        uint64_t held, peak;
        nst_engine_memory(s->engine, &held, &peak);
        av_log(ctx, AV_LOG_VERBOSE, "Device memory after the first frame: %"PRIu64
               " bytes held, %"PRIu64" at most\n", held, peak);
    }
    return ff_filter_frame(ctx->outputs[0], frame);
}

/* Outputs the oldest frame the engine holds, once restyled. */
static int output_held(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;
    AVFrame *frame = s->held[s->held_first].frame;
    NstFrame *done;
    int ret;

    s->held[s->held_first].frame = NULL;
    s->held_first = (s->held_first + 1) % NST_ENGINE_DEPTH;
    s->nb_held--;
    /* the engine returns frames in the order they went in, as held[] is */
    ret = nst_engine_receive(s->engine, &done);
    if (ret < 0) {
        ret = ff_nst_frame_error(ctx, frame, ret);
        av_frame_free(&frame);
        return ret;
    }
    return output_frame(ctx, frame);
}

/* Outputs the frames held, up to the first that fails. */
int ff_nst_output_all_held(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;
    int ret = 0;

    while (s->nb_held && ret >= 0)
        ret = output_held(ctx);
    return ret;
}

/* Ends the stream with err, as the output's status (a status follows the
 * frames queued before it; an error returned from activate() would end
 * the graph with them still in it). */
static void end_stream(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;

    s->ended = 1;
    ff_inlink_set_status(ctx->inputs[0], s->failed);
    ff_outlink_set_status(ctx->outputs[0], s->failed, s->failed_pts);
}

/* After a failure at the frame of pts: the frames held before it go out
 * (held_before: those held are before it, not after), those after it are
 * dropped (uninit() frees them), so that the output is a clean prefix of
 * the stream, and the stream ends with the error. When
 * frames went out just now, the error waits for the next activation: the
 * graph's default activate() turns an error status into an error return
 * as it passes through a filter, which would stop ffmpeg before it takes
 * those frames from the sink. */
static int fail_stream(AVFilterContext *ctx, int err, int64_t pts, int held_before)
{
    NstContext *s = ctx->priv;
    int held = s->nb_held, ret = held_before ? ff_nst_output_all_held(ctx) : 0;

    if (ret < 0 && ret != err)
        av_log(ctx, AV_LOG_DEBUG, "A held frame failed too: %s\n", av_err2str(ret));
    s->failed = err;
    s->failed_pts = pts;
    if (held == s->nb_held) /* none went out */
        end_stream(ctx);
    return 0;
}

/* ff_inlink_make_frame_writable() copies into a buffer of the link's size
 * and format: a frame that changed them mid-stream (ffmpeg -reinit_filter
 * 0 keeps the graph) is copied at its own. */
static int make_writable(AVFilterLink *inlink, AVFrame **frame)
{
    AVFrame *in = *frame, *out;
    int ret;

    if (av_frame_is_writable(in))
        return 0;
    if (in->width == inlink->w && in->height == inlink->h && in->format == inlink->format)
        return ff_inlink_make_frame_writable(inlink, frame);
    out = av_frame_alloc();
    if (!out)
        return AVERROR(ENOMEM);
    out->format = in->format;
    out->width  = in->width;
    out->height = in->height;
    if ((ret = av_frame_get_buffer(out, 0)) < 0 ||
        (ret = av_frame_copy(out, in)) < 0 ||
        (ret = av_frame_copy_props(out, in)) < 0) {
        av_frame_free(&out);
        return ret;
    }
    av_frame_free(frame);
    *frame = out;
    return 0;
}

/* Takes one input frame; outputs it, or the one held before it, or none
 * (the first frame of a pipelined stream). *out: whether it output one. */
/* The next styled frame follows no earlier one: nothing of the past is
 * blended into it. */
static void reset_smoothing(NstContext *s)
{
    if (s->rt.running)
        s->rt.reset = 1;
    else
        nst_engine_reset(s->engine);
}

static int process_frame(AVFilterContext *ctx, AVFrame *frame, int *out)
{
    AVFilterLink *inlink = ctx->inputs[0];
    NstContext *s = ctx->priv;
    /* where enable= is false the frame goes out as it came, which is
     * exactly strength 0 for this in-place filter */
    float strength = ctx->is_disabled ? 0.0f : s->strength;
    NstFrame *f;
    int64_t pts;
    int ret, vulkan = frame->format == AV_PIX_FMT_VULKAN;

    *out = 0;
    pts = frame->pts != AV_NOPTS_VALUE ? frame->pts : s->last_pts;
    if ((ret = ff_nst_finish_swap(ctx)) < 0) {
        av_frame_free(&frame);
        *out = 1;
        return fail_stream(ctx, ret, pts, 0);
    }
    /* strength 0 is the identity: pass the frame on as it came, without
     * making it writable (which may copy it) or a trip to the device; in
     * its turn, after the frames held */
    if (strength == 0.0f) {
        reset_smoothing(s);
        if (s->nb_held)
            goto submit;
        *out = 1;
        return output_frame(ctx, frame);
    }

    /* a Vulkan frame is made writable on the device, if need be */
    if (!vulkan && (ret = make_writable(inlink, &frame)) < 0)
        goto fail;

    /* A frame that is not after the last one, or far after it (frames
     * skipped by a seek, a gap in a live stream, a timeline span switched
     * off), does not follow the previous output: nothing of it may be
     * blended in. Far: a second, or four times the last step. */
    if (frame->pts != AV_NOPTS_VALUE) {
        if (s->last_pts != AV_NOPTS_VALUE) {
            int64_t step = frame->pts - s->last_pts;
            if (step <= 0 || (s->last_step > 0 && step / 4 > s->last_step) ||
                av_rescale_q(step, inlink->time_base, AV_TIME_BASE_Q) > AV_TIME_BASE) {
                reset_smoothing(s);
                step = 0;
            }
            s->last_step = step;
        }
        s->last_pts = frame->pts;
    }
    /* A scene cut found upstream (scdet marks it so): the engine's own cut
     * test sees only a large mean change, and misses a cut between two
     * shots alike in brightness. */
    if (av_dict_get(frame->metadata, "lavfi.scd.time", NULL, 0)) {
        av_log(ctx, AV_LOG_DEBUG, "scene cut marked at pts %"PRId64": smoothing starts afresh\n",
               frame->pts);
        reset_smoothing(s);
    }
    if (s->rt.running) {
        if ((ret = ff_nst_process_realtime(ctx, frame, strength)) < 0)
            goto fail;
        *out = 1;
        return output_frame(ctx, frame);
    }
    /* options may have changed by a command since the last frame */
    nst_engine_set_preserve_color(s->engine, s->preserve_color);
    ret = nst_engine_set_temporal(s->engine, s->smooth ? s->temporal : 0.0f);
    if (ret >= 0 && s->smooth)
        ret = nst_engine_set_temporal_mechanisms(s->engine, s->smooth);
    if (ret < 0) {
        ret = ff_nst_frame_error(ctx, frame, ret);
        goto fail;
    }
    /* Vulkan frames are restyled as they come: their work on the device
     * is ordered by their semaphores, and the engine waits for it */
    if (!s->pipeline || vulkan) {
        NstFrame now;
#if NST_VULKAN_FRAMES
        if (vulkan) {
            if ((ret = ff_nst_process_vulkan(ctx, &frame, strength)) < 0)
                goto fail;
            *out = 1;
            return output_frame(ctx, frame);
        }
#endif
        ff_nst_fill_frame(&now, frame);
        if ((ret = nst_engine_process(s->engine, &now, strength)) < 0) {
            ret = ff_nst_frame_error(ctx, frame, ret);
            goto fail;
        }
        *out = 1;
        return output_frame(ctx, frame);
    }

submit:
    /* The engine keeps f until it is received: it lives in held[]. Room
     * is certain, since a full pipeline is emptied by one frame below. */
    f = &s->held[(s->held_first + s->nb_held) % NST_ENGINE_DEPTH].nst;
    ff_nst_fill_frame(f, frame);
    ret = nst_engine_submit(s->engine, f, strength);
    if (ret < 0) {
        ret = ff_nst_frame_error(ctx, frame, ret);
        goto fail;
    }
    s->held[(s->held_first + s->nb_held++) % NST_ENGINE_DEPTH].frame = frame;
    if (s->nb_held < NST_ENGINE_DEPTH)
        return 0;
    /* one frame on the device (this one), the one before it out */
    *out = 1;
    if ((ret = output_held(ctx)) < 0)
        return fail_stream(ctx, ret, pts, 0);
    return 0;

fail:
    av_frame_free(&frame);
    *out = 1;
    return fail_stream(ctx, ret, pts, 1);
}

static int activate(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;
    AVFilterLink *inlink = ctx->inputs[0];
    AVFilterLink *outlink = ctx->outputs[0];
    AVFrame *frame;
    int64_t pts;
    int ret, status, out = 0;

    FF_FILTER_FORWARD_STATUS_BACK(outlink, inlink);
    if (s->failed) {
        if (!s->ended)
            end_stream(ctx);
        return 0;
    }

    ret = ff_inlink_consume_frame(inlink, &frame);
    if (ret < 0)
        return ret;
    if (ret > 0) {
        ret = process_frame(ctx, frame, &out);
        if (ret < 0 || s->failed)
            return ret;
    }
    /* one frame at a time: come back for the others queued */
    if (ff_inlink_queued_frames(inlink)) {
        ff_filter_set_ready(ctx, 100);
        return 0;
    }
    if (ff_inlink_acknowledge_status(inlink, &status, &pts)) {
        /* the end of the stream: out with the frames held */
        if ((ret = ff_nst_output_all_held(ctx)) < 0)
            return fail_stream(ctx, ret, pts, 0);
        ff_outlink_set_status(outlink, status, pts);
        return 0;
    }
    if (out)
        return 0;
    FF_FILTER_FORWARD_WANTED(outlink, inlink);
    return FFERROR_NOT_READY;
}

static int process_command(AVFilterContext *ctx, const char *cmd, const char *args,
                           char *res, int res_len, int flags)
{
    NstContext *s = ctx->priv;
    int w = 0, h = 0, ret;
    float scale = 0.0f;

    if (!strcmp(cmd, "model"))
        return ff_nst_start_swap(ctx, args);
    /* a size that does not parse leaves the current one in place */
    if (!strcmp(cmd, "size") && (ret = parse_size(ctx, args, &w, &h, &scale)) < 0)
        return ret;
    ret = ff_filter_process_command(ctx, cmd, args, res, res_len, flags);
    if (ret < 0 || strcmp(cmd, "size"))
        return ret;
    s->net_w = w;
    s->net_h = h;
    s->net_scale = scale;
    /* with realtime=1 the scale is the most the policy goes up to */
    return s->engine && !s->rt.running ? ff_nst_apply_size(ctx) : 0;
}

static const AVFilterPad nst_inputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
        .config_props = config_input,
    },
};

static const AVFilterPad nst_outputs[] = {
    {
        .name = "default",
        .type = AVMEDIA_TYPE_VIDEO,
    },
};

/* Timeline support is internal (activate() reads is_disabled): a frame
 * where enable= is false passes unchanged, but in its turn, after the
 * frames the engine holds.
 *
 * FFmpeg 8 (lavfi 11) split the filter in two: the public AVFilter is .p of
 * an FFFilter that holds what only libavfilter reads (FILTER_INPUTS and the
 * like fill .p.inputs there). */
#if LIBAVFILTER_VERSION_INT >= AV_VERSION_INT(11, 0, 100)
const FFFilter ff_vf_nst = {
    .p.name          = "nst",
    .p.description   = NULL_IF_CONFIG_SMALL("Apply neural style transfer with libnst."),
    .p.priv_class    = &nst_class,
    .p.flags         = AVFILTER_FLAG_SUPPORT_TIMELINE_INTERNAL,
    .priv_size       = sizeof(NstContext),
    .init            = init,
    .uninit          = uninit,
    .activate        = activate,
    FILTER_INPUTS(nst_inputs),
    FILTER_OUTPUTS(nst_outputs),
    FILTER_PIXFMTS_ARRAY(pix_fmts),
    .process_command = process_command,
};
#else
const AVFilter ff_vf_nst = {
    .name            = "nst",
    .description     = NULL_IF_CONFIG_SMALL("Apply neural style transfer with libnst."),
    .priv_size       = sizeof(NstContext),
    .priv_class      = &nst_class,
    .init            = init,
    .uninit          = uninit,
    .activate        = activate,
    FILTER_INPUTS(nst_inputs),
    FILTER_OUTPUTS(nst_outputs),
    FILTER_PIXFMTS_ARRAY(pix_fmts),
    .flags           = AVFILTER_FLAG_SUPPORT_TIMELINE_INTERNAL,
    .process_command = process_command,
};
#endif

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
 * The nst filter's private header: the context that its files share, and
 * what each of them offers the others (ff_nst_*). It also settles, once
 * for all of them, whether Vulkan frames are supported (NST_VULKAN_FRAMES)
 * and includes libnst's nst.h after FFmpeg's Vulkan headers, which it
 * needs first to declare its Vulkan frames.
 */

#ifndef AVFILTER_VF_NST_H
#define AVFILTER_VF_NST_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "libavutil/version.h"
#include "libavfilter/version.h"
/* Vulkan frames (AV_PIX_FMT_VULKAN) are restyled on FFmpeg's own device:
 * with AVVkFrame.queue_family and the frame locks (lavu 58.11) and the
 * queue family list (lavu 59.34); the filter link's hw_frames_ctx is
 * FilterLink's from lavfi 10.4 (FFmpeg 7.1). */
#if CONFIG_VULKAN && LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(59, 34, 100) && \
    LIBAVFILTER_VERSION_INT >= AV_VERSION_INT(10, 4, 100)
#define NST_VULKAN_FRAMES 1
#include "libavutil/hwcontext.h"
#include "libavutil/hwcontext_vulkan.h"
#include "libavutil/internal.h"
#else
#define NST_VULKAN_FRAMES 0
#endif

/* after vulkan.h, which declares nst.h's Vulkan frames */
#include <nst.h>

#include "libavutil/buffer.h"
#include "libavutil/frame.h"
#include "libavutil/log.h"
#include "libavutil/thread.h"
#include "avfilter.h"


/* What a realtime job is restyled with, taken as it is posted: commands
 * change the options on the filter's thread meanwhile. reset: forget the
 * previous frame first. */
typedef struct RtSettings {
    float strength, temporal, scale;
    int smooth, preserve_color, reset;
} RtSettings;

typedef struct NstContext {
    const AVClass *class;
    char *model_path;
    float strength;
    float temporal;
    int smooth;        /* NST_TEMPORAL_* flags; 0: none, the per-frame path */
    char *device;
    int precision;     /* NST_PRECISION_* */
    char *size;        /* the network's size: WxH, a scale, or none */
    int net_w, net_h;  /* parsed from size; 0x0: the frame's size */
    float net_scale;   /* parsed from size when a scale, else 0 */
    int64_t last_pts;  /* of the last frame styled, AV_NOPTS_VALUE if none */
    int64_t last_step; /* pts step from the one before it, 0 if none */
    int pipeline;      /* submit and output a frame later (one frame of latency) */
    int preserve_color;
    int failed;        /* the error that ends the stream, or 0 */
    int64_t failed_pts;
    int ended;         /* the error was sent as the status */
    int64_t frames_out;

    /* Frames in the engine, oldest first: each AVFrame with the NstFrame
     * that points into it and that the engine holds until it is received. */
    struct {
        AVFrame *frame;
        NstFrame nst;
    } held[NST_ENGINE_DEPTH];
    int held_first, nb_held;

    NstModel *model;   /* from init until the engine is created */
    NstEngine *engine;
    /* Vulkan frames: their frames context, whose device the engines run
     * on; NULL for frames in memory. */
    AVBufferRef *hw_frames;

    /* The command model: a thread of its own loads the new model and makes
     * its engine, off the frame path; the next frame after it is done puts
     * that engine in place (or keeps the old one if it failed). */
    pthread_t swap_thread;
    int swap_running;         /* started and not yet joined */
    atomic_int swap_done;     /* the thread has set swap_engine or swap_err */
    char *swap_path;
    NstEngine *swap_engine;
    int swap_err;

    /* realtime=1: a thread of its own restyles the newest frame while the
     * frames keep flowing. A frame waits for its own restyling at most
     * most of a frame interval; one that is not done by then goes out
     * with the style of the last frame that was, carried over (rt_reuse),
     * and the network's size follows the device's speed. */
    int realtime;
    struct {
        pthread_t thread;
        int running, quit;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        AVFrame *job;           /* a copy of the frame to restyle, or NULL */
        int64_t job_seq, done_seq;
        RtSettings job_set;     /* what the job is restyled with */
        int busy;
        AVFrame *styled, *source; /* the last result, and what it was made from */
        int err;                /* of the last frame restyled */
        int64_t busy_us;        /* the engine's time on it */
        float scale;            /* of the network against the frame */
        int reset;              /* a reset for the next job */
        int slow;               /* frames come out with an earlier style */
        int64_t frames, own, reused, plain, max_wait_us;
        int64_t max_allowed_us; /* the longest wait for the worker allowed */
        int64_t restyles, restyle_us; /* the worker's, for the summary */
    } rt;
} NstContext;

/* vf_nst.c: the filter, and the frame path the other files take part in */
int ff_nst_load_model(AVFilterContext *ctx, const char *path, NstModel **model);
int ff_nst_create_engine(AVFilterContext *ctx, const NstModel *model, const char *path,
                         NstEngine **engine);
int ff_nst_apply_size(AVFilterContext *ctx);
NstPixelFormat ff_nst_pix_fmt(enum AVPixelFormat fmt);
NstColorMatrix ff_nst_matrix(enum AVColorSpace csp);
void ff_nst_fill_frame(NstFrame *f, const AVFrame *frame);
int ff_nst_frame_error(AVFilterContext *ctx, const AVFrame *frame, int err);
int ff_nst_output_all_held(AVFilterContext *ctx);

/* vf_nst_swap.c: the command model, loaded on a thread of its own */
int ff_nst_start_swap(AVFilterContext *ctx, const char *path);
void ff_nst_join_swap(NstContext *s);
int ff_nst_finish_swap(AVFilterContext *ctx);

/* vf_nst_realtime.c: realtime=1's worker thread */
int ff_nst_rt_start(AVFilterContext *ctx);
void ff_nst_rt_stop(AVFilterContext *ctx);
void ff_nst_rt_idle(NstContext *s);
int ff_nst_process_realtime(AVFilterContext *ctx, AVFrame *frame, float strength);

#if NST_VULKAN_FRAMES
/* vf_nst_vulkan.c: Vulkan frames, restyled on FFmpeg's own device */
int ff_nst_create_vulkan_engine(AVFilterContext *ctx, const NstModel *model,
                                const NstEngineOptions *opts, NstEngine **engine);
int ff_nst_config_vulkan(AVFilterContext *ctx, AVFilterLink *inlink);
int ff_nst_process_vulkan(AVFilterContext *ctx, AVFrame **frame, float strength);
#endif

#endif /* AVFILTER_VF_NST_H */

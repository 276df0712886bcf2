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
 * The nst filter's realtime=1, for live sources: a worker thread restyles
 * the newest frame while the frames keep flowing. A frame waits for its
 * own restyling at most 4/5 of a frame interval, else goes out with the
 * style of the last frame restyled carried over onto it, and the
 * network's size follows the device's speed. In a file of its own as it
 * is a thread, a lock and a policy of their own (NstContext.rt): the
 * filter only starts and stops it and hands it frames.
 */

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "libavutil/common.h"
#include "libavutil/error.h"
#include "libavutil/frame.h"
#include "libavutil/imgutils.h"
#include "libavutil/log.h"
#include "libavutil/mathematics.h"
#include "libavutil/pixdesc.h"
#include "libavutil/thread.h"
#include "libavutil/time.h"
#include "avfilter.h"
#include "filters.h"
#include "version.h"
#include "vf_nst.h"

/* The smallest network the policy goes down to, against the frame: below
 * an eighth of its sides the style is mush. */
#define RT_MIN_SCALE 0.125f

static AVFrame *copy_frame(const AVFrame *in)
{
    AVFrame *out = av_frame_alloc();

    if (!out)
        return NULL;
    out->format = in->format;
    out->width  = in->width;
    out->height = in->height;
    if (av_frame_get_buffer(out, 0) < 0 || av_frame_copy(out, in) < 0 ||
        av_frame_copy_props(out, in) < 0)
        av_frame_free(&out);
    return out;
}

static void *rt_worker(void *arg)
{
    AVFilterContext *ctx = arg;
    NstContext *s = ctx->priv;

    pthread_mutex_lock(&s->rt.lock);
    for (;;) {
        AVFrame *src, *styled;
        RtSettings now;
        NstFrame f;
        int64_t seq, start;
        int ret = AVERROR(ENOMEM);

        while (!s->rt.job && !s->rt.quit)
            pthread_cond_wait(&s->rt.cond, &s->rt.lock);
        if (s->rt.quit)
            break;
        src = s->rt.job;
        s->rt.job = NULL;
        seq = s->rt.job_seq;
        now = s->rt.job_set;
        s->rt.busy = 1;
        pthread_mutex_unlock(&s->rt.lock);

        /* the engine is this thread's until busy is cleared */
        start = av_gettime_relative();
        if ((styled = copy_frame(src))) {
            if (now.reset)
                nst_engine_reset(s->engine);
            nst_engine_set_preserve_color(s->engine, now.preserve_color);
            ret = nst_engine_set_temporal(s->engine, now.smooth ? now.temporal : 0.0f);
            if (ret >= 0 && now.smooth)
                ret = nst_engine_set_temporal_mechanisms(s->engine, now.smooth);
            if (ret >= 0)
                ret = nst_engine_set_network_scale(s->engine, now.scale);
            ff_nst_fill_frame(&f, styled);
            if (ret >= 0)
                ret = nst_engine_process(s->engine, &f, now.strength);
            ret = ret < 0 ? ff_nst_frame_error(ctx, styled, ret) : 0;
        }

        pthread_mutex_lock(&s->rt.lock);
        s->rt.busy = 0;
        s->rt.busy_us = av_gettime_relative() - start;
        if (ret >= 0) {
            s->rt.restyles++;
            s->rt.restyle_us += s->rt.busy_us;
        }
        if (ret < 0) {
            s->rt.err = ret;
            av_frame_free(&styled);
            av_frame_free(&src);
        } else {
            av_frame_free(&s->rt.styled);
            av_frame_free(&s->rt.source);
            s->rt.styled = styled;
            s->rt.source = src;
            s->rt.done_seq = seq;
        }
        pthread_cond_broadcast(&s->rt.cond);
    }
    pthread_mutex_unlock(&s->rt.lock);
    return NULL;
}

int ff_nst_rt_start(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;
    int ret;

    if ((ret = pthread_mutex_init(&s->rt.lock, NULL)))
        return AVERROR(ret);
    if ((ret = pthread_cond_init(&s->rt.cond, NULL))) {
        pthread_mutex_destroy(&s->rt.lock);
        return AVERROR(ret);
    }
    if ((ret = pthread_create(&s->rt.thread, NULL, rt_worker, ctx))) {
        pthread_cond_destroy(&s->rt.cond);
        pthread_mutex_destroy(&s->rt.lock);
        return AVERROR(ret);
    }
    s->rt.running = 1;
    /* half the frame's sides to begin with, a quarter of the work: the
     * first frames go out as they came until one is restyled */
    s->rt.scale = FFMIN(s->net_scale > 0.0f ? s->net_scale : 1.0f, 0.5f);
    return 0;
}

void ff_nst_rt_stop(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;

    if (!s->rt.running)
        return;
    pthread_mutex_lock(&s->rt.lock);
    s->rt.quit = 1;
    pthread_cond_broadcast(&s->rt.cond);
    pthread_mutex_unlock(&s->rt.lock);
    pthread_join(s->rt.thread, NULL);
    pthread_cond_destroy(&s->rt.cond);
    pthread_mutex_destroy(&s->rt.lock);
    s->rt.running = 0;
    av_frame_free(&s->rt.job);
    av_frame_free(&s->rt.styled);
    av_frame_free(&s->rt.source);
    if (s->rt.frames)
        av_log(ctx, AV_LOG_INFO, "realtime: %"PRId64" frames: %"PRId64" restyled in time, "
               "%"PRId64" with an earlier frame's style, %"PRId64" as they came; at most "
               "%.1f ms in the filter for a frame (%.1f ms allowed for the wait); a restyle "
               "took %.1f ms on average; the network at %.3f of the frame's size\n",
               s->rt.frames, s->rt.own, s->rt.reused, s->rt.plain,
               s->rt.max_wait_us / 1000.0, s->rt.max_allowed_us / 1000.0,
               s->rt.restyles ? s->rt.restyle_us / 1000.0 / s->rt.restyles : 0.0,
               s->rt.scale);
}

/* Waits until the thread is idle: the engine is the caller's then. */
void ff_nst_rt_idle(NstContext *s)
{
    if (!s->rt.running)
        return;
    pthread_mutex_lock(&s->rt.lock);
    while (s->rt.busy || s->rt.job)
        pthread_cond_wait(&s->rt.cond, &s->rt.lock);
    pthread_mutex_unlock(&s->rt.lock);
}

/* The time between frames: the link's frame rate, else the last pts step. */
static int64_t rt_budget_us(AVFilterLink *inlink, const NstContext *s)
{
#if LIBAVFILTER_VERSION_INT >= AV_VERSION_INT(10, 4, 100)
    AVRational rate = ff_filter_link(inlink)->frame_rate;
#else
    AVRational rate = inlink->frame_rate;
#endif

    if (rate.num > 0 && rate.den > 0)
        return av_rescale(AV_TIME_BASE, rate.den, rate.num);
    if (s->last_step > 0)
        return av_rescale_q(s->last_step, inlink->time_base, AV_TIME_BASE_Q);
    return AV_TIME_BASE / 25;
}

/* The network's size after the device's time on the last job: down where
 * it took most of a frame interval (the cost goes with the area), up
 * again where it took less than half, never above the size option's
 * scale. Between those, left alone, so that it settles. */
static void rt_adapt(AVFilterContext *ctx, int64_t budget)
{
    NstContext *s = ctx->priv;
    float top = s->net_scale > 0.0f ? s->net_scale : 1.0f, old = s->rt.scale;
    double t = (double)s->rt.busy_us;

    if (s->rt.scale > top) /* a size command lowered it */
        s->rt.scale = FFMAX(top, RT_MIN_SCALE);
    else if (t <= 0.0)
        return;
    else if (t > 0.8 * budget && s->rt.scale > RT_MIN_SCALE)
        s->rt.scale = FFMAX(RT_MIN_SCALE, s->rt.scale * FFMAX(0.5, sqrt(0.6 * budget / t)));
    else if (t < 0.4 * budget && s->rt.scale < top)
        s->rt.scale = FFMIN(top, s->rt.scale * 1.25f);
    if (s->rt.scale != old)
        av_log(ctx, AV_LOG_INFO, "realtime: %.0f ms a frame against %.0f ms between frames: "
               "the network at %.3f of the frame's size\n", t / 1000.0, budget / 1000.0,
               s->rt.scale);
}

/* frame += styled - source, byte by byte: the style of the last frame
 * restyled, carried onto this one where the picture did not move. */
static void carry_style(AVFrame *frame, const AVFrame *styled, const AVFrame *source)
{
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
    int planes = av_pix_fmt_count_planes(frame->format);

    for (int p = 0; p < planes; p++) {
        int chroma = p == 1 || p == 2;
        int h = chroma ? AV_CEIL_RSHIFT(frame->height, desc->log2_chroma_h) : frame->height;
        int bytes = av_image_get_linesize(frame->format, frame->width, p);
        for (int y = 0; y < h; y++) {
            uint8_t *d = frame->data[p] + (ptrdiff_t)y * frame->linesize[p];
            const uint8_t *a = styled->data[p] + (ptrdiff_t)y * styled->linesize[p];
            const uint8_t *b = source->data[p] + (ptrdiff_t)y * source->linesize[p];
            for (int x = 0; x < bytes; x++)
                d[x] = av_clip_uint8(d[x] + a[x] - b[x]);
        }
    }
}

/* Hands the frame to the thread if it is idle, waits for it for most of
 * a frame interval, and restyles the frame with what there is by then. */
int ff_nst_process_realtime(AVFilterContext *ctx, AVFrame *frame, float strength)
{
    NstContext *s = ctx->priv;
    int64_t start = av_gettime_relative(), budget = rt_budget_us(ctx->inputs[0], s), seq = -1;
    AVFrame *job = NULL;
    int idle, own = 0, ret = 0;

    pthread_mutex_lock(&s->rt.lock);
    idle = !s->rt.busy && !s->rt.job;
    pthread_mutex_unlock(&s->rt.lock);
    /* idle: the thread touches nothing of the engine or of rt but job */
    if (idle) {
        RtSettings set;
        if (!(job = copy_frame(frame)))
            return AVERROR(ENOMEM);
        rt_adapt(ctx, budget);
        set = (RtSettings){
            .strength = strength, .temporal = s->temporal, .scale = s->rt.scale,
            .smooth = s->smooth, .preserve_color = s->preserve_color, .reset = s->rt.reset,
        };
        s->rt.reset = 0;
        pthread_mutex_lock(&s->rt.lock);
        s->rt.job_set = set;
        s->rt.job = job;
        seq = ++s->rt.job_seq;
        pthread_cond_broadcast(&s->rt.cond);
    } else {
        pthread_mutex_lock(&s->rt.lock);
    }
    s->rt.max_allowed_us = FFMAX(s->rt.max_allowed_us, budget * 4 / 5);
    while (seq >= 0 && s->rt.done_seq != seq && !s->rt.err) {
        int64_t left = start + budget * 4 / 5 - av_gettime_relative(), until;
        struct timespec ts;
        if (left <= 0)
            break;
        until = av_gettime() + left;
        ts.tv_sec  = until / 1000000;
        ts.tv_nsec = until % 1000000 * 1000;
        pthread_cond_timedwait(&s->rt.cond, &s->rt.lock, &ts);
    }
    if (s->rt.err) {
        ret = s->rt.err;
    } else if ((own = seq >= 0 && s->rt.done_seq == seq)) {
        ret = av_frame_copy(frame, s->rt.styled);
        s->rt.own++;
    } else if (s->rt.styled && s->rt.styled->format == frame->format &&
               s->rt.styled->width == frame->width && s->rt.styled->height == frame->height) {
        carry_style(frame, s->rt.styled, s->rt.source);
        s->rt.reused++;
    } else {
        s->rt.plain++; /* nothing restyled yet */
    }
    pthread_mutex_unlock(&s->rt.lock);
    if (ret < 0)
        return ret;
    s->rt.frames++;
    s->rt.max_wait_us = FFMAX(s->rt.max_wait_us, av_gettime_relative() - start);
    if ((!own) != s->rt.slow) {
        s->rt.slow = !own;
        av_log(ctx, AV_LOG_INFO, own ? "realtime: frames are restyled in time again\n" :
               "realtime: the device does not keep up: frames go out with the style of "
               "the last frame restyled\n");
    }
    return 0;
}

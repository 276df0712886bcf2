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
 * The nst filter's command model: a thread of its own loads the new model
 * and makes its engine, which takes seconds, while the frames keep flowing
 * through the old one; between two frames the filter puts the new engine
 * in place. In a file of its own as it is a thread beside the frame
 * path, with its own state in NstContext (swap_*), which only these
 * functions and uninit() touch.
 */

#include <stdatomic.h>

#include "libavutil/error.h"
#include "libavutil/log.h"
#include "libavutil/mem.h"
#include "libavutil/thread.h"
#include "avfilter.h"
#include "vf_nst.h"

static void *swap_worker(void *arg)
{
    AVFilterContext *ctx = arg;
    NstContext *s = ctx->priv;
    NstModel *model = NULL;
    int ret = ff_nst_load_model(ctx, s->swap_path, &model);

    if (ret >= 0)
        ret = ff_nst_create_engine(ctx, model, s->swap_path, &s->swap_engine);
    nst_model_free(&model);
    s->swap_err = ret;
    atomic_store(&s->swap_done, 1);
    return NULL;
}

/* The command model: starts loading path. */
int ff_nst_start_swap(AVFilterContext *ctx, const char *path)
{
    NstContext *s = ctx->priv;
    int ret;

    if (!path || !*path) {
        av_log(ctx, AV_LOG_ERROR, "The command model needs a path to a style model.\n");
        return AVERROR(EINVAL);
    }
    if (s->swap_running) {
        av_log(ctx, AV_LOG_ERROR, "Cannot switch to '%s': the switch to '%s' is under way.\n",
               path, s->swap_path);
        return AVERROR(EBUSY);
    }
    if (!(s->swap_path = av_strdup(path)))
        return AVERROR(ENOMEM);
    atomic_store(&s->swap_done, 0);
    s->swap_err = 0;
    if ((ret = pthread_create(&s->swap_thread, NULL, swap_worker, ctx))) {
        av_freep(&s->swap_path);
        return AVERROR(ret);
    }
    s->swap_running = 1;
    av_log(ctx, AV_LOG_VERBOSE, "Loading the model '%s'\n", path);
    return 0;
}

void ff_nst_join_swap(NstContext *s)
{
    pthread_join(s->swap_thread, NULL);
    s->swap_running = 0;
}

/* Between frames: puts the engine of a finished model swap in place, after
 * the frames the old one holds. */
int ff_nst_finish_swap(AVFilterContext *ctx)
{
    NstContext *s = ctx->priv;
    int ret;

    if (!s->swap_running || !atomic_load(&s->swap_done))
        return 0;
    ff_nst_join_swap(s);
    ff_nst_rt_idle(s);
    if (s->swap_err < 0) {
        av_log(ctx, AV_LOG_WARNING, "Keeping the model '%s'.\n", s->model_path);
        av_freep(&s->swap_path);
        return 0;
    }
    ret = ff_nst_output_all_held(ctx);
    nst_engine_free(&s->engine);
    s->engine = s->swap_engine;
    s->swap_engine = NULL;
    av_free(s->model_path);
    s->model_path = s->swap_path;
    s->swap_path = NULL;
    if (ret < 0)
        return ret;
    av_log(ctx, AV_LOG_VERBOSE, "Now styling with '%s'\n", s->model_path);
    return ff_nst_apply_size(ctx);
}

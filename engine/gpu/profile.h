/*
 * Per-dispatch device timings from Vulkan timestamp queries: when enabled,
 * every recorded step is followed by a timestamp, so the difference of two
 * neighbours is what that step cost on the device (steps are serialised by
 * barriers). Read back after the frame's fence.
 */
#ifndef NST_PROFILE_H
#define NST_PROFILE_H

#include "nst.h"
#include "gpu/vk.h"

typedef struct NstProfiler {
    int enabled;
    VkQueryPool pool;
    uint32_t cap;           /* queries in the pool */
    int active;             /* between start and collect: steps are marked */
    uint32_t n;             /* recorded this frame, the first is the start */
    int *pipeline, *layer;  /* per query: what the step ran (-1: none) */
    double ns_per_tick;
    NstProfileEntry *last;  /* the last frame's entries */
    int n_last;
} NstProfiler;

int  nst_profiler_enable(NstProfiler *p, NstVk *vk, int enable);
void nst_profiler_free(NstProfiler *p, NstVk *vk);
/* Called right after nst_vk_begin and after each step; steps recorded
 * outside a start .. collect span (warm-up, tests) are not marked. */
void nst_profiler_start(NstProfiler *p, NstVk *vk);
void nst_profiler_mark(NstProfiler *p, NstVk *vk, int pipeline, int layer);
/* After the fence: turns the timestamps into entries; names come from
 * name_of(opaque, pipeline). */
int nst_profiler_collect(NstProfiler *p, NstVk *vk,
                         const char *(*name_of)(void *opaque, int pipeline),
                         void *opaque);

#endif

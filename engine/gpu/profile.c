/* Per-dispatch timings from timestamp queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/profile.h"

#define PROFILE_QUERIES 2048 /* far more steps than any network here has */

void nst_profiler_free(NstProfiler *p, NstVk *vk)
{
    if (p->pool)
        vkDestroyQueryPool(vk->device, p->pool, NULL);
    free(p->pipeline);
    free(p->layer);
    free(p->last);
    memset(p, 0, sizeof(*p));
}

int nst_profiler_enable(NstProfiler *p, NstVk *vk, int enable)
{
    VkQueryPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
        .queryType = VK_QUERY_TYPE_TIMESTAMP,
        .queryCount = PROFILE_QUERIES,
    };
    int ret;

    if (!enable) {
        nst_profiler_free(p, vk);
        return NST_OK;
    }
    if (p->enabled)
        return NST_OK;
    if (!vk->timestamp_bits || vk->props.limits.timestampPeriod <= 0.0f) {
        nst_log(vk->log, NST_LOG_ERROR, "the device's compute queue has no timestamps");
        return NST_ERR_UNSUPPORTED;
    }
    p->pipeline = calloc(PROFILE_QUERIES, sizeof(*p->pipeline));
    p->layer = calloc(PROFILE_QUERIES, sizeof(*p->layer));
    p->last = calloc(PROFILE_QUERIES, sizeof(*p->last));
    if (!p->pipeline || !p->layer || !p->last) {
        nst_profiler_free(p, vk);
        return NST_ERR_NOMEM;
    }
    if ((ret = nst_vk_check(vk, vkCreateQueryPool(vk->device, &info, NULL, &p->pool),
                            "vkCreateQueryPool")) < 0) {
        nst_profiler_free(p, vk);
        return ret;
    }
    p->cap = PROFILE_QUERIES;
    p->ns_per_tick = vk->props.limits.timestampPeriod;
    p->enabled = 1;
    return NST_OK;
}

void nst_profiler_start(NstProfiler *p, NstVk *vk)
{
    if (!p->enabled)
        return;
    vkCmdResetQueryPool(vk->cmd, p->pool, 0, p->cap);
    p->n = 0;
    p->active = 1;
    nst_profiler_mark(p, vk, -1, -1);
}

void nst_profiler_mark(NstProfiler *p, NstVk *vk, int pipeline, int layer)
{
    if (!p->active || p->n >= p->cap)
        return;
    p->pipeline[p->n] = pipeline;
    p->layer[p->n] = layer;
    vkCmdWriteTimestamp(vk->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, p->pool, p->n);
    p->n++;
}

int nst_profiler_collect(NstProfiler *p, NstVk *vk,
                         const char *(*name_of)(void *opaque, int pipeline),
                         void *opaque)
{
    uint64_t *ticks;
    uint64_t mask;
    VkResult r;

    int was_active = p->active;

    p->active = 0;
    if (!p->enabled || !was_active || p->n < 2)
        return NST_OK;
    ticks = calloc(p->n, sizeof(*ticks));
    if (!ticks)
        return NST_ERR_NOMEM;
    r = vkGetQueryPoolResults(vk->device, p->pool, 0, p->n, p->n * sizeof(*ticks), ticks,
                              sizeof(*ticks), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS) {
        free(ticks);
        return nst_vk_check(vk, r, "vkGetQueryPoolResults");
    }
    mask = vk->timestamp_bits >= 64 ? ~0ull : (1ull << vk->timestamp_bits) - 1;
    p->n_last = 0;
    for (uint32_t i = 1; i < p->n; i++) {
        NstProfileEntry *e = &p->last[p->n_last++];
        uint64_t d = (ticks[i] - ticks[i - 1]) & mask;
        snprintf(e->name, sizeof(e->name), "%s", name_of(opaque, p->pipeline[i]));
        e->layer = p->layer[i];
        e->ms = (double)d * p->ns_per_tick / 1e6;
    }
    free(ticks);
    return NST_OK;
}

/*
 * Dispatches: a step is a pipeline, its descriptor set, its push constants
 * and its workgroups; every layer above records its work as steps through
 * these helpers, each followed by a barrier and, when profiling, marked.
 */
#ifndef NST_DISPATCH_H
#define NST_DISPATCH_H

#include "gpu/pipelines.h"
#include "gpu/profile.h"
#include "gpu/vk.h"

/* What a step binds (gpu/pipelines.h lists the bindings); NULL binds a
 * dummy buffer. */
typedef struct NstBinds {
    const NstBuffer *src0, *src1, *dst, *buf0, *buf1;
} NstBinds;

/* What recording steps needs, shared by the network and the frame path. */
typedef struct NstDispatch {
    NstVk *vk;
    NstPipelines *pipes;
    NstProfiler prof;       /* marks each recorded step when enabled */
    NstBuffer dummy;        /* bound where a step binds nothing */
    VkDescriptorPool warm_pool;
    /* the frame being planned, for messages */
    int width, height;
} NstDispatch;

int  nst_dispatch_init(NstDispatch *d, NstVk *vk, NstPipelines *pipes);
void nst_dispatch_free(NstDispatch *d);

/* lavapipe compiles a pipeline at its first dispatch (tens to hundreds of
 * ms each): dispatches every pipeline made so far once, with sizes of
 * zero, so that the first frame costs what every other frame does. */
int nst_dispatch_warm_up(NstDispatch *d);

/* A descriptor pool for n_sets sets of the shared layout, and one set. */
int nst_dispatch_pool(const NstDispatch *d, int n_sets, VkDescriptorPool *pool);
int nst_dispatch_set(const NstDispatch *d, VkDescriptorPool pool, NstBinds b,
                     VkDescriptorSet *set);

/* A step with a set from pool: push is the shader's push-constant block
 * (a C struct mirroring it), gx..gz its workgroups (0 counts as 1),
 * checked against the device's limits; layer is the model layer it
 * computes (-1: the frame path). */
int nst_dispatch_step(NstDispatch *d, VkDescriptorPool pool, NstStep *s, int pipeline,
                      NstBinds b, const void *push, size_t push_size,
                      uint32_t gx, uint32_t gy, uint32_t gz, int layer);

/* Records s into vk->cmd, then a barrier. */
void nst_dispatch_record(NstDispatch *d, const NstStep *s);

/* After a profiled frame's fence: reads its timings. */
int nst_dispatch_profile_done(NstDispatch *d);

#endif

/* The engine's insides, for the library and its tests. */
#ifndef NST_ENGINE_INTERNAL_H
#define NST_ENGINE_INTERNAL_H

#include "async.h"
#include "frame/path.h"
#include "frame/temporal.h"
#include "gpu/dispatch.h"
#include "gpu/pipelines.h"
#include "gpu/vk.h"
#include "net/net.h"

struct NstEngine {
    NstLog log;
    NstVk vk;
    NstPipelines pipes;
    NstDispatch gpu;    /* recording steps, profiling them */
    NstNet net;         /* the network proper */
    NstPath path;       /* a frame's work around it */
    NstTemporal temporal;
    NstAsync async;     /* frames between nst_engine_submit and _receive */
    int fp16;           /* tensors stored as fp16 */
    int fp16_arith;     /* and the heavy kernels multiply in fp16 */
};

/* nst_engine_create (device NULL) and nst_engine_create_on_device, which
 * are this with frames 1; frames 0 skips the
 * check that the network can restyle frames (for the ops' tests, whose
 * one-layer networks may shrink their input). */
int nst_engine_open(const NstModel *model, const NstEngineOptions *options,
                    const NstVulkanDevice *device, int frames, NstEngine **engine);

#endif

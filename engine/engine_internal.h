/* The engine's insides, for the library and its tests. */
#ifndef NST_ENGINE_INTERNAL_H
#define NST_ENGINE_INTERNAL_H

#include "async.h"
#include "network.h"
#include "pipelines.h"
#include "temporal.h"
#include "vk.h"

struct NstEngine {
    NstLog log;
    NstVk vk;
    NstPipelines pipes;
    NstNet net;
    NstTemporal temporal;
    NstAsync async;     /* frames between nst_engine_submit and _receive */
    int fp16;           /* tensors stored as fp16 */
    int fp16_arith;     /* and the heavy kernels multiply in fp16 */
};

#endif

/*
 * The pipelined frame path (nst_engine_submit / nst_engine_receive): two
 * frames at most between submission and return, each with its own host
 * buffer, command buffers and fence, so that the host packs and unpacks
 * one frame while the device runs the other.
 *
 * The frame's device work is that of nst_path_process, recorded into the
 * slot's command buffer between two copies: the packed frame from the
 * slot's host buffer into path->staging, which the frame shaders read and
 * write, and the result back. Everything else on the device (tensors,
 * temporal state, descriptor sets) is shared by the two frames: a barrier
 * at the start of each frame's commands orders it after the previous
 * frame's on the queue, so that the device still runs frames one after
 * the other, in order, as the temporal state needs.
 *
 * Uploads: where the device has a queue family for copies (NstVk
 * .has_transfer), the slot's host buffer is copied into a device-local one
 * on that queue, in a submission of its own that a semaphore hands to the
 * compute submission (with a queue family ownership transfer), so that the
 * upload of frame N+1 runs while frame N computes. Elsewhere (lavapipe: one
 * queue) the copy is the first command of the frame's one submission. The
 * environment variable NST_TRANSFER picks: "0" one submission always, "1"
 * two always (on the compute queue when there is no other: it runs the
 * semaphore and the barriers under the validation layer where only one
 * queue exists), unset or empty: two where the device has a family for
 * copies.
 */
#ifndef NST_ASYNC_H
#define NST_ASYNC_H

#include "frame/path.h"
#include "frame/temporal.h"
#include "gpu/vk.h"

typedef struct NstAsyncSlot {
    NstFrame *frame;        /* the caller's; written at receive */
    float strength;         /* 0: passes as it is, nothing on the device */
    int submitted;          /* its fence will signal */
    int waited;             /* its fence signalled (host buffer holds the result) */
    int profiled;           /* its commands carry the profiler's timestamps */
    int status;             /* of the wait, once waited */
    NstFrameLayout layout;  /* of frame, as packed */
    NstBuffer host;         /* the packed frame, then the result */
    NstBuffer upload;       /* device-local copy of host (two submissions) */
    NstBuffer result;       /* the result (two submissions; else host) */
    VkCommandBuffer cmd;    /* compute queue */
    VkCommandBuffer xfer;   /* upload queue (two submissions) */
    VkFence fence;          /* the compute submission done */
    VkSemaphore uploaded;   /* the upload submission done */
} NstAsyncSlot;

typedef struct NstAsync {
    int ready;              /* pools, command buffers and sync objects made */
    int two;                /* uploads in a submission of their own */
    uint32_t xfer_family;   /* the upload submission's family and queue */
    VkQueue xfer_queue;
    VkCommandPool pool, xfer_pool;
    NstAsyncSlot slot[NST_ENGINE_DEPTH];
    int head, count;        /* the oldest pending slot; frames pending */
    int broken;             /* an error after which no slot can be reused */
} NstAsync;

/* Queues f (in place; the caller keeps it valid until received). t: the
 * temporal state when smoothing, else NULL. Fails with NST_ERR_AGAIN when
 * NST_ENGINE_DEPTH frames are pending. strength 0 queues the frame as it is. */
int  nst_async_submit(NstAsync *a, NstPath *path, NstTemporal *t, NstFrame *f,
                      float strength);
/* Waits for the oldest pending frame and unpacks it into its frame, which
 * *f returns even on failure; NST_ERR_AGAIN when none is pending. */
int  nst_async_receive(NstAsync *a, NstPath *path, NstTemporal *t, NstFrame **f);
/* Waits until the device has finished every submitted frame (they stay
 * pending): before anything they use is replaced or freed. */
int  nst_async_idle(NstAsync *a, NstPath *path, NstTemporal *t);
/* Drops pending frames (their pixels are left as they were) and frees;
 * the device must be idle (nst_engine_free waits for it: a frame given up
 * on for a timeout may still be running). */
void nst_async_free(NstAsync *a, NstVk *vk);

#endif

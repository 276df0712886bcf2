/* The pipelined frame path: slots, uploads, submission and return. */
#include <stdlib.h>
#include <string.h>

#include "async.h"
#include "frame/frame.h"

/* NST_TRANSFER: 0 or 1 forces one or two submissions per frame; -1 auto. */
static int transfer_mode(void)
{
    const char *v = getenv("NST_TRANSFER");

    if (!v || !*v)
        return -1;
    return strcmp(v, "0") != 0;
}

static void free_objects(NstAsync *a, NstVk *vk)
{
    for (int i = 0; i < NST_ENGINE_DEPTH; i++) {
        NstAsyncSlot *s = &a->slot[i];
        nst_vk_buffer_destroy(vk, &s->host);
        nst_vk_buffer_destroy(vk, &s->upload);
        nst_vk_buffer_destroy(vk, &s->result);
        if (s->fence)
            vkDestroyFence(vk->device, s->fence, NULL);
        if (s->uploaded)
            vkDestroySemaphore(vk->device, s->uploaded, NULL);
        s->fence = VK_NULL_HANDLE;
        s->uploaded = VK_NULL_HANDLE;
        s->cmd = s->xfer = VK_NULL_HANDLE; /* freed with their pools */
    }
    if (a->pool)
        vkDestroyCommandPool(vk->device, a->pool, NULL);
    if (a->xfer_pool)
        vkDestroyCommandPool(vk->device, a->xfer_pool, NULL);
    a->pool = a->xfer_pool = VK_NULL_HANDLE;
    a->ready = 0;
}

static int make_pool(NstVk *vk, uint32_t family, VkCommandPool *pool,
                     VkCommandBuffer cmds[NST_ENGINE_DEPTH])
{
    VkCommandPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = family,
    };
    VkCommandBufferAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = NST_ENGINE_DEPTH,
    };
    int ret;

    if ((ret = nst_vk_check(vk, vkCreateCommandPool(vk->device, &info, NULL, pool),
                            "vkCreateCommandPool")) < 0)
        return ret;
    alloc.commandPool = *pool;
    return nst_vk_check(vk, vkAllocateCommandBuffers(vk->device, &alloc, cmds),
                        "vkAllocateCommandBuffers");
}

/* Made at the first frame that needs the device, so that an engine used
 * synchronously only holds none of it. */
static int setup(NstAsync *a, NstVk *vk)
{
    VkFenceCreateInfo fence = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    VkSemaphoreCreateInfo sem = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
    VkCommandBuffer cmds[NST_ENGINE_DEPTH] = { 0 }, xfers[NST_ENGINE_DEPTH] = { 0 };
    int mode = transfer_mode(), ret;

    a->two = mode < 0 ? vk->has_transfer : mode;
    a->xfer_family = vk->has_transfer ? vk->transfer_family : vk->queue_family;
    a->xfer_queue = vk->has_transfer ? vk->transfer_queue : vk->queue;
    if ((ret = make_pool(vk, vk->queue_family, &a->pool, cmds)) < 0 ||
        (a->two && (ret = make_pool(vk, a->xfer_family, &a->xfer_pool, xfers)) < 0))
        goto fail;
    for (int i = 0; i < NST_ENGINE_DEPTH; i++) {
        NstAsyncSlot *s = &a->slot[i];
        s->cmd = cmds[i];
        s->xfer = xfers[i];
        if ((ret = nst_vk_check(vk, vkCreateFence(vk->device, &fence, NULL, &s->fence),
                                "vkCreateFence")) < 0 ||
            (a->two && (ret = nst_vk_check(vk, vkCreateSemaphore(vk->device, &sem, NULL,
                                                                 &s->uploaded),
                                           "vkCreateSemaphore")) < 0))
            goto fail;
    }
    a->ready = 1;
    if (a->two)
        nst_log(vk->log, NST_LOG_INFO, "pipelined frames: uploads on queue family %u%s",
                a->xfer_family, vk->has_transfer ? "" : ", the compute queue's (NST_TRANSFER=1)");
    else
        nst_log(vk->log, NST_LOG_INFO, "pipelined frames: uploads on the compute queue");
    return NST_OK;
fail:
    free_objects(a, vk);
    return ret;
}

/* A slot's buffers hold the largest frame it has had: size changes are
 * rare, and a stream that alternates does not reallocate every frame. */
static int slot_buffers(NstAsync *a, NstVk *vk, NstAsyncSlot *s, VkDeviceSize size)
{
    int ret;

    if (s->host.size >= size)
        return NST_OK;
    nst_vk_buffer_destroy(vk, &s->host);
    nst_vk_buffer_destroy(vk, &s->upload);
    nst_vk_buffer_destroy(vk, &s->result);
    /* With two submissions each buffer is used by one queue family only,
     * but upload, which passes from the copy queue's to the compute
     * queue's by an ownership transfer: the result comes back in a buffer
     * of its own rather than through host, which the copy queue reads. */
    if ((ret = nst_vk_buffer_create(vk, &s->host, size, NST_BUF_HOST | NST_BUF_COPY)) < 0 ||
        (a->two &&
         ((ret = nst_vk_buffer_create(vk, &s->upload, size, NST_BUF_COPY)) < 0 ||
          (ret = nst_vk_buffer_create(vk, &s->result, size, NST_BUF_HOST | NST_BUF_COPY)) < 0))) {
        nst_vk_buffer_destroy(vk, &s->host);
        nst_vk_buffer_destroy(vk, &s->upload);
        nst_vk_buffer_destroy(vk, &s->result);
        return ret;
    }
    return NST_OK;
}

/* Orders this frame's commands after everything before them on the queue,
 * the previous frame's included (a barrier's first scope reaches into
 * earlier submissions): that frame may still read the tensors, the
 * temporal state and path->staging this one is about to overwrite. */
static void frame_barrier(VkCommandBuffer cmd)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
                                  VK_PIPELINE_STAGE_TRANSFER_BIT;

    vkCmdPipelineBarrier(cmd, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* The release (on the copy queue) or acquire (on the compute queue) half
 * of upload's ownership transfer; a plain barrier when both queues are of
 * one family (NST_TRANSFER=1 on a device with one). */
static void upload_barrier(NstAsync *a, NstVk *vk, VkCommandBuffer cmd,
                           const NstBuffer *upload, int release)
{
    int moves = a->xfer_family != vk->queue_family;
    VkBufferMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
        .srcAccessMask = release ? VK_ACCESS_TRANSFER_WRITE_BIT : 0,
        .dstAccessMask = release ? 0 : VK_ACCESS_TRANSFER_READ_BIT,
        .srcQueueFamilyIndex = moves ? a->xfer_family : VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = moves ? vk->queue_family : VK_QUEUE_FAMILY_IGNORED,
        .buffer = upload->buffer,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };

    vkCmdPipelineBarrier(cmd,
                         release ? VK_PIPELINE_STAGE_TRANSFER_BIT : VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                         release ? VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT : VK_PIPELINE_STAGE_TRANSFER_BIT,
                         0, 0, NULL, 1, &b, 0, NULL);
}

static int begin(NstVk *vk, VkCommandBuffer cmd)
{
    VkCommandBufferBeginInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    int ret = nst_vk_check(vk, vkResetCommandBuffer(cmd, 0), "vkResetCommandBuffer");

    return ret < 0 ? ret : nst_vk_check(vk, vkBeginCommandBuffer(cmd, &info),
                                        "vkBeginCommandBuffer");
}

static int record(NstAsync *a, NstPath *path, NstTemporal *t, NstAsyncSlot *s,
                  const NstFrame *f, float strength)
{
    NstVk *vk = path->gpu->vk;
    VkBufferCopy whole = { 0, 0, s->layout.size };
    const NstBuffer *in = a->two ? &s->upload : &s->host;
    const NstBuffer *out = a->two ? &s->result : &s->host;
    VkCommandBuffer saved;
    int ret;

    if (a->two) {
        if ((ret = begin(vk, s->xfer)) < 0)
            return ret;
        vkCmdCopyBuffer(s->xfer, s->host.buffer, s->upload.buffer, 1, &whole);
        upload_barrier(a, vk, s->xfer, &s->upload, 1);
        if ((ret = nst_vk_check(vk, vkEndCommandBuffer(s->xfer), "vkEndCommandBuffer")) < 0)
            return ret;
    }
    if ((ret = begin(vk, s->cmd)) < 0)
        return ret;
    /* Everything below records into vk->cmd: point it at this slot's
     * command buffer meanwhile (the engine's own stays free for the
     * set-up work of planning, which waits for itself). */
    saved = vk->cmd;
    vk->cmd = s->cmd;
    frame_barrier(s->cmd);
    if (a->two)
        upload_barrier(a, vk, s->cmd, &s->upload, 0);
    vkCmdCopyBuffer(s->cmd, in->buffer, path->staging.buffer, 1, &whole);
    nst_vk_barrier(vk);
    nst_path_record(path, f, strength, t);
    /* the frame steps' barrier made their writes visible to this copy;
     * this one's makes the copy visible to the host after the fence */
    vkCmdCopyBuffer(s->cmd, path->staging.buffer, out->buffer, 1, &whole);
    nst_vk_barrier(vk);
    vk->cmd = saved;
    return nst_vk_check(vk, vkEndCommandBuffer(s->cmd), "vkEndCommandBuffer");
}

static int submit(NstAsync *a, NstVk *vk, NstAsyncSlot *s)
{
    VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkSubmitInfo up = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &s->xfer,
        .signalSemaphoreCount = 1,
        .pSignalSemaphores = &s->uploaded,
    };
    VkSubmitInfo run = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .waitSemaphoreCount = a->two ? 1 : 0,
        .pWaitSemaphores = &s->uploaded,
        .pWaitDstStageMask = &wait_stage,
        .commandBufferCount = 1,
        .pCommandBuffers = &s->cmd,
    };
    int ret;

    if ((ret = nst_vk_check(vk, vkResetFences(vk->device, 1, &s->fence), "vkResetFences")) < 0)
        return ret;
    if (a->two &&
        (ret = nst_vk_check(vk, nst_vk_queue_submit(vk, a->xfer_queue, &up, VK_NULL_HANDLE, 0),
                            "vkQueueSubmit (upload)")) < 0)
        return ret;
    if ((ret = nst_vk_check(vk, nst_vk_queue_submit(vk, vk->queue, &run, s->fence, 1),
                            "vkQueueSubmit")) < 0 && a->two) {
        /* The upload is in flight and its semaphore will be signalled
         * with nothing to wait for it: the slot cannot be used again. */
        a->broken = ret;
    }
    return ret;
}

/* Waits for a slot's fence, once; collects its profile. */
static int wait_slot(NstAsync *a, NstPath *path, NstTemporal *t, NstAsyncSlot *s)
{
    NstVk *vk = path->gpu->vk;
    int ret;

    if (!s->submitted || s->waited)
        return s->status;
    ret = nst_vk_wait_fence(vk, s->fence, 1);
    s->waited = 1;
    if (ret < 0) {
        /* the device may still be at it: nothing of the slots is reused */
        a->broken = ret;
        if (t)
            t->valid = 0; /* the state is half-updated at best */
        if (s->profiled)
            path->gpu->prof.active = 0;
    } else if (s->profiled) {
        ret = nst_dispatch_profile_done(path->gpu);
    }
    s->profiled = 0;
    s->status = ret;
    return ret;
}

int nst_async_idle(NstAsync *a, NstPath *path, NstTemporal *t)
{
    int ret = NST_OK;

    for (int i = 0; i < a->count; i++) {
        int r = wait_slot(a, path, t, &a->slot[(a->head + i) % NST_ENGINE_DEPTH]);
        if (r < 0 && ret >= 0)
            ret = r;
    }
    return ret;
}

int nst_async_submit(NstAsync *a, NstPath *path, NstTemporal *t, NstFrame *f, float strength)
{
    NstAsyncSlot *s;
    int ret;

    if (a->count == NST_ENGINE_DEPTH)
        return NST_ERR_AGAIN;
    if (a->broken)
        return a->broken;
    s = &a->slot[(a->head + a->count) % NST_ENGINE_DEPTH];
    s->frame = f;
    s->strength = strength;
    s->submitted = s->waited = s->profiled = 0;
    s->status = NST_OK;
    if (strength == 0.0f) { /* returned as it is, in its turn */
        a->count++;
        return NST_OK;
    }
    if (!a->ready && (ret = setup(a, path->gpu->vk)) < 0)
        return ret;
    /* A new plan replaces the buffers that the frames on the device use;
     * a profiled frame's timestamps must be read before the next frame's
     * commands reset them. Either way the device finishes first (the
     * frames stay pending). */
    path->image_frames = 0;
    if ((!nst_path_planned_for(path, f->format, f->width, f->height) || path->gpu->prof.enabled) &&
        (ret = nst_async_idle(a, path, t)) < 0)
        return ret;
    if ((ret = nst_path_setup(path, f, strength, t)) < 0)
        return ret;
    s->layout = path->frame;
    if ((ret = slot_buffers(a, path->gpu->vk, s, s->layout.size)) < 0)
        return ret;
    nst_frame_pack(&s->layout, f, s->host.mapped);
    if ((ret = record(a, path, t, s, f, strength)) < 0 ||
        (ret = submit(a, path->gpu->vk, s)) < 0) {
        path->gpu->prof.active = 0;
        return ret;
    }
    s->submitted = 1;
    s->profiled = path->gpu->prof.active;
    /* The next frame is recorded before this one has run: it follows this
     * one, whose output the state will hold by the time the device reaches
     * it (frames run in order). A failure on the way clears it again. */
    if (t)
        t->valid = 1;
    a->count++;
    return NST_OK;
}

int nst_async_receive(NstAsync *a, NstPath *path, NstTemporal *t, NstFrame **f)
{
    NstAsyncSlot *s;
    int ret = NST_OK;

    if (!a->count) {
        *f = NULL;
        return NST_ERR_AGAIN;
    }
    s = &a->slot[a->head];
    *f = s->frame;
    if (s->strength != 0.0f && (ret = wait_slot(a, path, t, s)) >= 0)
        nst_frame_unpack(&s->layout, (a->two ? &s->result : &s->host)->mapped, s->frame);
    s->frame = NULL;
    s->submitted = 0;
    a->head = (a->head + 1) % NST_ENGINE_DEPTH;
    a->count--;
    return ret;
}

void nst_async_free(NstAsync *a, NstVk *vk)
{
    if (vk->device)
        free_objects(a, vk);
    memset(a, 0, sizeof(*a));
}

/* The command buffer recorded, submitted and waited for; VkResult checks. */
#include "gpu/vk.h"
#include "nst.h"

int nst_vk_check(NstVk *vk, VkResult r, const char *what)
{
    if (r == VK_SUCCESS)
        return NST_OK;
    nst_log(vk->log, NST_LOG_ERROR, "%s failed (VkResult %d)", what, (int)r);
    if (r == VK_ERROR_DEVICE_LOST)
        vk->lost = 1;
    switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_FRAGMENTED_POOL:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
        return NST_ERR_NOMEM;
    default:
        return NST_ERR_DEVICE;
    }
}

int nst_vk_alive(NstVk *vk)
{
    if (!vk->lost)
        return NST_OK;
    nst_log(vk->log, NST_LOG_ERROR, "the Vulkan device was lost at an earlier "
            "frame: this engine cannot run more (free it, create another)");
    return NST_ERR_DEVICE;
}

VkResult nst_vk_queue_submit(NstVk *vk, VkQueue queue, const VkSubmitInfo *submit,
                             VkFence fence, int frame)
{
    VkResult r;

    if (frame && nst_fault(&vk->faults, NST_FAULT_SUBMIT, vk->log))
        return VK_ERROR_DEVICE_LOST;
    if (vk->lock_queue)
        vk->lock_queue(vk->lock_opaque, vk->queue_family, vk->queue_index);
    r = vkQueueSubmit(queue, 1, submit, fence);
    if (vk->unlock_queue)
        vk->unlock_queue(vk->lock_opaque, vk->queue_family, vk->queue_index);
    return r;
}

int nst_vk_wait_fence(NstVk *vk, VkFence fence, int frame)
{
    VkResult r = frame && nst_fault(&vk->faults, NST_FAULT_HANG, vk->log) ? VK_TIMEOUT :
                 vkWaitForFences(vk->device, 1, &fence, VK_TRUE,
                                 vk->timeout_s * 1000000000ull);

    if (r == VK_TIMEOUT) {
        /* The work may still be running, or never end: nothing it uses
         * can be reused, so the device is as good as lost. */
        vk->lost = 1;
        nst_log(vk->log, NST_LOG_ERROR, "the Vulkan device did not finish a "
                "frame within %u s", vk->timeout_s);
        return NST_ERR_DEVICE;
    }
    return nst_vk_check(vk, r, "vkWaitForFences");
}

void nst_vk_idle(NstVk *vk)
{
    if (!vk->device)
        return;
    if (!vk->external) {
        vkDeviceWaitIdle(vk->device);
        return;
    }
    /* Others use the device: wait for the one queue libnst used, which
     * needs that queue to itself meanwhile. */
    if (vk->lock_queue)
        vk->lock_queue(vk->lock_opaque, vk->queue_family, vk->queue_index);
    vkQueueWaitIdle(vk->queue);
    if (vk->unlock_queue)
        vk->unlock_queue(vk->lock_opaque, vk->queue_family, vk->queue_index);
}

int nst_vk_begin(NstVk *vk)
{
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VkResult r = vkResetCommandBuffer(vk->cmd, 0);

    if (r != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkResetCommandBuffer");
    return nst_vk_check(vk, vkBeginCommandBuffer(vk->cmd, &begin),
                        "vkBeginCommandBuffer");
}

static int submit_wait(NstVk *vk, int frame, const NstVkSync *sync, int *submitted)
{
    VkPipelineStageFlags stages[NST_VK_MAX_SEMS];
    VkTimelineSemaphoreSubmitInfo timeline = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
    };
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &vk->cmd,
    };
    VkResult r = vkEndCommandBuffer(vk->cmd);

    *submitted = 0;
    if (r != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkEndCommandBuffer");
    if (sync && (sync->n_wait || sync->n_signal)) {
        for (uint32_t i = 0; i < sync->n_wait; i++)
            stages[i] = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
        timeline.waitSemaphoreValueCount = sync->n_wait;
        timeline.pWaitSemaphoreValues = sync->wait_value;
        timeline.signalSemaphoreValueCount = sync->n_signal;
        timeline.pSignalSemaphoreValues = sync->signal_value;
        submit.pNext = &timeline;
        submit.waitSemaphoreCount = sync->n_wait;
        submit.pWaitSemaphores = sync->wait;
        submit.pWaitDstStageMask = stages;
        submit.signalSemaphoreCount = sync->n_signal;
        submit.pSignalSemaphores = sync->signal;
    }
    if ((r = vkResetFences(vk->device, 1, &vk->fence)) != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkResetFences");
    if ((r = nst_vk_queue_submit(vk, vk->queue, &submit, vk->fence, frame)) != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkQueueSubmit");
    *submitted = 1;
    /* Bounded wait: a lost or hung device must not hang the caller. */
    return nst_vk_wait_fence(vk, vk->fence, frame);
}

int nst_vk_submit_wait(NstVk *vk)
{
    int submitted;
    return submit_wait(vk, 0, NULL, &submitted);
}

int nst_vk_submit_wait_frame(NstVk *vk)
{
    int submitted;
    return submit_wait(vk, 1, NULL, &submitted);
}

int nst_vk_submit_wait_sync(NstVk *vk, const NstVkSync *sync, int *submitted)
{
    return submit_wait(vk, 1, sync, submitted);
}

void nst_vk_barrier(NstVk *vk)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT,
    };
    vkCmdPipelineBarrier(vk->cmd,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT |
                         VK_PIPELINE_STAGE_HOST_BIT,
                         0, 1, &mb, 0, NULL, 0, NULL);
}

/* Device memory: memory types, buffers and their texel views. */
#include <string.h>

#include "gpu/vk.h"
#include "nst.h"

static int memory_type(const NstVk *vk, uint32_t bits,
                       VkMemoryPropertyFlags need, VkMemoryPropertyFlags prefer)
{
    int fallback = -1;

    for (uint32_t i = 0; i < vk->mem_props.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = vk->mem_props.memoryTypes[i].propertyFlags;
        if (!(bits & (1u << i)) || (f & need) != need)
            continue;
        if ((f & prefer) == prefer)
            return (int)i;
        if (fallback < 0)
            fallback = (int)i;
    }
    return fallback;
}

static int create_view(NstVk *vk, NstBuffer *b, VkBufferView *view)
{
    VkBufferViewCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = b->buffer,
        .format = b->format ? b->format : VK_FORMAT_R32G32B32A32_SFLOAT,
        .offset = b->offset,
        .range = b->borrowed ? b->size / 16 * 16 : VK_WHOLE_SIZE,
    };
    return nst_vk_check(vk, vkCreateBufferView(vk->device, &info, NULL, view),
                        "vkCreateBufferView");
}

int nst_vk_buffer_create(NstVk *vk, NstBuffer *b, VkDeviceSize size,
                         unsigned flags)
{
    return nst_vk_buffer_create_format(vk, b, size, flags, VK_FORMAT_UNDEFINED);
}

int nst_vk_buffer_create_format(NstVk *vk, NstBuffer *b, VkDeviceSize size,
                                unsigned flags, VkFormat format)
{
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkMemoryRequirements req;
    VkMemoryAllocateInfo alloc = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO };
    VkMemoryPropertyFlags need = 0, prefer = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    int type, ret;

    memset(b, 0, sizeof(*b));
    if (!size || size > vk->max_allocation) {
        nst_log(vk->log, NST_LOG_ERROR, "buffer of %llu bytes exceeds the "
                "device's largest allocation (%llu bytes)",
                (unsigned long long)size, (unsigned long long)vk->max_allocation);
        return NST_ERR_LIMITS;
    }
    if (flags & NST_BUF_TENSOR)
        info.usage |= VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                      VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT;
    if (flags & NST_BUF_STORAGE)
        info.usage |= VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    if (flags & NST_BUF_COPY)
        info.usage |= VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    if (flags & NST_BUF_HOST) {
        need = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        prefer = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    }

    if ((ret = nst_vk_check(vk, vkCreateBuffer(vk->device, &info, NULL, &b->buffer),
                            "vkCreateBuffer")) < 0)
        goto fail;
    vkGetBufferMemoryRequirements(vk->device, b->buffer, &req);
    type = memory_type(vk, req.memoryTypeBits, need, prefer);
    if (type < 0) {
        nst_log(vk->log, NST_LOG_ERROR, "no suitable Vulkan memory type");
        ret = NST_ERR_DEVICE;
        goto fail;
    }
    alloc.allocationSize = req.size;
    alloc.memoryTypeIndex = (uint32_t)type;
    if ((ret = nst_vk_check(vk, nst_fault(&vk->faults, NST_FAULT_ALLOC, vk->log) ?
                                VK_ERROR_OUT_OF_DEVICE_MEMORY :
                                vkAllocateMemory(vk->device, &alloc, NULL, &b->memory),
                            "vkAllocateMemory")) < 0 ||
        (ret = nst_vk_check(vk, vkBindBufferMemory(vk->device, b->buffer, b->memory, 0),
                            "vkBindBufferMemory")) < 0)
        goto fail;
    b->size = size;
    b->format = format;
    b->allocated = alloc.allocationSize;
    vk->allocated += b->allocated;
    if (vk->allocated > vk->peak)
        vk->peak = vk->allocated;
    if ((flags & NST_BUF_HOST) &&
        (ret = nst_vk_check(vk, vkMapMemory(vk->device, b->memory, 0, VK_WHOLE_SIZE,
                                            0, &b->mapped), "vkMapMemory")) < 0)
        goto fail;
    if ((flags & NST_BUF_TENSOR) && !(flags & NST_BUF_ARENA) &&
        ((ret = create_view(vk, b, &b->ro)) < 0 || (ret = create_view(vk, b, &b->rw)) < 0))
        goto fail;
    return NST_OK;
fail:
    nst_vk_buffer_destroy(vk, b);
    return ret;
}

VkDeviceSize nst_vk_view_alignment(const NstVk *vk)
{
    VkDeviceSize a = vk->props.limits.minTexelBufferOffsetAlignment;

    return a > 256 ? a : 256;
}

int nst_vk_buffer_view(NstVk *vk, const NstBuffer *owner, VkDeviceSize offset,
                       VkDeviceSize size, VkFormat format, NstBuffer *b)
{
    int ret;

    memset(b, 0, sizeof(*b));
    if (offset % nst_vk_view_alignment(vk) || size < 16 || offset + size > owner->size)
        return NST_ERR_INVALID;
    b->buffer = owner->buffer;
    b->offset = offset;
    b->size = size;
    b->borrowed = 1;
    b->format = format;
    if ((ret = create_view(vk, b, &b->ro)) < 0 || (ret = create_view(vk, b, &b->rw)) < 0)
        nst_vk_buffer_destroy(vk, b);
    return ret;
}

void nst_vk_buffer_destroy(NstVk *vk, NstBuffer *b)
{
    if (b->ro)
        vkDestroyBufferView(vk->device, b->ro, NULL);
    if (b->rw)
        vkDestroyBufferView(vk->device, b->rw, NULL);
    if (b->borrowed) {
        memset(b, 0, sizeof(*b));
        return;
    }
    if (b->buffer)
        vkDestroyBuffer(vk->device, b->buffer, NULL);
    if (b->memory)
        vkFreeMemory(vk->device, b->memory, NULL); /* unmaps too */
    vk->allocated -= b->allocated;
    memset(b, 0, sizeof(*b));
}

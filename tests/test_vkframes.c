/*
 * Frames in Vulkan images (nst_engine_create_on_device,
 * nst_engine_process_vulkan) on a device this test makes itself, as FFmpeg
 * makes its own: Vulkan 1.2 with timeline semaphores, the validation layer
 * on when NST_VALIDATION=1, and every message of it counted. Real frames
 * of a clip, uploaded into images the way FFmpeg's hwupload leaves them
 * (transfer-destination layout, a timeline semaphore signalled at 1), are
 * restyled in place and into other images, in every pixel format that has
 * such frames (bgra in a B8G8R8A8 image, and in an R8G8B8A8 one as FFmpeg 9
 * keeps it), and must come back as nst_engine_process makes the same
 * frames in memory on an engine of its own: bit for bit, temporal
 * smoothing included. Also checked: the semaphores and layouts the engine
 * leaves, strength 0, frames refused with their sync untouched, and the
 * device memory given back.
 */
#include <vulkan/vulkan.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frames.h"
#include "photos.h"

#define N 3 /* frames of the clip */
#define W 67
#define H 45

typedef struct Dev {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    uint32_t family;
    VkQueue queue;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkPhysicalDeviceVulkan12Features f12;
    VkPhysicalDeviceFeatures2 features;
    unsigned messages;
    int locks, unlocks;
} Dev;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *d,
                                                 void *opaque)
{
    Dev *dev = opaque;
    dev->messages++;
    printf("# validation: %s\n", d && d->pMessage ? d->pMessage : "?");
    return VK_FALSE;
}

static void lock_queue(void *opaque, uint32_t family, uint32_t index)
{
    ((Dev *)opaque)->locks++;
}

static void unlock_queue(void *opaque, uint32_t family, uint32_t index)
{
    ((Dev *)opaque)->unlocks++;
}

static int dev_open(Dev *d, int validation)
{
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "test_vkframes",
        .apiVersion = VK_API_VERSION_1_2,
    };
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = d,
    };
    VkInstanceCreateInfo ii = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1 : 0,
        .ppEnabledLayerNames = &layer,
        .enabledExtensionCount = validation ? 1 : 0,
        .ppEnabledExtensionNames = &ext,
    };
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo di = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &d->features,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qi,
    };
    VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    VkPhysicalDevice devs[8];
    uint32_t n = 8;

    if (vkCreateInstance(&ii, NULL, &d->instance) != VK_SUCCESS)
        return -1;
    if (validation) {
        PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(d->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create || create(d->instance, &dbg, NULL, &d->messenger) != VK_SUCCESS)
            return -1;
    }
    if (vkEnumeratePhysicalDevices(d->instance, &n, devs) < 0 || !n)
        return -1;
    d->phys = devs[0];
    {
        VkQueueFamilyProperties q[16];
        uint32_t nq = 16;
        vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &nq, q);
        for (d->family = 0; d->family < nq; d->family++)
            if (q[d->family].queueFlags & VK_QUEUE_COMPUTE_BIT)
                break;
        if (d->family == nq)
            return -1;
    }
    /* what FFmpeg's device has and libnst's frames rely on */
    d->f12 = (VkPhysicalDeviceVulkan12Features){
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .timelineSemaphore = VK_TRUE,
    };
    d->features = (VkPhysicalDeviceFeatures2){
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &d->f12,
    };
    qi.queueFamilyIndex = d->family;
    if (vkCreateDevice(d->phys, &di, NULL, &d->device) != VK_SUCCESS)
        return -1;
    vkGetDeviceQueue(d->device, d->family, 0, &d->queue);
    VkCommandPoolCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = d->family,
    };
    if (vkCreateCommandPool(d->device, &pi, NULL, &d->pool) != VK_SUCCESS)
        return -1;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = d->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    if (vkAllocateCommandBuffers(d->device, &ai, &d->cmd) != VK_SUCCESS ||
        vkCreateFence(d->device, &fi, NULL, &d->fence) != VK_SUCCESS)
        return -1;
    return 0;
}

static void dev_close(Dev *d)
{
    if (d->device) {
        vkDeviceWaitIdle(d->device);
        if (d->fence)
            vkDestroyFence(d->device, d->fence, NULL);
        if (d->pool)
            vkDestroyCommandPool(d->device, d->pool, NULL);
        vkDestroyDevice(d->device, NULL);
    }
    if (d->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(d->instance, "vkDestroyDebugUtilsMessengerEXT");
        destroy(d->instance, d->messenger, NULL);
    }
    if (d->instance)
        vkDestroyInstance(d->instance, NULL);
}

static uint32_t memory_type(const Dev *d, uint32_t bits, VkMemoryPropertyFlags want)
{
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(d->phys, &mp);
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
            return i;
    return 0;
}

/* A frame in images of d, as FFmpeg's hwupload makes one. */
typedef struct ImgFrame {
    NstVulkanFrame v;
    VkDeviceMemory mem[3];
} ImgFrame;

static int plane_dims(NstPixelFormat fmt, int p, int *w, int *h)
{
    int cw = (W + 1) / 2, ch = (H + 1) / 2;
    *w = p && fmt != NST_PIX_YUV444P ? cw : W;
    *h = p && fmt != NST_PIX_YUV444P ? ch : H;
    return 0;
}

/* bgra in R8G8B8A8 images, as FFmpeg 9 keeps it */
static int bgra_in_rgba;

static VkFormat image_format(NstPixelFormat fmt, int p, int single)
{
    switch (fmt) {
    case NST_PIX_RGBA: return VK_FORMAT_R8G8B8A8_UNORM;
    case NST_PIX_BGRA: return bgra_in_rgba ? VK_FORMAT_R8G8B8A8_UNORM : VK_FORMAT_B8G8R8A8_UNORM;
    case NST_PIX_YUV420P: return single ? VK_FORMAT_G8_B8_R8_3PLANE_420_UNORM : VK_FORMAT_R8_UNORM;
    case NST_PIX_YUV444P: return single ? VK_FORMAT_G8_B8_R8_3PLANE_444_UNORM : VK_FORMAT_R8_UNORM;
    case NST_PIX_NV12:
        return single ? VK_FORMAT_G8_B8R8_2PLANE_420_UNORM :
               p ? VK_FORMAT_R8G8_UNORM : VK_FORMAT_R8_UNORM;
    default: return VK_FORMAT_UNDEFINED;
    }
}

static int n_planes(NstPixelFormat fmt)
{
    return fmt == NST_PIX_NV12 ? 2 : fmt == NST_PIX_YUV420P || fmt == NST_PIX_YUV444P ? 3 : 1;
}

static int single_supported(const Dev *d, VkFormat f)
{
    VkImageFormatProperties p;
    return vkGetPhysicalDeviceImageFormatProperties(
               d->phys, f, VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL,
               VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, 0, &p) ==
           VK_SUCCESS;
}

static void img_free(const Dev *d, ImgFrame *f)
{
    for (int i = 0; i < 3; i++) {
        if (f->v.image[i])
            vkDestroyImage(d->device, f->v.image[i], NULL);
        if (f->mem[i])
            vkFreeMemory(d->device, f->mem[i], NULL);
        if (f->v.sem[i])
            vkDestroySemaphore(d->device, f->v.sem[i], NULL);
    }
    memset(f, 0, sizeof(*f));
}

static int img_alloc(const Dev *d, ImgFrame *f, NstPixelFormat fmt, int single)
{
    int np = n_planes(fmt);

    memset(f, 0, sizeof(*f));
    f->v.format = fmt;
    f->v.width = W;
    f->v.height = H;
    f->v.n_images = single ? 1 : np;
    for (int i = 0; i < f->v.n_images; i++) {
        int w = W, h = H;
        if (!single)
            plane_dims(fmt, i, &w, &h);
        VkImageCreateInfo ci = {
            .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
            .imageType = VK_IMAGE_TYPE_2D,
            .format = image_format(fmt, i, single),
            /* multi-planar 4:2:0 images have even sizes */
            .extent = { single && np > 1 ? (uint32_t)(W + 1) & ~1u : (uint32_t)w,
                        single && np > 1 ? (uint32_t)(H + 1) & ~1u : (uint32_t)h, 1 },
            .mipLevels = 1,
            .arrayLayers = 1,
            .samples = VK_SAMPLE_COUNT_1_BIT,
            .tiling = VK_IMAGE_TILING_OPTIMAL,
            .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
            .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        };
        VkSemaphoreTypeCreateInfo st = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
            .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
        };
        VkSemaphoreCreateInfo si = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &st };
        VkMemoryRequirements req;
        f->v.vk_format[i] = ci.format;
        f->v.layout[i] = VK_IMAGE_LAYOUT_UNDEFINED;
        f->v.queue_family[i] = VK_QUEUE_FAMILY_IGNORED;
        if (vkCreateImage(d->device, &ci, NULL, &f->v.image[i]) != VK_SUCCESS)
            goto fail;
        vkGetImageMemoryRequirements(d->device, f->v.image[i], &req);
        VkMemoryAllocateInfo mi = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
            .allocationSize = req.size,
            .memoryTypeIndex = memory_type(d, req.memoryTypeBits, 0),
        };
        if (vkAllocateMemory(d->device, &mi, NULL, &f->mem[i]) != VK_SUCCESS ||
            vkBindImageMemory(d->device, f->v.image[i], f->mem[i], 0) != VK_SUCCESS ||
            vkCreateSemaphore(d->device, &si, NULL, &f->v.sem[i]) != VK_SUCCESS)
            goto fail;
    }
    return 0;
fail:
    img_free(d, f);
    return -1;
}

/* Records the copies between the frame's images and a packed host copy of
 * its planes (rows of exactly row_bytes). */
static void copies(const Dev *d, const ImgFrame *f, VkBuffer buf, int to_image)
{
    int np = n_planes(f->v.format);
    VkDeviceSize off = 0;
    static const VkImageAspectFlags planes[3] = {
        VK_IMAGE_ASPECT_PLANE_0_BIT, VK_IMAGE_ASPECT_PLANE_1_BIT, VK_IMAGE_ASPECT_PLANE_2_BIT,
    };
    for (int p = 0; p < np; p++) {
        int w, h, img = f->v.n_images == 1 ? 0 : p;
        plane_dims(f->v.format, p, &w, &h);
        VkBufferImageCopy r = {
            .bufferOffset = off,
            .imageSubresource = { f->v.n_images == 1 && np > 1 ? planes[p]
                                                                : VK_IMAGE_ASPECT_COLOR_BIT,
                                  0, 0, 1 },
            .imageExtent = { (uint32_t)w, (uint32_t)h, 1 },
        };
        if (to_image)
            vkCmdCopyBufferToImage(d->cmd, buf, f->v.image[img],
                                   VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &r);
        else
            vkCmdCopyImageToBuffer(d->cmd, f->v.image[img],
                                   VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf, 1, &r);
        int texel = f->v.format == NST_PIX_RGBA || f->v.format == NST_PIX_BGRA ? 4 :
                    f->v.format == NST_PIX_NV12 && p ? 2 : 1;
        off += ((VkDeviceSize)w * h * texel + 3) & ~(VkDeviceSize)3; /* texel-aligned */
    }
}

/* Moves the frame between host pixels t and its images (upload 1), as
 * FFmpeg's hwupload and hwdownload do: waiting for each image's semaphore,
 * signalling it one higher, and leaving the layout recorded. */
static int transfer(Dev *d, ImgFrame *f, TestFrame *t, int upload)
{
    VkDeviceSize size = 0;
    int np = n_planes(f->v.format), ret = -1;
    VkBuffer buf = VK_NULL_HANDLE;
    VkDeviceMemory mem = VK_NULL_HANDLE;
    uint8_t *map;

    for (int p = 0; p < np; p++)
        size += ((VkDeviceSize)t->row_bytes[p] * t->rows[p] + 3) & ~(VkDeviceSize)3;
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
    };
    VkMemoryRequirements req;
    if (vkCreateBuffer(d->device, &bi, NULL, &buf) != VK_SUCCESS)
        return -1;
    vkGetBufferMemoryRequirements(d->device, buf, &req);
    VkMemoryAllocateInfo mi = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = memory_type(d, req.memoryTypeBits,
                                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT),
    };
    if (vkAllocateMemory(d->device, &mi, NULL, &mem) != VK_SUCCESS ||
        vkBindBufferMemory(d->device, buf, mem, 0) != VK_SUCCESS ||
        vkMapMemory(d->device, mem, 0, size, 0, (void **)&map) != VK_SUCCESS)
        goto end;
    if (upload)
        for (int p = 0, o = 0; p < np; p++, o = (o + 3) & ~3)
            for (int y = 0; y < t->rows[p]; y++, o += t->row_bytes[p])
                memcpy(map + o, tf_row(t, p, y), (size_t)t->row_bytes[p]);

    VkCommandBufferBeginInfo cb = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VkImageMemoryBarrier b[3];
    VkImageLayout to = upload ? VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL
                              : VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    VkPipelineStageFlags stages[3];
    uint64_t wait[3], signal[3];
    for (int i = 0; i < f->v.n_images; i++) {
        b[i] = (VkImageMemoryBarrier){
            .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
            .srcAccessMask = f->v.access[i],
            .dstAccessMask = upload ? VK_ACCESS_TRANSFER_WRITE_BIT : VK_ACCESS_TRANSFER_READ_BIT,
            .oldLayout = upload ? VK_IMAGE_LAYOUT_UNDEFINED : f->v.layout[i],
            .newLayout = to,
            .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .image = f->v.image[i],
            .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
        };
        stages[i] = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
        wait[i] = f->v.sem_value[i];
        signal[i] = f->v.sem_value[i] + 1;
    }
    vkResetCommandBuffer(d->cmd, 0);
    vkBeginCommandBuffer(d->cmd, &cb);
    vkCmdPipelineBarrier(d->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         0, 0, NULL, 0, NULL, (uint32_t)f->v.n_images, b);
    copies(d, f, buf, upload);
    if (!upload) {
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        };
        vkCmdPipelineBarrier(d->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                             0, 1, &mb, 0, NULL, 0, NULL);
    }
    vkEndCommandBuffer(d->cmd);
    VkTimelineSemaphoreSubmitInfo ts = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .waitSemaphoreValueCount = (uint32_t)f->v.n_images,
        .pWaitSemaphoreValues = wait,
        .signalSemaphoreValueCount = (uint32_t)f->v.n_images,
        .pSignalSemaphoreValues = signal,
    };
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .pNext = &ts,
        .waitSemaphoreCount = (uint32_t)f->v.n_images,
        .pWaitSemaphores = f->v.sem,
        .pWaitDstStageMask = stages,
        .commandBufferCount = 1,
        .pCommandBuffers = &d->cmd,
        .signalSemaphoreCount = (uint32_t)f->v.n_images,
        .pSignalSemaphores = f->v.sem,
    };
    vkResetFences(d->device, 1, &d->fence);
    if (vkQueueSubmit(d->queue, 1, &si, d->fence) != VK_SUCCESS ||
        vkWaitForFences(d->device, 1, &d->fence, VK_TRUE, 60000000000ull) != VK_SUCCESS)
        goto end;
    for (int i = 0; i < f->v.n_images; i++) {
        f->v.sem_value[i]++;
        f->v.layout[i] = to;
        f->v.access[i] = b[i].dstAccessMask;
    }
    if (!upload)
        for (int p = 0, o = 0; p < np; p++, o = (o + 3) & ~3)
            for (int y = 0; y < t->rows[p]; y++, o += t->row_bytes[p])
                memcpy(tf_row(t, p, y), map + o, (size_t)t->row_bytes[p]);
    ret = 0;
end:
    if (buf)
        vkDestroyBuffer(d->device, buf, NULL);
    if (mem)
        vkFreeMemory(d->device, mem, NULL);
    return ret;
}

static NstEngine *engine_on(Dev *d, const NstModel *m, float temporal)
{
    NstVulkanDevice vd = {
        .instance = d->instance,
        .physical_device = d->phys,
        .device = d->device,
        .queue_family = d->family,
        .features = &d->features,
        .lock_queue = lock_queue,
        .unlock_queue = unlock_queue,
        .opaque = d,
    };
    NstEngine *e = NULL;
    int ret = nst_engine_create_on_device(m, NULL, &vd, &e);

    if (ret < 0)
        check(0, "engine on the caller's device", "%s", nst_strerror(ret));
    else
        nst_engine_set_temporal(e, temporal);
    return e;
}

/* Does each semaphore reach what the frame says, and no more? (The
 * signal may land a moment after the engine's fence on some drivers.) */
static int sems_match(const Dev *d, const ImgFrame *f)
{
    for (int i = 0; i < f->v.n_images; i++) {
        VkSemaphoreWaitInfo wi = {
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
            .semaphoreCount = 1,
            .pSemaphores = &f->v.sem[i],
            .pValues = &f->v.sem_value[i],
        };
        uint64_t v = 0;
        if (vkWaitSemaphores(d->device, &wi, 10000000000ull) != VK_SUCCESS ||
            vkGetSemaphoreCounterValue(d->device, f->v.sem[i], &v) != VK_SUCCESS ||
            v != f->v.sem_value[i] || f->v.layout[i] != VK_IMAGE_LAYOUT_GENERAL)
            return 0;
    }
    return 1;
}

/* The clip's frames through images (in place, or into other images) and
 * through memory on an engine of its own: the same pixels. */
static void compare(Dev *d, const NstModel *m, NstPixelFormat fmt, int single, int in_place)
{
    NstEngine *ve = engine_on(d, m, 0.5f), *he = NULL;
    TestFrame clip[N], host, back;
    ImgFrame src = { 0 }, dst = { 0 };
    int worst = 0, ret = 0, sync = 1, untouched = 1, loaded = 0;
    char name[160];

    snprintf(name, sizeof(name), "%s in %s, %s = frames in memory", pix_names[fmt],
             fmt == NST_PIX_BGRA && bgra_in_rgba ? "an R8G8B8A8 image" :
             single ? "one image" : "an image per plane", in_place ? "in place" : "into others");
    if (!ve || nst_engine_create(m, NULL, &he) < 0 ||
        load_clip(fmt, W, H, N, clip) < 0) {
        check(0, name, "set-up failed (engine or clip)");
        goto end;
    }
    loaded = 1;
    nst_engine_set_temporal(he, 0.5f);
    if (img_alloc(d, &src, fmt, single) < 0 || (!in_place && img_alloc(d, &dst, fmt, single) < 0)) {
        check(0, name, "cannot make the images");
        goto end;
    }
    for (int i = 0; i < N; i++) {
        NstVulkanFrame *out = in_place ? &src.v : &dst.v;
        uint64_t before = src.v.sem_value[0] + 1; /* after the upload */
        tf_copy(&host, &clip[i], 0, 0);
        tf_copy(&back, &clip[i], 0, 0);
        ret |= nst_engine_process(he, &host.f, 1.0f);
        if (transfer(d, &src, &clip[i], 1) < 0) {
            ret = -1;
        } else {
            ret |= nst_engine_process_vulkan(ve, &src.v, out, 1.0f);
            sync &= src.v.sem_value[0] == before + 1 && sems_match(d, &src) &&
                    (in_place || sems_match(d, &dst));
            if (!in_place) { /* the source is read, not written */
                TestFrame orig;
                tf_copy(&orig, &clip[i], 0, 0);
                ret |= transfer(d, &src, &orig, 0);
                untouched &= tf_max_diff(&orig, &clip[i]) == 0;
                tf_free(&orig);
            }
            ret |= transfer(d, in_place ? &src : &dst, &back, 0);
        }
        int diff = tf_max_diff(&host, &back);
        worst = diff > worst ? diff : worst;
        tf_free(&host);
        tf_free(&back);
    }
    check(ret == 0 && worst == 0 && sync && untouched, name,
          "ret %d, max diff %d against memory, semaphores and layouts %s, source %s",
          ret, worst, sync ? "right" : "wrong", untouched ? "kept" : "changed");
end:
    if (loaded)
        for (int i = 0; i < N; i++)
            tf_free(&clip[i]);
    nst_engine_free(&ve);
    nst_engine_free(&he);
    img_free(d, &src);
    img_free(d, &dst);
}

/* Strength 0, frames refused (their sync untouched), the device memory
 * given back, and the queue locks taken in pairs. */
static void edges(Dev *d, const NstModel *m)
{
    NstEngine *ve = engine_on(d, m, 0.0f), *he = NULL;
    ImgFrame a = { 0 }, b = { 0 };
    TestFrame in, out;
    NstVulkanFrame saved, bad;
    uint64_t held, peak;
    int r1, r2, r3, r4, r5;

    if (!ve || load_clip(NST_PIX_RGBA, W, H, 1, &in) < 0) {
        check(0, "edges: set-up", "engine or clip");
        nst_engine_free(&ve);
        return;
    }
    tf_copy(&out, &in, 0, 0);
    memset(out.mem[0], 0, (size_t)out.row_bytes[0] * out.rows[0]);
    if (img_alloc(d, &a, NST_PIX_RGBA, 1) < 0 || img_alloc(d, &b, NST_PIX_RGBA, 1) < 0 ||
        transfer(d, &a, &in, 1) < 0) {
        check(0, "edges: set-up", "images");
        goto end;
    }
    /* strength 0 in place: nothing queued, nothing changed */
    saved = a.v;
    r1 = nst_engine_process_vulkan(ve, &a.v, &a.v, 0.0f);
    check(r1 == NST_OK && !memcmp(&saved, &a.v, sizeof(saved)),
          "strength 0 in place queues nothing", "ret %d", r1);
    /* strength 0 into another frame: a copy */
    r2 = nst_engine_process_vulkan(ve, &a.v, &b.v, 0.0f);
    r3 = sems_match(d, &a) && sems_match(d, &b);
    r2 |= transfer(d, &b, &out, 0);
    check(r2 == NST_OK && tf_max_diff(&in, &out) == 0 && r3,
          "strength 0 into another frame copies it", "ret %d, max diff %d", r2,
          tf_max_diff(&in, &out));

    saved = a.v;
    bad = a.v;
    bad.format = NST_PIX_RGB24;
    r1 = nst_engine_process_vulkan(ve, &bad, &bad, 1.0f);
    bad = a.v;
    bad.vk_format[0] = VK_FORMAT_R16G16_UNORM; /* 4 bytes, not 8-bit RGBA */
    r2 = nst_engine_process_vulkan(ve, &bad, &bad, 1.0f);
    bad = a.v;
    bad.n_images = 3;
    r3 = nst_engine_process_vulkan(ve, &bad, &bad, 1.0f);
    bad = b.v;
    bad.width = W - 1;
    r4 = nst_engine_process_vulkan(ve, &a.v, &bad, 1.0f);
    r5 = nst_engine_create(m, NULL, &he) < 0 ? NST_OK :
         nst_engine_process_vulkan(he, &a.v, &a.v, 1.0f);
    check(r1 == NST_ERR_UNSUPPORTED && r2 == NST_ERR_UNSUPPORTED && r3 == NST_ERR_INVALID &&
          r4 == NST_ERR_INVALID && r5 == NST_ERR_INVALID && !memcmp(&saved, &a.v, sizeof(saved)),
          "bad Vulkan frames refused, their sync untouched",
          "rgb24 %d, wrong VkFormat %d, 3 images %d, sizes differ %d, engine of its own "
          "device %d", r1, r2, r3, r4, r5);

    nst_engine_memory(ve, &held, &peak);
    nst_engine_free(&ve);
    check(peak > 0 && d->locks > 0 && d->locks == d->unlocks,
          "queue locks taken in pairs", "%d locks, %d unlocks, peak %llu bytes",
          d->locks, d->unlocks, (unsigned long long)peak);
end:
    nst_engine_free(&ve);
    nst_engine_free(&he);
    tf_free(&in);
    tf_free(&out);
    img_free(d, &a);
    img_free(d, &b);
}

int main(void)
{
    const char *v = getenv("NST_VALIDATION");
    int validation = v && *v == '1';
    char path[512], err[256] = "";
    NstModel *m = NULL;
    Dev d = { 0 };

    snprintf(path, sizeof(path), "%s/models/udnie.bin", env_or("NST_BUILD", "build"));
    if (nst_model_load_file(path, &m, err, sizeof(err)) < 0) {
        check(0, "model", "%s (run make models)", err);
        return check_status();
    }
    if (dev_open(&d, validation) < 0) {
        check(0, "a Vulkan 1.2 device with timeline semaphores", "cannot create it%s",
              validation ? " (with the validation layer)" : "");
        dev_close(&d);
        nst_model_free(&m);
        return check_status();
    }
    {
        static const NstPixelFormat fmts[] = {
            NST_PIX_YUV420P, NST_PIX_NV12, NST_PIX_YUV444P, NST_PIX_RGBA, NST_PIX_BGRA,
        };
        for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
            NstPixelFormat f = fmts[i];
            compare(&d, m, f, n_planes(f) == 1, 1);
            if (n_planes(f) > 1 && single_supported(&d, image_format(f, 0, 1)))
                compare(&d, m, f, 1, 1);
            else if (n_planes(f) > 1)
                printf("# %s in one multi-planar image: the device cannot copy such "
                       "images; not run\n", pix_names[f]);
        }
        compare(&d, m, NST_PIX_YUV420P, 0, 0);
        compare(&d, m, NST_PIX_RGBA, 1, 0);
        bgra_in_rgba = 1;
        compare(&d, m, NST_PIX_BGRA, 1, 1);
        bgra_in_rgba = 0;
    }
    edges(&d, m);
    if (validation)
        check(d.messages == 0, "no validation messages", "%u message(s)", d.messages);
    dev_close(&d);
    nst_model_free(&m);
    return check_status();
}

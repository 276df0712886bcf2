/*
 * Frames in Vulkan images (nst_engine_process_vulkan): each plane is copied
 * on the device into the staging buffer that the frame shaders read, and
 * the result back into the destination's images, so the frame never passes
 * through host memory and the rest of the engine is the host path's.
 */
#include <string.h>

#include "engine_internal.h"
#include "frame/frame.h"

/* Where plane p of a frame lives: which image, which aspect of it, and
 * the bytes of one texel of that plane. */
typedef struct PlaneImage {
    int image;
    VkImageAspectFlags aspect;
    int texel;
} PlaneImage;

/* The image formats each pixel format may come in: one multi-planar (or
 * packed) image, or one image per plane. */
static VkFormat single_format(NstPixelFormat f)
{
    switch (f) {
    case NST_PIX_RGBA:    return VK_FORMAT_R8G8B8A8_UNORM;
    case NST_PIX_BGRA:    return VK_FORMAT_B8G8R8A8_UNORM;
    case NST_PIX_YUV420P: return VK_FORMAT_G8_B8_R8_3PLANE_420_UNORM;
    case NST_PIX_YUV444P: return VK_FORMAT_G8_B8_R8_3PLANE_444_UNORM;
    case NST_PIX_NV12:    return VK_FORMAT_G8_B8R8_2PLANE_420_UNORM;
    default:              return VK_FORMAT_UNDEFINED;
    }
}

static VkFormat plane_format(NstPixelFormat f, int p)
{
    return f == NST_PIX_NV12 && p == 1 ? VK_FORMAT_R8G8_UNORM : VK_FORMAT_R8_UNORM;
}

static const char *format_name(NstPixelFormat f)
{
    static const char *const names[NST_PIX_NB] = {
        "rgb24", "rgba", "bgra", "yuv420p", "yuv444p", "nv12",
    };
    return (unsigned)f < NST_PIX_NB ? names[f] : "unknown";
}

/* Checks that f holds its format as this file can read it, and maps its
 * planes; what does not match is named. */
static int map_planes(NstEngine *e, const NstVulkanFrame *f, const char *which,
                      const NstFrameLayout *l, PlaneImage *planes)
{
    int multi = l->n_planes > 1;

    if (f->format == NST_PIX_RGB24) {
        /* a 3-byte texel cannot be copied to the 4-byte aligned rows the
         * frame shaders read */
        nst_log(&e->log, NST_LOG_ERROR, "%s frame: rgb24 cannot be a Vulkan frame "
                "(use rgba or bgra)", which);
        return NST_ERR_UNSUPPORTED;
    }
    if (f->n_images == 1) {
        /* The copies move bytes as they are: a packed frame's bytes are in
         * its own order in a 4-byte image of either component order
         * (FFmpeg 9 keeps bgra in R8G8B8A8 images). */
        int packed = f->format == NST_PIX_RGBA || f->format == NST_PIX_BGRA;
        if (f->vk_format[0] != single_format(f->format) &&
            !(packed && (f->vk_format[0] == VK_FORMAT_R8G8B8A8_UNORM ||
                         f->vk_format[0] == VK_FORMAT_B8G8R8A8_UNORM))) {
            nst_log(&e->log, NST_LOG_ERROR, "%s frame: a %s frame in one image must be "
                    "VkFormat %d%s, not %d", which, format_name(f->format),
                    (int)single_format(f->format), packed ? " or its other byte order" : "",
                    (int)f->vk_format[0]);
            return NST_ERR_UNSUPPORTED;
        }
    } else if (multi && f->n_images == l->n_planes) {
        for (int p = 0; p < l->n_planes; p++)
            if (f->vk_format[p] != plane_format(f->format, p)) {
                nst_log(&e->log, NST_LOG_ERROR, "%s frame: image %d of a %s frame in one "
                        "image per plane must be VkFormat %d, not %d", which, p,
                        format_name(f->format), (int)plane_format(f->format, p),
                        (int)f->vk_format[p]);
                return NST_ERR_UNSUPPORTED;
            }
    } else {
        nst_log(&e->log, NST_LOG_ERROR, "%s frame: a %s frame is in 1 image%s, not %d",
                which, format_name(f->format), multi ? " or one per plane" : "",
                f->n_images);
        return NST_ERR_INVALID;
    }
    for (int i = 0; i < f->n_images; i++)
        if (!f->image[i]) {
            nst_log(&e->log, NST_LOG_ERROR, "%s frame: image %d is VK_NULL_HANDLE", which, i);
            return NST_ERR_INVALID;
        }
    for (int p = 0; p < l->n_planes; p++) {
        static const VkImageAspectFlags plane_aspect[3] = {
            VK_IMAGE_ASPECT_PLANE_0_BIT, VK_IMAGE_ASPECT_PLANE_1_BIT, VK_IMAGE_ASPECT_PLANE_2_BIT,
        };
        planes[p].image = f->n_images == 1 ? 0 : p;
        planes[p].aspect = f->n_images == 1 && multi ? plane_aspect[p] : VK_IMAGE_ASPECT_COLOR_BIT;
        planes[p].texel = f->format == NST_PIX_RGBA || f->format == NST_PIX_BGRA ? 4 :
                          f->format == NST_PIX_NV12 && p == 1 ? 2 : 1;
    }
    return NST_OK;
}

static void plane_region(const NstFrameLayout *l, const PlaneImage *pl, int p,
                         VkBufferImageCopy *r)
{
    *r = (VkBufferImageCopy){
        .bufferOffset = l->offset[p],
        .bufferRowLength = (uint32_t)(l->stride[p] / pl->texel),
        .imageSubresource = { pl->aspect, 0, 0, 1 },
        .imageExtent = { (uint32_t)(l->row_bytes[p] / pl->texel), (uint32_t)l->rows[p], 1 },
    };
}

/* image -> staging (in 1) or staging -> image, every plane */
static void record_copies(NstPath *path, const NstVulkanFrame *f, const PlaneImage *planes,
                          int in)
{
    const NstFrameLayout *l = &path->frame;

    for (int i = 0; i < f->n_images; i++) {
        VkBufferImageCopy regions[3];
        uint32_t n = 0;
        for (int p = 0; p < l->n_planes; p++)
            if (planes[p].image == i)
                plane_region(l, &planes[p], p, &regions[n++]);
        if (in)
            vkCmdCopyImageToBuffer(path->gpu->vk->cmd, f->image[i], VK_IMAGE_LAYOUT_GENERAL,
                                   path->staging.buffer, n, regions);
        else
            vkCmdCopyBufferToImage(path->gpu->vk->cmd, path->staging.buffer, f->image[i],
                                   VK_IMAGE_LAYOUT_GENERAL, n, regions);
    }
}

/* Every image both frames use, once: dst's images may be src's. */
typedef struct Images {
    int n;
    NstVulkanFrame *frame[6];
    int index[6];
} Images;

static int same_image(const Images *im, VkImage image)
{
    for (int k = 0; k < im->n; k++)
        if (im->frame[k]->image[im->index[k]] == image)
            return 1;
    return 0;
}

static void collect(Images *im, NstVulkanFrame *f)
{
    for (int i = 0; i < f->n_images; i++)
        if (!same_image(im, f->image[i])) {
            im->frame[im->n] = f;
            im->index[im->n++] = i;
        }
}

/* Into GENERAL for both copies, taking ownership from another family
 * where the image had one, after whatever the image's last user did. */
static void acquire(NstVk *vk, const Images *im)
{
    VkImageMemoryBarrier b[6];

    for (int k = 0; k < im->n; k++) {
        const NstVulkanFrame *f = im->frame[k];
        int i = im->index[k];
        uint32_t from = f->queue_family[i];
        int transfer = from != VK_QUEUE_FAMILY_IGNORED && from != vk->queue_family;
        b[k] = (VkImageMemoryBarrier){
            .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
            .srcAccessMask = f->access[i],
            .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
            .oldLayout = f->layout[i],
            .newLayout = VK_IMAGE_LAYOUT_GENERAL,
            .srcQueueFamilyIndex = transfer ? from : VK_QUEUE_FAMILY_IGNORED,
            .dstQueueFamilyIndex = transfer ? vk->queue_family : VK_QUEUE_FAMILY_IGNORED,
            .image = f->image[i],
            .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
        };
    }
    vkCmdPipelineBarrier(vk->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL,
                         (uint32_t)im->n, b);
}

static void sync_of(const Images *im, NstVkSync *s)
{
    memset(s, 0, sizeof(*s));
    for (int k = 0; k < im->n; k++) {
        const NstVulkanFrame *f = im->frame[k];
        int i = im->index[k], seen = 0;
        if (!f->sem[i])
            continue;
        for (uint32_t j = 0; j < s->n_wait; j++)
            seen |= s->wait[j] == f->sem[i];
        if (seen)
            continue;
        s->wait[s->n_wait] = s->signal[s->n_signal] = f->sem[i];
        s->wait_value[s->n_wait++] = f->sem_value[i];
        s->signal_value[s->n_signal++] = f->sem_value[i] + 1;
    }
}

/* Where the queued work leaves each image (nst.h). */
static void update(const NstVk *vk, const Images *im, NstVulkanFrame *dst)
{
    for (int k = 0; k < im->n; k++) {
        NstVulkanFrame *f = im->frame[k];
        int i = im->index[k], bumped = 0;
        for (int j = 0; j < k; j++) /* one semaphore, several images */
            bumped |= im->frame[j]->sem[im->index[j]] == f->sem[i];
        if (f->sem[i] && !bumped)
            f->sem_value[i]++;
        f->layout[i] = VK_IMAGE_LAYOUT_GENERAL;
        f->access[i] = f == dst ? VK_ACCESS_TRANSFER_WRITE_BIT : VK_ACCESS_TRANSFER_READ_BIT;
        if (f->queue_family[i] != VK_QUEUE_FAMILY_IGNORED)
            f->queue_family[i] = vk->queue_family;
    }
    /* src's values where src and dst share images */
    for (int k = 0; k < im->n; k++)
        for (int i = 0; i < dst->n_images && im->frame[k] != dst; i++)
            if (dst->image[i] == im->frame[k]->image[im->index[k]]) {
                dst->sem_value[i] = im->frame[k]->sem_value[im->index[k]];
                dst->layout[i] = VK_IMAGE_LAYOUT_GENERAL;
                dst->access[i] = VK_ACCESS_TRANSFER_WRITE_BIT;
                dst->queue_family[i] = im->frame[k]->queue_family[im->index[k]];
            }
}

static NstFrame host_view(const NstVulkanFrame *f)
{
    NstFrame h = {
        .format = f->format, .width = f->width, .height = f->height,
        .matrix = f->matrix, .range = f->range,
    };
    return h;
}

int nst_engine_process_vulkan(NstEngine *e, NstVulkanFrame *src, NstVulkanFrame *dst,
                              float strength)
{
    NstTemporal *t = e && e->temporal.strength > 0.0f ? &e->temporal : NULL;
    PlaneImage in_planes[3], out_planes[3];
    NstFrameLayout l;
    NstFrame view;
    NstVkSync sync;
    Images im = { 0 };
    int in_place, submitted, ret;

    if (!e || !src || !dst)
        return NST_ERR_INVALID;
    if (!e->vk.external) {
        nst_log(&e->log, NST_LOG_ERROR, "Vulkan frames need an engine made by "
                "nst_engine_create_on_device on their device");
        return NST_ERR_INVALID;
    }
    if (src->format != dst->format || src->width != dst->width ||
        src->height != dst->height) {
        nst_log(&e->log, NST_LOG_ERROR, "source and destination frames differ in "
                "format or size");
        return NST_ERR_INVALID;
    }
    view = host_view(src);
    if ((unsigned)src->format >= NST_PIX_NB || src->width < 1 || src->height < 1 ||
        !(strength >= 0.0f && strength <= 1.0f)) {
        nst_log(&e->log, NST_LOG_ERROR, "bad Vulkan frame %dx%d, format %d, or strength %g",
                src->width, src->height, (int)src->format, strength);
        return NST_ERR_INVALID;
    }
    if ((ret = nst_frame_layout(src->format, src->width, src->height, &l)) < 0) {
        nst_log(&e->log, NST_LOG_ERROR, "unsupported frame %dx%d", src->width, src->height);
        return ret;
    }
    if ((ret = map_planes(e, src, "source", &l, in_planes)) < 0 ||
        (ret = map_planes(e, dst, "destination", &l, out_planes)) < 0)
        return ret;
    if (e->async.count) {
        nst_log(&e->log, NST_LOG_ERROR, "%d submitted frame(s) pending: receive "
                "them before processing a Vulkan frame", e->async.count);
        return NST_ERR_INVALID;
    }
    in_place = src == dst || (src->n_images == dst->n_images &&
                              !memcmp(src->image, dst->image,
                                      (size_t)src->n_images * sizeof(src->image[0])));
    if (strength == 0.0f) {
        e->temporal.valid = 0; /* the next output must not follow an old one */
        if (in_place)
            return NST_OK;
        t = NULL;
    }
    if ((ret = nst_vk_alive(&e->vk)) < 0)
        return ret;

    e->path.image_frames = 1;
    if (strength == 0.0f) {
        /* only staging is needed, but a plan is what sizes it */
        if ((ret = nst_path_prepare(&e->path, src->format, src->width, src->height)) < 0)
            return ret;
    } else if ((ret = nst_path_setup(&e->path, &view, strength, t)) < 0) {
        return ret;
    }
    collect(&im, src);
    collect(&im, dst);
    if ((ret = nst_vk_begin(&e->vk)) < 0)
        return ret;
    acquire(&e->vk, &im);
    record_copies(&e->path, src, in_planes, 1);
    nst_vk_barrier(&e->vk);
    if (strength != 0.0f) {
        nst_path_record(&e->path, &view, strength, t);
        nst_vk_barrier(&e->vk);
    }
    record_copies(&e->path, dst, out_planes, 0);
    sync_of(&im, &sync);
    ret = nst_vk_submit_wait_sync(&e->vk, &sync, &submitted);
    if (submitted)
        update(&e->vk, &im, dst);
    if (ret < 0) {
        e->gpu.prof.active = 0;
        if (t)
            t->valid = 0; /* the state is half-updated at best */
        return ret;
    }
    if (strength == 0.0f)
        return NST_OK;
    if (t)
        nst_temporal_done(t, &e->vk);
    return nst_dispatch_profile_done(&e->gpu);
}

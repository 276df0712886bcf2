/*
 * Vulkan device, memory and buffers: the part of libnst that talks to the
 * driver directly. Everything above it works in buffers and dispatches.
 * vk.c makes and destroys the device, memory.c the buffers, submit.c runs
 * the command buffer.
 */
#ifndef NST_VK_H
#define NST_VK_H

#include <vulkan/vulkan.h>

#include "gpu/fault.h"
#include "util/log.h"

#define NST_VK_TIMEOUT_S 120 /* for a 1920x1080 frame or less */

typedef struct NstVk {
    const NstLog *log;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    unsigned validation_messages;
    VkPhysicalDevice phys;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    VkDeviceSize max_allocation;   /* maxMemoryAllocationSize */
    VkDevice device;
    uint32_t queue_family;
    uint32_t timestamp_bits;       /* of queue_family; 0: no timestamps */
    int fp16_texels;               /* R16G16B16A16_SFLOAT texel buffers, both kinds */
    int fp16_arith;                /* shaderFloat16, enabled: the .a16 shaders run */
    VkQueue queue;
    /* A queue family other than queue_family that can copy (a GPU's copy
     * engine, preferably), with one queue: the pipelined path uploads the
     * next frame on it while queue_family runs the current one
     * (engine/async.c). has_transfer 0: the device has none. */
    int has_transfer;
    uint32_t transfer_family;
    VkQueue transfer_queue;
    VkCommandPool cmd_pool;
    VkCommandBuffer cmd;
    VkFence fence;
    /* nst_vk_submit_wait gives up after this long: a lost or hung device
     * must not hang the caller (the network scales it with frame size) */
    unsigned timeout_s;
    /* device memory held by buffers now, and the most held at once */
    VkDeviceSize allocated, peak;
    /* Set when the device was lost or did not finish work in time: the
     * work in flight is in an unknown state, and nothing more is run. */
    int lost;
    NstFaults faults;              /* NST_FAULT, for the tests */
    /* The device is the caller's (nst_engine_create_on_device): never
     * destroyed here, and its queue, which others may use too, is taken
     * with lock_queue/unlock_queue where given. */
    int external;
    uint32_t queue_index;
    void (*lock_queue)(void *opaque, uint32_t family, uint32_t index);
    void (*unlock_queue)(void *opaque, uint32_t family, uint32_t index);
    void *lock_opaque;
} NstVk;

/* Semaphores a frame's submission waits for and signals (timeline
 * semaphores with their values), as an image frame needs. */
#define NST_VK_MAX_SEMS 6
typedef struct NstVkSync {
    uint32_t n_wait, n_signal;
    VkSemaphore wait[NST_VK_MAX_SEMS], signal[NST_VK_MAX_SEMS];
    uint64_t wait_value[NST_VK_MAX_SEMS], signal_value[NST_VK_MAX_SEMS];
} NstVkSync;

/* A buffer with its own memory, optionally mapped and with texel views
 * (format R32G32B32A32_SFLOAT) for tensors. */
typedef struct NstBuffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    VkDeviceSize allocated; /* bytes of memory, counted in NstVk.allocated */
    VkDeviceSize offset;    /* into buffer, for a view of another's buffer */
    int borrowed;           /* buffer and memory belong to another NstBuffer */
    VkFormat format;        /* of the texel views: 16-byte fp32 texels, or fp16 */
    VkBufferView ro;   /* uniform texel buffer view, or null */
    VkBufferView rw;   /* storage texel buffer view, or null */
    void *mapped;      /* host pointer when host-visible, else NULL */
} NstBuffer;

enum {
    NST_BUF_TENSOR  = 1 << 0, /* texel views, device-local preferred */
    NST_BUF_STORAGE = 1 << 1, /* storage buffer */
    NST_BUF_HOST    = 1 << 2, /* host-visible and coherent, mapped */
    NST_BUF_COPY    = 1 << 3, /* transfer source and destination */
    NST_BUF_ARENA   = 1 << 4, /* with TENSOR: no views, nst_vk_buffer_view makes them */
};

/* ---- vk.c ---------------------------------------------------------------- */

/* device: index or name substring, NULL/"" = NST_DEVICE or automatic. */
int  nst_vk_create(NstVk *vk, const char *device, int validation,
                   const NstLog *log);
/* The same on a device the caller made (nst.h's NstVulkanDevice). */
struct NstVulkanDevice;
int  nst_vk_wrap(NstVk *vk, const struct NstVulkanDevice *device, const NstLog *log);
void nst_vk_destroy(NstVk *vk);

/* ---- memory.c ------------------------------------------------------------ */

int  nst_vk_buffer_create(NstVk *vk, NstBuffer *b, VkDeviceSize size,
                          unsigned flags);
/* The same with the texel views in `format` (VK_FORMAT_UNDEFINED: fp32). */
int  nst_vk_buffer_create_format(NstVk *vk, NstBuffer *b, VkDeviceSize size,
                                 unsigned flags, VkFormat format);
void nst_vk_buffer_destroy(NstVk *vk, NstBuffer *b);

/* b: `size` bytes of owner's buffer from `offset` (a multiple of
 * nst_vk_view_alignment), with texel views of its own; destroying b
 * destroys those views only. */
int nst_vk_buffer_view(NstVk *vk, const NstBuffer *owner, VkDeviceSize offset,
                       VkDeviceSize size, VkFormat format, NstBuffer *b);
VkDeviceSize nst_vk_view_alignment(const NstVk *vk);

/* ---- submit.c ------------------------------------------------------------ */

/* Waits until the device has finished everything libnst gave it. */
void nst_vk_idle(NstVk *vk);

/* Begin recording into the engine's one command buffer. */
int nst_vk_begin(NstVk *vk);
/* Submit it and wait for the device to finish it: set-up work, or
 * (_frame) a frame's, which NST_FAULT's submit and hang count. */
int nst_vk_submit_wait(NstVk *vk);
int nst_vk_submit_wait_frame(NstVk *vk);
/* A frame's, waiting for and signalling sync's semaphores. *submitted
 * says whether it reached the queue (and so will signal them), even
 * when the wait for it then fails. */
int nst_vk_submit_wait_sync(NstVk *vk, const NstVkSync *sync, int *submitted);

/* A full compute->compute and compute->host/transfer memory barrier. */
void nst_vk_barrier(NstVk *vk);

/* Maps a VkResult to NST_ERR_* and logs what failed; VK_ERROR_DEVICE_LOST
 * marks the device lost. */
int nst_vk_check(NstVk *vk, VkResult r, const char *what);

/* NST_OK, or NST_ERR_DEVICE (and says so) once the device is lost. */
int nst_vk_alive(NstVk *vk);

/* vkQueueSubmit and vkWaitForFences (bounded by timeout_s; a timeout
 * marks the device lost); for a frame's work (frame 1) with the submit
 * and hang faults of NST_FAULT. */
VkResult nst_vk_queue_submit(NstVk *vk, VkQueue queue, const VkSubmitInfo *submit,
                             VkFence fence, int frame);
int nst_vk_wait_fence(NstVk *vk, VkFence fence, int frame);

#endif

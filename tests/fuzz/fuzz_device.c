/*
 * libFuzzer harness for the device string (NstEngineOptions.device or
 * NST_DEVICE: an index into the enumeration order, or part of a device's
 * name, any case), read by engine/gpu/vk.c when it picks a Vulkan device.
 *
 * No Vulkan driver is involved: this file defines the few Vulkan entry
 * points that picking a device calls, over fake devices that the input
 * describes, and its vkCreateDevice records which device was picked and
 * fails, so that nst_vk_create stops there and cleans up. (The executable's
 * definitions take the place of the loader's; the rest of libvulkan is
 * linked but never called.)
 *
 * Input: byte 0 the number of devices (0..8), then 20 bytes per device:
 * its type (0..5, VkPhysicalDeviceType), API version 1.1 or 1.0 (bit 0),
 * the queue flags of its one queue family (0: no family), the queue count,
 * and 16 bytes of name; the rest of the input is the device string.
 *
 * A bug (abort() with a line saying which) is a crash or sanitizer report,
 * a code other than DEVICE, or a choice other than the documented one
 * (nst.h): an index picks that device, if it can compute; anything else
 * the first such device whose name contains the string, ignoring case; an
 * empty string the best type (discrete, integrated, virtual, CPU, other),
 * the first of a tie.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpu/vk.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

#define FD_MAX_DEVICES 8
#define FD_RECORD      20

typedef struct FdDevice {
    VkPhysicalDeviceType type;
    uint32_t api, queue_flags, queue_count;
    char name[17];
} FdDevice;

static struct {
    FdDevice dev[FD_MAX_DEVICES];
    uint32_t n;
    int picked;          /* device vkCreateDevice was called for, or -1 */
    char instance;       /* its address is the instance handle */
    char handles[FD_MAX_DEVICES];
} fd_world;

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void fd_bug(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz_device: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

static int fd_index(VkPhysicalDevice phys)
{
    const char *p = (const char *)phys;

    if (p < fd_world.handles || p >= fd_world.handles + fd_world.n)
        fd_bug("a physical device handle that was not handed out");
    return (int)(p - fd_world.handles);
}

/* ---- the Vulkan entry points picking a device calls -------------------------------- */

VKAPI_ATTR VkResult VKAPI_CALL vkCreateInstance(const VkInstanceCreateInfo *info,
                                                const VkAllocationCallbacks *alloc,
                                                VkInstance *instance)
{
    (void)info;
    (void)alloc;
    *instance = (VkInstance)(void *)&fd_world.instance;
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL vkDestroyInstance(VkInstance instance,
                                             const VkAllocationCallbacks *alloc)
{
    (void)alloc;
    if (instance != (VkInstance)(void *)&fd_world.instance)
        fd_bug("vkDestroyInstance of another instance");
}

VKAPI_ATTR VkResult VKAPI_CALL vkEnumeratePhysicalDevices(VkInstance instance,
                                                          uint32_t *n,
                                                          VkPhysicalDevice *devs)
{
    uint32_t i;

    (void)instance;
    if (!devs) {
        *n = fd_world.n;
        return VK_SUCCESS;
    }
    for (i = 0; i < *n && i < fd_world.n; i++)
        devs[i] = (VkPhysicalDevice)(void *)&fd_world.handles[i];
    *n = i;
    return i < fd_world.n ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL vkGetPhysicalDeviceProperties(VkPhysicalDevice phys,
                                                         VkPhysicalDeviceProperties *p)
{
    const FdDevice *d = &fd_world.dev[fd_index(phys)];

    memset(p, 0, sizeof(*p));
    p->apiVersion = d->api;
    p->deviceType = d->type;
    memcpy(p->deviceName, d->name, sizeof(d->name));
}

VKAPI_ATTR void VKAPI_CALL vkGetPhysicalDeviceProperties2(VkPhysicalDevice phys,
                                                          VkPhysicalDeviceProperties2 *p)
{
    vkGetPhysicalDeviceProperties(phys, &p->properties);
}

/* No device extensions, so no optional feature (shaderFloat16) is asked
 * for; the chain's structures keep what the caller set (zeros). */
VKAPI_ATTR VkResult VKAPI_CALL vkEnumerateDeviceExtensionProperties(
    VkPhysicalDevice phys, const char *layer, uint32_t *n, VkExtensionProperties *ext)
{
    (void)layer;
    (void)ext;
    fd_index(phys);
    *n = 0;
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL vkGetPhysicalDeviceFeatures2(VkPhysicalDevice phys,
                                                        VkPhysicalDeviceFeatures2 *f)
{
    fd_index(phys);
    memset(&f->features, 0, sizeof(f->features));
}

VKAPI_ATTR void VKAPI_CALL vkGetPhysicalDeviceMemoryProperties(
    VkPhysicalDevice phys, VkPhysicalDeviceMemoryProperties *p)
{
    fd_index(phys);
    memset(p, 0, sizeof(*p));
}

VKAPI_ATTR void VKAPI_CALL vkGetPhysicalDeviceFormatProperties(
    VkPhysicalDevice phys, VkFormat format, VkFormatProperties *p)
{
    (void)format;
    fd_index(phys);
    memset(p, 0, sizeof(*p));
}

VKAPI_ATTR void VKAPI_CALL vkGetPhysicalDeviceQueueFamilyProperties(
    VkPhysicalDevice phys, uint32_t *n, VkQueueFamilyProperties *q)
{
    const FdDevice *d = &fd_world.dev[fd_index(phys)];
    uint32_t have = d->queue_flags ? 1 : 0;

    if (!q) {
        *n = have;
        return;
    }
    if (*n > have)
        *n = have;
    if (*n) {
        memset(q, 0, sizeof(*q));
        q->queueFlags = d->queue_flags;
        q->queueCount = d->queue_count;
    }
}

VKAPI_ATTR VkResult VKAPI_CALL vkCreateDevice(VkPhysicalDevice phys,
                                              const VkDeviceCreateInfo *info,
                                              const VkAllocationCallbacks *alloc,
                                              VkDevice *device)
{
    (void)info;
    (void)alloc;
    (void)device;
    fd_world.picked = fd_index(phys);
    return VK_ERROR_INITIALIZATION_FAILED; /* no device: stop here */
}

/* ---- what nst.h says picking does ------------------------------------------------ */

static int fd_can_compute(const FdDevice *d)
{
    return d->api >= VK_API_VERSION_1_1 && (d->queue_flags & VK_QUEUE_COMPUTE_BIT) &&
           d->queue_count;
}

static int fd_type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:   return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:    return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:            return 1;
    default:                                     return 0;
    }
}

static int fd_contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (strlen(hay) >= n && !strncasecmp(hay, needle, n))
            return 1;
    return 0;
}

static int fd_expected(const char *want)
{
    int best = -1;
    uint32_t i;
    char *end;

    if (*want) {
        long idx = strtol(want, &end, 10);

        if (!*end && idx >= 0)
            return idx < (long)fd_world.n && fd_can_compute(&fd_world.dev[idx])
                   ? (int)idx : -1;
        for (i = 0; i < fd_world.n; i++)
            if (fd_can_compute(&fd_world.dev[i]) &&
                fd_contains_nocase(fd_world.dev[i].name, want))
                return (int)i;
        return -1;
    }
    for (i = 0; i < fd_world.n; i++)
        if (fd_can_compute(&fd_world.dev[i]) &&
            (best < 0 || fd_type_rank(fd_world.dev[i].type) >
                         fd_type_rank(fd_world.dev[best].type)))
            best = (int)i;
    return best;
}

static void fd_log(void *opaque, int level, const char *msg)
{
    (void)opaque;
    (void)level;
    if (strlen(msg) >= 1024)
        fd_bug("a log line of %zu bytes", strlen(msg));
}

int FUZZ_ENTRY(const uint8_t *data, size_t size);
int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    NstLog log = { fd_log, NULL };
    size_t pos = 1;
    char *want;
    NstVk vk;
    uint32_t i;
    int ret, expect;

    if (size < 1)
        return 0;
    /* the string alone decides; not the environment of the run */
    unsetenv("NST_DEVICE");
    memset(&fd_world, 0, sizeof(fd_world));
    fd_world.picked = -1;
    for (i = 0; i < data[0] % (FD_MAX_DEVICES + 1) && size - pos >= FD_RECORD; i++) {
        FdDevice *d = &fd_world.dev[i];
        const uint8_t *r = data + pos;

        d->type = (VkPhysicalDeviceType)(r[0] % 6);
        d->api = r[1] & 1 ? VK_API_VERSION_1_1 : VK_API_VERSION_1_0;
        d->queue_flags = r[2];
        d->queue_count = r[3];
        memcpy(d->name, r + 4, 16);
        d->name[16] = '\0';
        pos += FD_RECORD;
    }
    fd_world.n = i;
    want = malloc(size - pos + 1);
    if (!want)
        return 0;
    memcpy(want, data + pos, size - pos);
    want[size - pos] = '\0';

    expect = fd_expected(want);
    ret = nst_vk_create(&vk, want, 0, &log);
    if (ret != NST_ERR_DEVICE)
        fd_bug("nst_vk_create: code %d, want %d (vkCreateDevice fails)", ret,
               NST_ERR_DEVICE);
    if (fd_world.picked != expect)
        fd_bug("device string \"%s\" among %u devices: picked %d, nst.h says %d",
               want, fd_world.n, fd_world.picked, expect);
    free(want);
    return 0;
}

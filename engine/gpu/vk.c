/* Vulkan instance, device choice and creation, a caller's device, teardown. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/vk.h"
#include "nst.h"

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
              VkDebugUtilsMessageTypeFlagsEXT type,
              const VkDebugUtilsMessengerCallbackDataEXT *data, void *opaque)
{
    NstVk *vk = opaque;

    vk->validation_messages++;
    nst_log(vk->log, NST_LOG_ERROR, "Vulkan validation: %s",
            data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

static int has_layer(const char *name)
{
    uint32_t n = 0;
    VkLayerProperties *layers;
    int found = 0;

    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || !n)
        return 0;
    layers = calloc(n, sizeof(*layers));
    if (!layers)
        return 0;
    if (vkEnumerateInstanceLayerProperties(&n, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = !strcmp(layers[i].layerName, name);
    free(layers);
    return found;
}

static int create_instance(NstVk *vk, int validation)
{
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "nst",
        .pEngineName = "libnst",
        .engineVersion = VK_MAKE_VERSION(NST_VERSION_MAJOR, NST_VERSION_MINOR, 0),
        .apiVersion = VK_API_VERSION_1_1,
    };
    const char *layers[] = { VALIDATION_LAYER };
    const char *exts[] = { VK_EXT_DEBUG_UTILS_EXTENSION_NAME };
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = on_validation,
        .pUserData = vk,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
    };
    VkResult r;

    if (validation) {
        if (!has_layer(VALIDATION_LAYER)) {
            nst_log(vk->log, NST_LOG_ERROR, "validation requested but %s is "
                    "not installed (Debian: vulkan-validationlayers)",
                    VALIDATION_LAYER);
            return NST_ERR_DEVICE;
        }
        info.enabledLayerCount = 1;
        info.ppEnabledLayerNames = layers;
        info.enabledExtensionCount = 1;
        info.ppEnabledExtensionNames = exts;
        info.pNext = &dbg; /* also catches messages of vkCreateInstance */
    }
    r = nst_fault(&vk->faults, NST_FAULT_INSTANCE, vk->log) ? VK_ERROR_INITIALIZATION_FAILED :
        vkCreateInstance(&info, NULL, &vk->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED) {
        nst_log(vk->log, NST_LOG_ERROR, "no Vulkan driver found (VkResult %d); "
                "install one, e.g. Debian's mesa-vulkan-drivers", (int)r);
        return NST_ERR_DEVICE;
    }
    if (r != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkCreateInstance");
    if (validation) {
        PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(vk->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create)
            return nst_vk_check(vk, VK_ERROR_EXTENSION_NOT_PRESENT,
                                "vkCreateDebugUtilsMessengerEXT lookup");
        r = create(vk->instance, &dbg, NULL, &vk->messenger);
        if (r != VK_SUCCESS)
            return nst_vk_check(vk, r, "vkCreateDebugUtilsMessengerEXT");
    }
    return NST_OK;
}

static int compute_family(NstVk *vk, VkPhysicalDevice phys, uint32_t *family)
{
    uint32_t n = 0;
    VkQueueFamilyProperties q[32];

    if (nst_fault(&vk->faults, NST_FAULT_COMPUTE, vk->log))
        return 0;

    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
    if (n > 32)
        n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, q);
    for (uint32_t i = 0; i < n; i++) {
        if ((q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && q[i].queueCount) {
            *family = i;
            return 1;
        }
    }
    return 0;
}

/* A family other than compute's that can copy: one made for copies only
 * (a discrete GPU's DMA engine) if there is one, else any other (graphics
 * and compute queues can copy too). */
static int transfer_family(VkPhysicalDevice phys, uint32_t compute, uint32_t *family)
{
    const VkQueueFlags copies = VK_QUEUE_TRANSFER_BIT | VK_QUEUE_GRAPHICS_BIT |
                                VK_QUEUE_COMPUTE_BIT;
    uint32_t n = 0;
    VkQueueFamilyProperties q[32];
    int found = 0;

    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
    if (n > 32)
        n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, q);
    for (uint32_t i = 0; i < n; i++) {
        if (i == compute || !q[i].queueCount || !(q[i].queueFlags & copies))
            continue;
        if (!(q[i].queueFlags & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT))) {
            *family = i;
            return 1;
        }
        if (!found) {
            *family = i;
            found = 1;
        }
    }
    return found;
}

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:   return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:    return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:            return 1;
    default:                                     return 0;
    }
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* Picks a device with a compute queue: the one the user named (index or
 * name substring), else the best-ranked type, the first of a tie. */
static int pick_device(NstVk *vk, const char *want)
{
    uint32_t n = 0;
    VkPhysicalDevice *devs;
    int best = -1, best_rank = -1, by_index = -1, ret = NST_OK;
    char *end;
    VkResult r;

    r = vkEnumeratePhysicalDevices(vk->instance, &n, NULL);
    if (r != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkEnumeratePhysicalDevices");
    if (!n) {
        nst_log(vk->log, NST_LOG_ERROR, "no Vulkan device found");
        return NST_ERR_DEVICE;
    }
    devs = calloc(n, sizeof(*devs));
    if (!devs)
        return NST_ERR_NOMEM;
    r = vkEnumeratePhysicalDevices(vk->instance, &n, devs);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(devs);
        return nst_vk_check(vk, r, "vkEnumeratePhysicalDevices");
    }
    if (want && *want) {
        long idx = strtol(want, &end, 10);
        if (!*end && idx >= 0)
            by_index = idx < (long)n ? (int)idx : (int)n;
    }
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        uint32_t family;
        int rank;

        vkGetPhysicalDeviceProperties(devs[i], &p);
        nst_log(vk->log, NST_LOG_DEBUG, "Vulkan device %u: %s", i, p.deviceName);
        if (!compute_family(vk, devs[i], &family) || p.apiVersion < VK_API_VERSION_1_1)
            continue;
        if (by_index >= 0)
            rank = (int)i == by_index;
        else if (want && *want)
            rank = contains_nocase(p.deviceName, want);
        else
            rank = type_rank(p.deviceType) + 1;
        if (rank > 0 && rank > best_rank) {
            best = (int)i;
            best_rank = rank;
        }
    }
    if (best < 0) {
        if (want && *want)
            nst_log(vk->log, NST_LOG_ERROR, "no Vulkan device matches '%s' "
                    "(%u device(s); give an index or part of a name)", want, n);
        else
            nst_log(vk->log, NST_LOG_ERROR, "no Vulkan 1.1 device with a "
                    "compute queue among %u device(s)", n);
        ret = NST_ERR_DEVICE;
    } else {
        vk->phys = devs[best];
        compute_family(vk, vk->phys, &vk->queue_family);
    }
    free(devs);
    return ret;
}

static int has_device_extension(NstVk *vk, const char *name)
{
    uint32_t n = 0;
    VkExtensionProperties *ext;
    int found = 0;

    if (vkEnumerateDeviceExtensionProperties(vk->phys, NULL, &n, NULL) != VK_SUCCESS || !n)
        return 0;
    ext = calloc(n, sizeof(*ext));
    if (!ext)
        return 0; /* the feature is optional: go without it */
    if (vkEnumerateDeviceExtensionProperties(vk->phys, NULL, &n, ext) >= 0)
        for (uint32_t i = 0; i < n && !found; i++)
            found = !strcmp(ext[i].extensionName, name);
    free(ext);
    return found;
}

/* What the engine needs to know of the device, whoever created it. */
static void query_device(NstVk *vk)
{
    VkPhysicalDeviceMaintenance3Properties m3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
    };
    VkPhysicalDeviceProperties2 p2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
        .pNext = &m3,
    };
    uint32_t n = 0;
    VkQueueFamilyProperties fam[32];
    VkFormatProperties fp;
    VkFormatFeatureFlags need = VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT |
                                VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT;

    vkGetPhysicalDeviceProperties(vk->phys, &vk->props);
    vkGetPhysicalDeviceProperties2(vk->phys, &p2);
    vkGetPhysicalDeviceMemoryProperties(vk->phys, &vk->mem_props);
    vk->max_allocation = m3.maxMemoryAllocationSize;
    vkGetPhysicalDeviceQueueFamilyProperties(vk->phys, &n, NULL);
    n = n > 32 ? 32 : n;
    vkGetPhysicalDeviceQueueFamilyProperties(vk->phys, &n, fam);
    if (vk->queue_family < n)
        vk->timestamp_bits = fam[vk->queue_family].timestampValidBits;
    vkGetPhysicalDeviceFormatProperties(vk->phys, VK_FORMAT_R16G16B16A16_SFLOAT, &fp);
    vk->fp16_texels = (fp.bufferFeatures & need) == need;
}

/* The engine's command pool, command buffer and fence on vk->queue_family. */
static int create_commands(NstVk *vk)
{
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = vk->queue_family,
    };
    VkCommandBufferAllocateInfo cb = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkFenceCreateInfo fence = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    VkResult r = vkCreateCommandPool(vk->device, &pool, NULL, &vk->cmd_pool);

    if (r != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkCreateCommandPool");
    cb.commandPool = vk->cmd_pool;
    r = vkAllocateCommandBuffers(vk->device, &cb, &vk->cmd);
    if (r != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkAllocateCommandBuffers");
    r = vkCreateFence(vk->device, &fence, NULL, &vk->fence);
    return nst_vk_check(vk, r, "vkCreateFence");
}

static int create_device(NstVk *vk)
{
    float prio = 1.0f;
    VkDeviceQueueCreateInfo q = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = vk->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &q,
    };
    /* fp16 arithmetic in shaders: through the extension, as the instance
     * asks for Vulkan 1.1, where the feature is not core yet */
    VkPhysicalDeviceShaderFloat16Int8FeaturesKHR f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR,
    };
    static const char *const f16_ext[] = { VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME };
    VkResult r;

    query_device(vk);
    if (has_device_extension(vk, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)) {
        VkPhysicalDeviceFeatures2 f2 = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
            .pNext = &f16,
        };
        vkGetPhysicalDeviceFeatures2(vk->phys, &f2);
        vk->fp16_arith = !!f16.shaderFloat16;
    }
    if (vk->fp16_arith) {
        /* shaderFloat16 alone: the shaders convert to fp16 after they
         * read, so no 16-bit storage feature is needed */
        f16 = (VkPhysicalDeviceShaderFloat16Int8FeaturesKHR){
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR,
            .shaderFloat16 = VK_TRUE,
        };
        info.pNext = &f16;
        info.enabledExtensionCount = 1;
        info.ppEnabledExtensionNames = f16_ext;
    }

    /* a second queue for uploads where the device has a family for it */
    VkDeviceQueueCreateInfo queues[2] = { q, q };
    if (transfer_family(vk->phys, vk->queue_family, &vk->transfer_family)) {
        vk->has_transfer = 1;
        queues[1].queueFamilyIndex = vk->transfer_family;
        info.queueCreateInfoCount = 2;
        info.pQueueCreateInfos = queues;
    }

    r = nst_fault(&vk->faults, NST_FAULT_DEVICE, vk->log) ? VK_ERROR_INITIALIZATION_FAILED :
        vkCreateDevice(vk->phys, &info, NULL, &vk->device);
    if (r != VK_SUCCESS)
        return nst_vk_check(vk, r, "vkCreateDevice");
    vkGetDeviceQueue(vk->device, vk->queue_family, 0, &vk->queue);
    if (vk->has_transfer)
        vkGetDeviceQueue(vk->device, vk->transfer_family, 0, &vk->transfer_queue);
    return create_commands(vk);
}

int nst_vk_create(NstVk *vk, const char *device, int validation,
                  const NstLog *log)
{
    const char *env = getenv("NST_DEVICE");
    int ret;

    memset(vk, 0, sizeof(*vk));
    vk->log = log;
    vk->timeout_s = NST_VK_TIMEOUT_S;
    if ((!device || !*device) && env && *env)
        device = env;
    if ((ret = nst_faults_init(&vk->faults, getenv("NST_FAULT"), log)) < 0 ||
        (ret = create_instance(vk, validation)) < 0 ||
        (ret = pick_device(vk, device)) < 0 ||
        (ret = create_device(vk)) < 0) {
        nst_vk_destroy(vk);
        return ret;
    }
    nst_log(log, NST_LOG_INFO, "using Vulkan device '%s'%s",
            vk->props.deviceName, validation ? " with validation" : "");
    return NST_OK;
}

/* shaderFloat16 among the features the caller created its device with */
static int has_fp16_arith(const VkPhysicalDeviceFeatures2 *features)
{
    for (const VkBaseInStructure *p = features ? features->pNext : NULL; p; p = p->pNext) {
        if (p->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES &&
            ((const VkPhysicalDeviceVulkan12Features *)p)->shaderFloat16)
            return 1;
        if (p->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES &&
            ((const VkPhysicalDeviceShaderFloat16Int8Features *)p)->shaderFloat16)
            return 1;
    }
    return 0;
}

int nst_vk_wrap(NstVk *vk, const NstVulkanDevice *d, const NstLog *log)
{
    uint32_t n = 0;
    VkQueueFamilyProperties fam[32];
    int ret;

    memset(vk, 0, sizeof(*vk));
    vk->log = log;
    vk->timeout_s = NST_VK_TIMEOUT_S;
    vk->external = 1;
    if ((ret = nst_faults_init(&vk->faults, getenv("NST_FAULT"), log)) < 0)
        return ret;
    if (!d->instance || !d->physical_device || !d->device) {
        nst_log(log, NST_LOG_ERROR, "the caller's Vulkan device lacks its instance, "
                "physical device or device");
        return NST_ERR_INVALID;
    }
    vkGetPhysicalDeviceQueueFamilyProperties(d->physical_device, &n, NULL);
    n = n > 32 ? 32 : n;
    vkGetPhysicalDeviceQueueFamilyProperties(d->physical_device, &n, fam);
    if (d->queue_family >= n || !(fam[d->queue_family].queueFlags & VK_QUEUE_COMPUTE_BIT) ||
        d->queue_index >= fam[d->queue_family].queueCount) {
        nst_log(log, NST_LOG_ERROR, "queue %u of family %u of the caller's Vulkan device "
                "does not exist or cannot compute", d->queue_index, d->queue_family);
        return NST_ERR_DEVICE;
    }
    vk->instance = d->instance;
    vk->phys = d->physical_device;
    vk->device = d->device;
    vk->queue_family = d->queue_family;
    vk->queue_index = d->queue_index;
    vk->lock_queue = d->lock_queue;
    vk->unlock_queue = d->unlock_queue;
    vk->lock_opaque = d->opaque;
    query_device(vk);
    vk->fp16_arith = has_fp16_arith(d->features);
    vkGetDeviceQueue(vk->device, vk->queue_family, vk->queue_index, &vk->queue);
    if ((ret = create_commands(vk)) < 0) {
        nst_vk_destroy(vk);
        return ret;
    }
    nst_log(log, NST_LOG_INFO, "using the caller's Vulkan device '%s', queue family %u",
            vk->props.deviceName, vk->queue_family);
    return NST_OK;
}

void nst_vk_destroy(NstVk *vk)
{
    if (vk->allocated)
        nst_log(vk->log, NST_LOG_ERROR, "%llu bytes of device memory still held "
                "as the device is destroyed: a leak in libnst",
                (unsigned long long)vk->allocated);
    if (vk->device) {
        nst_vk_idle(vk);
        if (vk->fence)
            vkDestroyFence(vk->device, vk->fence, NULL);
        if (vk->cmd_pool)
            vkDestroyCommandPool(vk->device, vk->cmd_pool, NULL);
        if (!vk->external)
            vkDestroyDevice(vk->device, NULL);
    }
    if (vk->external)
        vk->instance = VK_NULL_HANDLE; /* the caller's */
    if (vk->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(vk->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy)
            destroy(vk->instance, vk->messenger, NULL);
    }
    if (vk->instance)
        vkDestroyInstance(vk->instance, NULL);
    unsigned seen = vk->validation_messages;
    const NstLog *log = vk->log;
    memset(vk, 0, sizeof(*vk));
    vk->validation_messages = seen;
    vk->log = log;
}

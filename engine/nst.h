/*
 * libnst: real-time neural style transfer on Vulkan compute.
 *
 * One public header. The library knows nothing of FFmpeg: a caller loads a
 * style model (style.bin, spec in docs/style-bin.md), creates an engine on a
 * Vulkan device and hands it frames, which are restyled in place.
 *
 *   NstModel  *m; NstEngine *e;
 *   nst_model_load_file("udnie.bin", &m, err, sizeof(err));
 *   nst_engine_create(m, NULL, &e);
 *   nst_model_free(&m);                  // the engine keeps what it needs
 *   nst_engine_process(e, &frame, 1.0f); // as often as there are frames
 *   nst_engine_free(&e);
 *
 * Every function returning int returns NST_OK (0) or a negative NST_ERR_*.
 * An engine is not thread-safe: use one per thread.
 */
#ifndef NST_H
#define NST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NST_VERSION_MAJOR 0
#define NST_VERSION_MINOR 1

enum {
    NST_OK              =  0,
    NST_ERR_INVALID     = -1, /* bad argument */
    NST_ERR_IO          = -2, /* file cannot be opened or read */
    NST_ERR_FORMAT      = -3, /* malformed or inconsistent model file */
    NST_ERR_UNSUPPORTED = -4, /* valid, but this version cannot run it */
    NST_ERR_NOMEM       = -5, /* host or device memory exhausted */
    NST_ERR_DEVICE      = -6, /* no usable Vulkan device, or a Vulkan call failed */
    NST_ERR_LIMITS      = -7, /* frame too large for the device's limits */
    NST_ERR_AGAIN       = -8, /* submit: the pipeline is full; receive: it is empty */
};

const char *nst_strerror(int err);

enum {
    NST_LOG_ERROR   = 0,
    NST_LOG_WARNING = 1,
    NST_LOG_INFO    = 2,
    NST_LOG_DEBUG   = 3,
};

/* Receives every message of the library, one line without newline. */
typedef void (*NstLogFn)(void *opaque, int level, const char *msg);

/* ---- models ------------------------------------------------------------ */

typedef struct NstModel NstModel;

/* Parse and validate a style.bin. On failure *model is NULL and, if err is
 * not NULL, err holds a message naming the offending field and value. */
int nst_model_load_file(const char *path, NstModel **model,
                        char *err, size_t err_size);
int nst_model_load_memory(const void *data, size_t size, NstModel **model,
                          char *err, size_t err_size);
void nst_model_free(NstModel **model);

/* Metadata value for key ("name", "source", "license", ...) or NULL. */
const char *nst_model_meta(const NstModel *model, const char *key);

/* ---- frames ------------------------------------------------------------ */

typedef enum NstPixelFormat {
    NST_PIX_RGB24 = 0,
    NST_PIX_RGBA,
    NST_PIX_BGRA,
    NST_PIX_YUV420P,
    NST_PIX_YUV444P,
    NST_PIX_NV12,
    NST_PIX_NB
} NstPixelFormat;

typedef enum NstColorMatrix {
    NST_MATRIX_BT601 = 0,
    NST_MATRIX_BT709,
    NST_MATRIX_BT2020,
} NstColorMatrix;

typedef enum NstColorRange {
    NST_RANGE_LIMITED = 0, /* Y 16..235, UV 16..240 */
    NST_RANGE_FULL,
} NstColorRange;

/* A frame in host memory, 8 bits per component. Planes as in FFmpeg:
 * packed formats use data[0]; yuv420p/yuv444p data[0..2]; nv12 data[0..1].
 * Line sizes may be negative (bottom-up images). matrix and range apply to
 * the YUV formats only. */
typedef struct NstFrame {
    NstPixelFormat format;
    int width, height;
    uint8_t *data[4];
    ptrdiff_t linesize[4];
    NstColorMatrix matrix;
    NstColorRange range;
} NstFrame;

/* ---- engines ----------------------------------------------------------- */

typedef struct NstEngine NstEngine;

typedef struct NstEngineOptions {
    /* Vulkan device: an index into the enumeration order, or a substring of
     * the device name ("llvmpipe", "NVIDIA"). NULL or "": the NST_DEVICE
     * environment variable, else the first discrete GPU, else any device
     * with a compute queue. */
    const char *device;
    NstLogFn log;
    void *log_opaque;
    /* Enable VK_LAYER_KHRONOS_validation and report its messages as
     * errors through log (also set by NST_VALIDATION=1). */
    int validation;
    /* How tensors are stored between layers and how the convolutions
     * multiply (NST_PRECISION_*). AUTO, the rule of docs/performance.md:
     * fp32 on a CPU device, where converting costs more than the memory
     * traffic it saves (lavapipe); on a GPU with fp16 texel buffers,
     * FP16_ARITH where it is a discrete or integrated one with
     * shaderFloat16, else FP16. The NST_PRECISION environment variable
     * ("fp32", "fp16", "fp16a") overrides AUTO. Forcing a precision the
     * device lacks fails with NST_ERR_UNSUPPORTED. */
    int precision;
} NstEngineOptions;

enum {
    NST_PRECISION_AUTO       = 0,
    NST_PRECISION_FP32       = 1, /* fp32 tensors and arithmetic */
    NST_PRECISION_FP16       = 2, /* fp16 tensors, fp32 arithmetic */
    /* fp16 tensors, and the convolutions multiply in fp16 (a 4x4 weight
     * block times an input texel), accumulating in fp32 */
    NST_PRECISION_FP16_ARITH = 3,
};

/* Create an engine for a model: picks the device, uploads the weights and
 * builds and warms every pipeline. The model may be freed afterwards.
 * options may be NULL. */
int nst_engine_create(const NstModel *model, const NstEngineOptions *options,
                      NstEngine **engine);

/* Restyle one frame in place: pixel = input + strength * (styled - input).
 * strength 0 leaves the frame untouched. Any size from 1x1 up to the
 * device's limits; buffers are reallocated only when the size changes. */
int nst_engine_process(NstEngine *engine, NstFrame *frame, float strength);

/* ---- pipelined processing ---------------------------------------------- */

/* nst_engine_process in two halves, so that the host's work on one frame
 * overlaps the device's on another: nst_engine_submit packs the frame and
 * queues its device work without waiting for it; nst_engine_receive waits
 * for the oldest frame submitted and restyles it in place. Holding one
 * frame back,
 *
 *   for each frame f:
 *       nst_engine_submit(e, f, strength);
 *       if (nst_engine_pending(e) == NST_ENGINE_DEPTH)
 *           nst_engine_receive(e, &done);              // the frame before f
 *   while (nst_engine_receive(e, &done) == NST_OK)     // at the end
 *       ...
 *
 * the device runs frame N while the caller packs N+1, unpacks N-1 and does
 * whatever else it does between frames (decoding, encoding); on a device
 * with a queue family for copies the upload of N+1 runs there meanwhile.
 * The cost is one frame of latency. Frames come back in the order they
 * were submitted, each as nst_engine_process would have made it, bit for
 * bit, temporal smoothing included: the device still runs them one after
 * the other.
 *
 * A submitted frame is the engine's until it is received: its planes must
 * stay valid and unchanged until then. Settings (strength, temporal
 * smoothing, network size, nst_engine_reset) apply from the next frame
 * submitted. At most NST_ENGINE_DEPTH frames are pending: one more is
 * refused with NST_ERR_AGAIN, as is nst_engine_process (NST_ERR_INVALID)
 * while any is. A frame refused or failed at submit is not pending; those
 * submitted before it still are. nst_engine_free drops pending frames,
 * leaving their pixels as they were.
 *
 * NST_TRANSFER=0 in the environment keeps uploads in the frame's one
 * submission even where the device has a queue family for copies; =1
 * uploads in a submission of their own even where it has none (on the
 * compute queue: a test of the semaphores and barriers of that path). */
#define NST_ENGINE_DEPTH 2
int nst_engine_submit(NstEngine *engine, NstFrame *frame, float strength);

/* Waits for the oldest pending frame and returns it in *frame, restyled.
 * NST_ERR_AGAIN, *frame NULL: none is pending. On another error *frame is
 * still the frame concerned, no longer pending, its pixels as they were. */
int nst_engine_receive(NstEngine *engine, NstFrame **frame);

/* Frames submitted and not yet received: 0..NST_ENGINE_DEPTH. */
int nst_engine_pending(const NstEngine *engine);

/* The size the network runs at, so that a weak device keeps up: the
 * frame's input is reduced to width x height by area averaging, the
 * network runs at that size, and its output is brought back to the
 * frame's size by a guided upsampling, which adds the edges and fine
 * detail of the full-resolution input to it (engine/frame/resize.h). Costs the
 * network's time at that size plus a few passes over the frame. 0 x 0, the default, runs the
 * network at the frame's size. Sizes are 1..32768 in both dimensions, as
 * frames. A size larger than the frame in a dimension is clamped to the
 * frame's there, with a warning, so that one setting serves frames of any
 * size: the network never runs larger than the frame, and at the frame's
 * size it is the default path, bit for bit. Applies from the next frame;
 * a change of the size the network runs at starts the temporal smoothing
 * afresh. */
int nst_engine_set_network_size(NstEngine *engine, int width, int height);

/* The network's size as a fraction of the frame's, 0 < scale <= 1: the
 * network runs at round(scale * width) x round(scale * height), at least
 * 1 x 1. Replaces a size set by nst_engine_set_network_size, which
 * replaces a scale in turn. */
int nst_engine_set_network_scale(NstEngine *engine, float scale);

/* Big frames: the network's largest tensors (its first and last
 * full-resolution layers) kept a band of rows at a time, each band
 * computed with the halo of rows its readers need, so that a frame whose
 * whole-frame plan does not fit the device still runs. The instance-norm
 * statistics still cover the whole frame: tiled and whole-frame outputs
 * agree to float rounding. rows: 0 (the default) tiles only where the
 * whole-frame plan would take more than half of the device's largest
 * heap or allocation, or a tensor would pass its texel-buffer limit; -1
 * never tiles; 1..32768 always tiles, in bands of that many rows. A tiled
 * conv costs about twice its time (it runs once for the statistics and
 * once for its reader). The environment variable NST_TILE_ROWS sets it
 * when the engine is created. Applies from the next frame. */
int nst_engine_set_tiling(NstEngine *engine, int rows);

/* Keep the input's colours and take only the luminance of the styled
 * frame (Gatys et al. 2016, "Preserving Color in Neural Artistic Style
 * Transfer", luminance-only transfer done after the network): a YUV frame
 * keeps its chroma planes as they came and takes the styled luma; an RGB
 * pixel is moved by the difference between the styled and the input luma
 * (BT.601 weights) in each channel, which is the same recombination in
 * RGB. strength still blends. Default off; applies from the next frame. */
int nst_engine_set_preserve_color(NstEngine *e, int enable);

/* Temporal smoothing of the styled frames, 0..1 (default 0, off; the
 * FFmpeg filter's default is 0.5). Where the input changed only by its
 * noise (measured every frame) since the network last saw it, the network
 * is given the same pixels again (NST_TEMPORAL_INPUT); each output is
 * blended with the previous output, warped along the motion the engine
 * finds between the two input frames, by temporal times its confidence in
 * that motion, closer to 1 where the input was held, and none where the
 * input changed, near such a change, at occlusions and across a scene cut
 * (NST_TEMPORAL_WARP); and the last instance norms mix their statistics
 * with the previous frame's by temporal (NST_TEMPORAL_NORM). Costs a
 * little extra memory and device time per frame; 0 runs exactly the
 * per-frame path. */
int nst_engine_set_temporal(NstEngine *engine, float temporal);

/* The mechanisms of temporal smoothing, each of which can be switched off
 * (default: all):
 *   INPUT the network's input held still where the input changed by no
 *         more than the frame's noise (measured every frame) since the
 *         network last saw it, moved along the motion, so that the
 *         network paints the same strokes there; renewed wherever it
 *         really changed, and where it drifted slowly (a light dimming);
 *   WARP  the output blended with the previous output along the motion,
 *         most where INPUT held the input;
 *   NORM  the mean and variance of the network's last two instance norms
 *         blended with those they used on the previous frame (by temporal;
 *         none across a scene cut), so that colours do not pulse as things
 *         move through the frame (smoothing every instance norm amplifies
 *         flicker instead: docs/temporal.md).
 * A change of mechanisms starts afresh, as a reset does. 0 is refused (use
 * temporal 0 for the per-frame path), as are unknown bits. */
enum {
    NST_TEMPORAL_WARP  = 1 << 0,
    NST_TEMPORAL_NORM  = 1 << 1,
    NST_TEMPORAL_INPUT = 1 << 2,
    NST_TEMPORAL_ALL   = NST_TEMPORAL_WARP | NST_TEMPORAL_NORM | NST_TEMPORAL_INPUT,
};
int nst_engine_set_temporal_mechanisms(NstEngine *engine, unsigned mechanisms);

/* Forget the previous frame, as after a seek or any other discontinuity:
 * the next frame is styled on its own. Size and format changes, scene
 * cuts and frames at strength 0 reset by themselves. */
void nst_engine_reset(NstEngine *engine);

/* The name of the device the engine runs on. */
const char *nst_engine_device_name(const NstEngine *engine);

/* The precision the engine chose: NST_PRECISION_FP32, _FP16 or
 * _FP16_ARITH (never _AUTO). */
int nst_engine_precision(const NstEngine *engine);

/* ---- measuring ---------------------------------------------------------- */

/* What one dispatch of the last profiled frame cost on the device. */
typedef struct NstProfileEntry {
    char name[32];  /* the shader: "conv", "norm_stats", "tensor_to_pix"... */
    int layer;      /* the model layer it computes, -1 for the frame path */
    double ms;
} NstProfileEntry;

/* Time every dispatch with timestamp queries from the next frame on
 * (costs a little; off by default). Fails where the queue has none. */
int nst_engine_set_profiling(NstEngine *engine, int enable);

/* Copies the last profiled frame's dispatches, in order, into entries
 * (at most max) and returns how many it had (possibly more than max). */
int nst_engine_profile(const NstEngine *engine, NstProfileEntry *entries, int max);

/* Device memory the engine holds now and the most it held at once since
 * it was created, in bytes (buffers for weights, tensors and frames). */
void nst_engine_memory(const NstEngine *engine, uint64_t *current, uint64_t *peak);

/* Number of validation-layer messages seen so far (0 without validation). */
unsigned nst_engine_validation_messages(const NstEngine *engine);

void nst_engine_free(NstEngine **engine);

#ifdef __cplusplus
}
#endif

#endif /* NST_H */

/* ---- frames in Vulkan images -------------------------------------------- */

/* Declared where <vulkan/vulkan.h> is included before this header (it may
 * have been included without it first): an engine on the caller's own
 * VkDevice (FFmpeg's AVVulkanDeviceContext, a player's), restyling frames
 * that are Vulkan images on it, with no copy through host memory. */
#if defined(VK_VERSION_1_2) && !defined(NST_H_VULKAN)
#define NST_H_VULKAN

#ifdef __cplusplus
extern "C" {
#endif

/* The caller's device, which must come from the Vulkan loader libnst is
 * linked with, be Vulkan 1.2 with timelineSemaphore enabled, and outlive
 * the engine, which never destroys it. The engine uses queue queue_index
 * of queue_family, which must have compute; lock_queue and unlock_queue
 * (both or neither) bracket each of its uses of that queue, for a caller
 * that shares it between threads. features: the chain the device was
 * created with, from which the engine learns whether shaderFloat16 is on
 * (NULL: it is not). */
typedef struct NstVulkanDevice {
    VkInstance instance;
    VkPhysicalDevice physical_device;
    VkDevice device;
    uint32_t queue_family, queue_index;
    const VkPhysicalDeviceFeatures2 *features;
    void (*lock_queue)(void *opaque, uint32_t family, uint32_t index);
    void (*unlock_queue)(void *opaque, uint32_t family, uint32_t index);
    void *opaque;
} NstVulkanDevice;

/* nst_engine_create on that device: options->device and ->validation do
 * not apply (validation is the device creator's to enable). */
int nst_engine_create_on_device(const NstModel *model, const NstEngineOptions *options,
                                const NstVulkanDevice *device, NstEngine **engine);

/* A frame in Vulkan images of the engine's device, 8 bits per component,
 * as FFmpeg's AVVkFrame holds one: either one image for all planes
 * (n_images 1: a packed RGBA or BGRA image, or a multi-planar YUV one whose
 * planes are its aspects) or one image per plane (n_images = the format's
 * planes: R8 planes, NV12's chroma R8G8). NST_PIX_RGB24 has no such
 * frame. The bytes are copied as they are: an RGBA or BGRA frame may be in
 * an R8G8B8A8 or a B8G8R8A8 image, holding the frame's bytes in the frame's
 * order (FFmpeg 9 keeps bgra in R8G8B8A8 images). The images need TRANSFER_SRC (a source frame) and TRANSFER_DST (a
 * destination) usage, one mip level and one layer; the frame's width and
 * height may be smaller than theirs.
 *
 * layout, access and queue_family are where each image is now:
 * queue_family VK_QUEUE_FAMILY_IGNORED for an image of concurrent sharing
 * or already the engine's; another family is acquired from (its release is
 * the caller's). sem: a timeline semaphore per image (or VK_NULL_HANDLE)
 * that the work waits for to reach sem_value and then signals at
 * sem_value + 1. When the work reached the queue, the engine updates all
 * of these to where it leaves each image: sem_value + 1, layout GENERAL,
 * access TRANSFER_WRITE (a destination) or TRANSFER_READ, queue_family
 * the engine's where it was another family's (VK_QUEUE_FAMILY_IGNORED
 * stays). */
typedef struct NstVulkanFrame {
    NstPixelFormat format;
    int width, height;
    NstColorMatrix matrix;
    NstColorRange range;
    int n_images;
    VkImage image[3];
    VkFormat vk_format[3];
    VkImageLayout layout[3];
    VkAccessFlags access[3];
    uint32_t queue_family[3];
    VkSemaphore sem[3];
    uint64_t sem_value[3];
} NstVulkanFrame;

/* Restyles src into dst, which may be src itself (in place) or another
 * frame of the same format and size, and waits for it, like
 * nst_engine_process (strength, temporal smoothing and the network size
 * apply alike; strength 0 copies src). On an error before the work was
 * queued, the frames' sync fields are unchanged; after, they are updated. */
int nst_engine_process_vulkan(NstEngine *engine, NstVulkanFrame *src,
                              NstVulkanFrame *dst, float strength);

#ifdef __cplusplus
}
#endif

#endif /* NST_H_VULKAN */

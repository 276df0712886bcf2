/*
 * One frame's work, in order, in one command buffer: its pixels into a
 * tensor (pix_to_tensor.comp), temporal smoothing's look at it, the
 * tensor down to the network's size (frame/resize.h), the network
 * (net/net.h), back up to the frame's size, temporal smoothing's blend,
 * and the tensor back into pixels (tensor_to_pix.comp). The only module
 * that knows both the network and the frame's modules.
 */
#ifndef NST_PATH_H
#define NST_PATH_H

#include "frame/frame.h"
#include "frame/resize.h"
#include "frame/temporal.h"
#include "gpu/dispatch.h"
#include "net/net.h"

typedef struct NstPath {
    NstDispatch *gpu;
    NstNet *net;
    NstResize resize;           /* the network below the frame's size */
    int pipe_pix_in, pipe_pix_out;
    int preserve_color;         /* nst_engine_set_preserve_color */
    /* Frames come in Vulkan images (engine/vkframe.c), copied to and from
     * staging on the device, which then need not be host-visible: asked
     * for by image_frames, planned as staging_images. */
    int image_frames, staging_images;

    /* per plan: a frame size and format */
    int width, height;          /* the frame's; 0 when no plan */
    unsigned plan_id;           /* changes with every plan (never 0) */
    unsigned net_plan_id;       /* the network's plan it was made with */
    NstFrameLayout frame;
    NstBuffer staging;          /* the packed frame the frame shaders read */
    VkDescriptorPool pool;
    NstStep pix_in, pix_out[3];
} NstPath;

/* Creates the frame shaders' pipelines (before the engine warms them up). */
int  nst_path_init(NstPath *p, NstDispatch *gpu, NstNet *net);
void nst_path_free(NstPath *p);

/* Plans for this frame size and format, and the network size the resize
 * request gives for it, unless already planned. */
int  nst_path_prepare(NstPath *p, NstPixelFormat format, int width, int height);
/* Whether the current plan serves such a frame: if not, the next
 * nst_path_prepare replaces it (and every buffer of it). */
int  nst_path_planned_for(const NstPath *p, NstPixelFormat format, int width, int height);

/* Runs the whole frame path on f (in place); with temporal smoothing when
 * t is not NULL. */
int  nst_path_process(NstPath *p, NstFrame *f, float strength, NstTemporal *t);
/* The parts of nst_path_process, for the pipelined path (engine/async.c)
 * and Vulkan frames (engine/vkframe.c), which move the packed frame
 * themselves and record into a command buffer of their own.
 * nst_path_setup plans for f unless planned and sets the frame steps'
 * constants; nst_path_record records, into the begun vk->cmd, everything
 * from the packed frame in p->staging to the restyled one there. */
int  nst_path_setup(NstPath *p, const NstFrame *f, float strength, NstTemporal *t);
void nst_path_record(NstPath *p, const NstFrame *f, float strength, NstTemporal *t);

#endif

/*
 * Compute pipelines: one shader per op, specialised by constants, all
 * sharing one descriptor-set layout and one push-constant block so that
 * a step of the network is just (pipeline, descriptor set, constants).
 *
 * Bindings, as every shader in shaders/ declares them:
 *   0  samplerBuffer  src0   the input tensor
 *   1  samplerBuffer  src1   weights, or the second tensor of an add
 *   2  imageBuffer    dst    the output tensor (rgba32f)
 *   3  buffer         buf0   frame bytes, or norm partial sums
 *   4  buffer         buf1   per-channel norm factors
 */
#ifndef NST_PIPELINES_H
#define NST_PIPELINES_H

#include <string.h>

#include "gpu/vk.h"

#define NST_MAX_SPEC   8
#define NST_PUSH_WORDS 32 /* 128 bytes: the minimum every device offers */
#define NST_BINDINGS   5

/* Workgroups of `size` invocations that cover n. */
static inline uint32_t nst_groups(int n, int size)
{
    return (uint32_t)((n + size - 1) / size);
}

typedef struct NstPipeline {
    int shader;                 /* index in nst_shader_table */
    int n_spec;
    int32_t spec[NST_MAX_SPEC];
    VkPipeline pipeline;
} NstPipeline;

typedef struct NstPipelines {
    NstVk *vk;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkShaderModule *modules;    /* one per shader, created on first use */
    int n_modules;
    NstPipeline *list;
    int n, cap;
} NstPipelines;

/* One dispatch: a pipeline, its descriptor set, constants and groups. */
typedef struct NstStep {
    int pipeline;
    VkDescriptorSet set;
    uint32_t push[NST_PUSH_WORDS];
    uint32_t groups[3];
    int layer;          /* model layer it computes, -1: the frame path */
} NstStep;

int  nst_pipelines_init(NstPipelines *p, NstVk *vk);
void nst_pipelines_free(NstPipelines *p);

/* Index of the pipeline for shader `name` with these constants, created
 * when first asked for. */
int nst_pipeline_get(NstPipelines *p, const char *name,
                     const int32_t *spec, int n_spec);

#endif

/* Steps: descriptor sets, recording, warming the pipelines up. */
#include <string.h>

#include "gpu/dispatch.h"
#include "gpu/shaders.h"

int nst_dispatch_init(NstDispatch *d, NstVk *vk, NstPipelines *pipes)
{
    memset(d, 0, sizeof(*d));
    d->vk = vk;
    d->pipes = pipes;
    return nst_vk_buffer_create(vk, &d->dummy, 256, NST_BUF_TENSOR | NST_BUF_STORAGE);
}

void nst_dispatch_free(NstDispatch *d)
{
    if (!d->vk)
        return;
    nst_profiler_free(&d->prof, d->vk);
    if (d->warm_pool)
        vkDestroyDescriptorPool(d->vk->device, d->warm_pool, NULL);
    nst_vk_buffer_destroy(d->vk, &d->dummy);
    memset(d, 0, sizeof(*d));
}

int nst_dispatch_pool(const NstDispatch *d, int n_sets, VkDescriptorPool *pool)
{
    VkDescriptorPoolSize sizes[3] = {
        { VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, (uint32_t)(2 * n_sets) },
        { VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, (uint32_t)n_sets },
        { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, (uint32_t)(2 * n_sets) },
    };
    VkDescriptorPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = (uint32_t)n_sets,
        .poolSizeCount = 3,
        .pPoolSizes = sizes,
    };
    return nst_vk_check(d->vk, vkCreateDescriptorPool(d->vk->device, &info, NULL, pool),
                        "vkCreateDescriptorPool");
}

int nst_dispatch_set(const NstDispatch *d, VkDescriptorPool pool, NstBinds b,
                     VkDescriptorSet *set)
{
    VkDescriptorSetAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &d->pipes->set_layout,
    };
    const NstBuffer *z = &d->dummy;
    VkBufferView views[3] = {
        (b.src0 ? b.src0 : z)->ro, (b.src1 ? b.src1 : z)->ro, (b.dst ? b.dst : z)->rw,
    };
    VkDescriptorBufferInfo bufs[2] = {
        { (b.buf0 ? b.buf0 : z)->buffer, 0, VK_WHOLE_SIZE },
        { (b.buf1 ? b.buf1 : z)->buffer, 0, VK_WHOLE_SIZE },
    };
    VkWriteDescriptorSet w[NST_BINDINGS];
    int ret = nst_vk_check(d->vk, vkAllocateDescriptorSets(d->vk->device, &alloc, set),
                           "vkAllocateDescriptorSets");
    if (ret < 0)
        return ret;
    for (int i = 0; i < NST_BINDINGS; i++) {
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = *set,
            .dstBinding = (uint32_t)i,
            .descriptorCount = 1,
        };
        if (i < 2) {
            w[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
            w[i].pTexelBufferView = &views[i];
        } else if (i == 2) {
            w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
            w[i].pTexelBufferView = &views[2];
        } else {
            w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            w[i].pBufferInfo = &bufs[i - 3];
        }
    }
    vkUpdateDescriptorSets(d->vk->device, NST_BINDINGS, w, 0, NULL);
    return NST_OK;
}

int nst_dispatch_step(NstDispatch *d, VkDescriptorPool pool, NstStep *s, int pipeline,
                      NstBinds b, const void *push, size_t push_size,
                      uint32_t gx, uint32_t gy, uint32_t gz, int layer)
{
    const uint32_t *max = d->vk->props.limits.maxComputeWorkGroupCount;
    int ret;

    if (gx > max[0] || gy > max[1] || gz > max[2]) {
        nst_log(d->vk->log, NST_LOG_ERROR, "a %dx%d frame needs %ux%ux%u "
                "workgroups, more than the device allows", d->width, d->height,
                gx, gy, gz);
        return NST_ERR_LIMITS;
    }
    if (push_size > sizeof(s->push))
        return NST_ERR_INVALID; /* a block no shader can declare */
    memset(s, 0, sizeof(*s));
    if ((ret = nst_dispatch_set(d, pool, b, &s->set)) < 0)
        return ret;
    s->pipeline = pipeline;
    s->layer = layer;
    if (push)
        memcpy(s->push, push, push_size);
    s->groups[0] = gx ? gx : 1;
    s->groups[1] = gy ? gy : 1;
    s->groups[2] = gz ? gz : 1;
    return NST_OK;
}

void nst_dispatch_record(NstDispatch *d, const NstStep *s)
{
    VkCommandBuffer cmd = d->vk->cmd;
    const NstPipeline *p = &d->pipes->list[s->pipeline];

    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, d->pipes->layout,
                            0, 1, &s->set, 0, NULL);
    vkCmdPushConstants(cmd, d->pipes->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                       NST_PUSH_WORDS * 4, s->push);
    vkCmdDispatch(cmd, s->groups[0], s->groups[1], s->groups[2]);
    nst_vk_barrier(d->vk);
    nst_profiler_mark(&d->prof, d->vk, s->pipeline, s->layer);
}

static const char *pipeline_name(void *opaque, int pipeline)
{
    const NstPipelines *P = opaque;

    return pipeline < 0 || pipeline >= P->n ? "?" : nst_shader_table[P->list[pipeline].shader].name;
}

int nst_dispatch_profile_done(NstDispatch *d)
{
    return nst_profiler_collect(&d->prof, d->vk, pipeline_name, d->pipes);
}

int nst_dispatch_warm_up(NstDispatch *d)
{
    NstStep s = { 0 };
    NstBinds none = { 0 };
    int ret;

    if ((ret = nst_dispatch_pool(d, 1, &d->warm_pool)) < 0 ||
        (ret = nst_dispatch_set(d, d->warm_pool, none, &s.set)) < 0 ||
        (ret = nst_vk_begin(d->vk)) < 0)
        return ret;
    s.groups[0] = s.groups[1] = s.groups[2] = 1;
    for (int i = 0; i < d->pipes->n; i++) {
        s.pipeline = i;
        nst_dispatch_record(d, &s);
    }
    return nst_vk_submit_wait(d->vk);
}

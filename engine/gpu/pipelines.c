/* Shader modules and specialised compute pipelines, created on demand. */
#include <stdlib.h>
#include <string.h>

#include "gpu/pipelines.h"
#include "gpu/shaders.h"

int nst_pipelines_init(NstPipelines *p, NstVk *vk)
{
    static const VkDescriptorType types[NST_BINDINGS] = {
        VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
        VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
        VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER,
        VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
    };
    VkDescriptorSetLayoutBinding b[NST_BINDINGS];
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = NST_BINDINGS,
        .pBindings = b,
    };
    VkPushConstantRange push = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .size = NST_PUSH_WORDS * 4,
    };
    VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &push,
    };
    int ret;

    memset(p, 0, sizeof(*p));
    p->vk = vk;
    for (int i = 0; i < NST_BINDINGS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = (uint32_t)i,
            .descriptorType = types[i],
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    while (nst_shader_table[p->n_modules].name)
        p->n_modules++;
    p->modules = calloc((size_t)p->n_modules, sizeof(*p->modules));
    if (!p->modules)
        return NST_ERR_NOMEM;
    ret = nst_vk_check(vk, vkCreateDescriptorSetLayout(vk->device, &set_info, NULL,
                                                       &p->set_layout),
                       "vkCreateDescriptorSetLayout");
    if (ret < 0)
        return ret;
    layout_info.pSetLayouts = &p->set_layout;
    return nst_vk_check(vk, vkCreatePipelineLayout(vk->device, &layout_info, NULL,
                                                   &p->layout),
                        "vkCreatePipelineLayout");
}

void nst_pipelines_free(NstPipelines *p)
{
    VkDevice dev = p->vk ? p->vk->device : VK_NULL_HANDLE;

    if (dev) {
        for (int i = 0; i < p->n; i++)
            vkDestroyPipeline(dev, p->list[i].pipeline, NULL);
        for (int i = 0; i < p->n_modules; i++)
            if (p->modules[i])
                vkDestroyShaderModule(dev, p->modules[i], NULL);
        if (p->layout)
            vkDestroyPipelineLayout(dev, p->layout, NULL);
        if (p->set_layout)
            vkDestroyDescriptorSetLayout(dev, p->set_layout, NULL);
    }
    free(p->list);
    free(p->modules);
    memset(p, 0, sizeof(*p));
}

static int shader_module(NstPipelines *p, int shader)
{
    const NstShaderCode *sc = &nst_shader_table[shader];
    VkShaderModuleCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = sc->size,
        .pCode = sc->code,
    };

    if (p->modules[shader])
        return NST_OK;
    return nst_vk_check(p->vk, vkCreateShaderModule(p->vk->device, &info, NULL,
                                                    &p->modules[shader]),
                        "vkCreateShaderModule");
}

int nst_pipeline_get(NstPipelines *p, const char *name,
                     const int32_t *spec, int n_spec)
{
    VkSpecializationMapEntry map[NST_MAX_SPEC];
    VkSpecializationInfo spec_info = {
        .mapEntryCount = (uint32_t)n_spec,
        .pMapEntries = map,
        .dataSize = (size_t)n_spec * sizeof(int32_t),
        .pData = n_spec ? spec : NULL,
    };
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .pName = "main",
            .pSpecializationInfo = &spec_info,
        },
        .layout = p->layout,
    };
    NstPipeline *pl;
    int shader = -1, ret;

    if (n_spec < 0 || n_spec > NST_MAX_SPEC)
        return NST_ERR_INVALID;
    for (int i = 0; i < p->n_modules; i++)
        if (!strcmp(nst_shader_table[i].name, name))
            shader = i;
    if (shader < 0) {
        nst_log(p->vk->log, NST_LOG_ERROR, "no shader named '%s'", name);
        return NST_ERR_INVALID;
    }
    for (int i = 0; i < p->n; i++) {
        pl = &p->list[i];
        if (pl->shader == shader && pl->n_spec == n_spec &&
            (!n_spec || !memcmp(pl->spec, spec, (size_t)n_spec * sizeof(*spec))))
            return i;
    }
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        NstPipeline *list = realloc(p->list, (size_t)cap * sizeof(*list));
        if (!list)
            return NST_ERR_NOMEM;
        p->list = list;
        p->cap = cap;
    }
    if ((ret = shader_module(p, shader)) < 0)
        return ret;
    for (int i = 0; i < n_spec; i++)
        map[i] = (VkSpecializationMapEntry){ (uint32_t)i, (uint32_t)(4 * i), 4 };
    info.stage.module = p->modules[shader];
    pl = &p->list[p->n];
    memset(pl, 0, sizeof(*pl));
    pl->shader = shader;
    pl->n_spec = n_spec;
    if (n_spec)
        memcpy(pl->spec, spec, (size_t)n_spec * sizeof(*spec));
    ret = nst_vk_check(p->vk, vkCreateComputePipelines(p->vk->device, VK_NULL_HANDLE,
                                                       1, &info, NULL, &pl->pipeline),
                       "vkCreateComputePipelines");
    if (ret < 0)
        return ret;
    return p->n++;
}

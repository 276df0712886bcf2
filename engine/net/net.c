/* The network on the device: weight packing, planning, recording. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/half.h"
#include "net/net.h"
#include "ref/ref.h"
#include "gpu/shaders.h"
#include "frame/temporal.h"
#include "net/winograd.h"

#define STATS_CHUNK 4096 /* pixels reduced by one workgroup of norm_stats */
#define STATS_PART  48   /* bytes of a chunk's partials: mean, M2, count texels */

static int c4_of(int channels)
{
    return (channels + 3) / 4;
}

/* ---- model -> executed layers ------------------------------------------- */

static const NstLayer *exec_layer(const NstNet *net, const NstExec *e)
{
    return &net->exec_layers[e - net->exec];
}

/* An instance norm (+ ReLU) whose only reader is the conv right after it
 * needs no pass of its own: the conv applies y = a*x + b (and the ReLU)
 * to each texel it reads, which saves writing and reading a tensor and
 * keeping it in memory. The factors stay valid until the next norm. */
static void defer_norms(NstNet *net)
{
    for (int e = 0; e + 1 < net->n_exec; e++) {
        NstExec *x = &net->exec[e], *next = &net->exec[e + 1];
        NstOp op = net->exec_layers[e + 1].op;
        int readers = net->final_value == e;

        for (int r = 0; r < net->n_exec; r++)
            readers += (net->exec[r].input[0] == e) + (net->exec[r].input[1] == e);
        if (net->exec_layers[e].op == NST_OP_INSTANCE_NORM && x->input[1] == -2 &&
            readers == 1 && next->input[0] == e &&
            (op == NST_OP_CONV || op == NST_OP_CONV_TRANSPOSE)) {
            x->deferred = 1;
            next->norm_in = 1 + x->fuse_relu;
        }
    }
}

/* Groups each instance norm with a ReLU and a residual add that consume
 * only its result, so that the pair or triple costs one pass. */
static int build_exec(NstNet *net, const NstModel *m)
{
    int n = m->n_layers, *uses, *val;
    int ret = NST_OK;

    uses = calloc((size_t)n, sizeof(*uses));
    val = calloc((size_t)n, sizeof(*val));
    net->exec = calloc((size_t)n, sizeof(*net->exec));
    net->exec_layers = calloc((size_t)n, sizeof(*net->exec_layers));
    if (!uses || !val || !net->exec || !net->exec_layers) {
        ret = NST_ERR_NOMEM;
        goto end;
    }
    for (int l = 0; l < n; l++)
        for (int i = 0; i < 2; i++)
            if (m->layers[l].input[i] >= 0 && (i == 0 || m->layers[l].op == NST_OP_ADD))
                uses[m->layers[l].input[i]]++;

    for (int l = 0; l < n - 1; l++) {
        const NstLayer *L = &m->layers[l];
        NstExec *e = &net->exec[net->n_exec];
        int last = l, residual = -2;

        e->layer = l;
        e->input[0] = L->input[0] < 0 ? -1 : val[L->input[0]];
        e->input[1] = -2;
        if (L->op == NST_OP_ADD)
            e->input[1] = L->input[1] < 0 ? -1 : val[L->input[1]];
        if (L->op == NST_OP_INSTANCE_NORM) {
            const NstLayer *next = &m->layers[l + 1];
            if (l + 1 < n - 1 && next->op == NST_OP_RELU && next->input[0] == l &&
                uses[l] == 1) {
                last = l + 1;
                e->fuse_relu = 1;
            }
            next = &m->layers[last + 1];
            if (last + 1 < n - 1 && next->op == NST_OP_ADD && uses[last] == 1 &&
                next->input[0] != next->input[1] &&
                (next->input[0] == last || next->input[1] == last)) {
                residual = next->input[0] == last ? next->input[1] : next->input[0];
                last++;
            }
            if (residual != -2)
                e->input[1] = residual < 0 ? -1 : val[residual];
        }
        e->last = last;
        net->exec_layers[net->n_exec] = *L;
        for (int k = l; k <= last; k++)
            val[k] = net->n_exec;
        net->n_exec++;
        l = last;
    }
    net->final_value = m->layers[n - 1].input[0] < 0 ? -1 : val[m->layers[n - 1].input[0]];
    defer_norms(net);
end:
    free(uses);
    free(val);
    return ret;
}

/* ---- weights ------------------------------------------------------------- */

static int conv_ocb(const NstLayer *L)
{
    return c4_of(L->out_ch) % 2 == 0 ? 2 : 1;
}

/* Pixels per conv invocation: with one output texel per invocation, more
 * pixels share each weight fetch; with two, four keep the accumulators
 * (2 x 4 texels) within a CPU's vector registers. */
static int conv_px(int ocb)
{
    return ocb == 1 ? 8 : 4;
}

static size_t layer_texels(const NstLayer *L)
{
    size_t k = (size_t)L->kernel;

    switch (L->op) {
    case NST_OP_CONV:
    case NST_OP_CONV_TRANSPOSE:
        if (nst_wino_applies(L))
            return nst_wino_texels(L) + (L->bias ? (size_t)c4_of(L->out_ch) : 0);
        return (size_t)c4_of(L->out_ch) * (size_t)c4_of(L->in_ch) * k * k * 4 +
               (L->bias ? (size_t)c4_of(L->out_ch) : 0);
    case NST_OP_INSTANCE_NORM:
        return 2 * (size_t)c4_of(L->out_ch);
    default:
        return 0;
    }
}

/* Packs a conv or transposed conv as conv.comp reads it (see there). */
static void pack_conv(const NstLayer *L, float *dst)
{
    int K = L->kernel, ocb = conv_ocb(L);
    int ci4 = c4_of(L->in_ch), co4 = c4_of(L->out_ch);
    int transposed = L->op == NST_OP_CONV_TRANSPOSE;

    for (int og = 0; og < co4 / ocb; og++)
        for (int ic = 0; ic < ci4; ic++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                    for (int t = 0; t < ocb; t++)
                        for (int ci = 0; ci < 4; ci++)
                            for (int j = 0; j < 4; j++) {
                                int o = 4 * (og * ocb + t) + j, c = 4 * ic + ci;
                                size_t tap = (size_t)(ky * K + kx);
                                float v = 0.0f;
                                if (o < L->out_ch && c < L->in_ch)
                                    v = transposed
                                        ? L->weight[(tap * L->out_ch + o) * L->in_ch + c]
                                        : L->weight[(tap * L->in_ch + c) * L->out_ch + o];
                                *dst++ = v;
                            }
}

static void pack_vector(const float *src, int n, float *dst)
{
    memset(dst, 0, (size_t)c4_of(n) * 4 * sizeof(*dst));
    memcpy(dst, src, (size_t)n * sizeof(*dst));
}

static int upload(NstNet *net, NstBuffer *dst, const void *src, size_t size)
{
    NstBuffer host;
    VkBufferCopy region = { 0, 0, size };
    int ret = nst_vk_buffer_create(net->vk, &host, size, NST_BUF_HOST | NST_BUF_COPY);

    if (ret < 0)
        return ret;
    memcpy(host.mapped, src, size);
    if ((ret = nst_vk_begin(net->vk)) >= 0) {
        vkCmdCopyBuffer(net->vk->cmd, host.buffer, dst->buffer, 1, &region);
        nst_vk_barrier(net->vk);
        ret = nst_vk_submit_wait(net->vk);
    }
    nst_vk_buffer_destroy(net->vk, &host);
    return ret;
}

static int upload_weights(NstNet *net, const NstModel *m)
{
    size_t total = 4; /* never empty */
    float *host, *p;
    int ret;

    for (int e = 0; e < net->n_exec; e++)
        total += layer_texels(&m->layers[net->exec[e].layer]);
    if (total > net->vk->props.limits.maxTexelBufferElements) {
        nst_log(net->vk->log, NST_LOG_ERROR, "the model's %zu weight texels exceed "
                "the device's texel buffer limit (%u)", total,
                net->vk->props.limits.maxTexelBufferElements);
        return NST_ERR_LIMITS;
    }
    host = calloc(total, 16);
    if (!host)
        return NST_ERR_NOMEM;
    p = host;
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        const NstLayer *L = &m->layers[x->layer];
        x->w_off = x->b_off = -1;
        if (L->op == NST_OP_CONV || L->op == NST_OP_CONV_TRANSPOSE) {
            x->ocb = conv_ocb(L);
            x->wino = nst_wino_applies(L);
            x->w_off = (int)((p - host) / 4);
            if (x->wino) {
                nst_wino_pack(L, x->ocb, p);
                p += nst_wino_texels(L) * 4;
            } else {
                pack_conv(L, p);
                p += (size_t)c4_of(L->out_ch) * c4_of(L->in_ch) * L->kernel * L->kernel * 16;
            }
            if (L->bias) {
                x->b_off = (int)((p - host) / 4);
                pack_vector(L->bias, L->out_ch, p);
                p += c4_of(L->out_ch) * 4;
            }
        } else if (L->op == NST_OP_INSTANCE_NORM) {
            x->w_off = (int)((p - host) / 4);
            pack_vector(L->scale, L->out_ch, p);
            p += c4_of(L->out_ch) * 4;
            x->b_off = (int)((p - host) / 4);
            pack_vector(L->shift, L->out_ch, p);
            p += c4_of(L->out_ch) * 4;
        }
    }
    ret = nst_vk_buffer_create(net->vk, &net->weights, total * 16,
                               NST_BUF_TENSOR | NST_BUF_COPY);
    if (ret >= 0)
        ret = upload(net, &net->weights, host, total * 16);
    free(host);
    return ret;
}

/* ---- pipelines ------------------------------------------------------------ */

/* A shader in its variant: for the format of the activation it writes
 * (writer), and multiplying in fp16 where the net does and it has such
 * a variant (arith: the ARITH16 shaders of the Makefile). */
static int get_variant(NstNet *net, const char *name, int writer, int arith,
                       const int32_t *spec, int n_spec)
{
    char full[64];

    snprintf(full, sizeof(full), "%s%s%s", name, writer && net->fp16 ? ".f16" : "",
             arith && net->fp16_arith ? ".a16" : "");
    return nst_pipeline_get(net->pipes, full, spec, n_spec);
}

/* A shader that writes an activation, in the variant for its format. */
static int get_writer(NstNet *net, const char *name, const int32_t *spec, int n_spec)
{
    return get_variant(net, name, 1, 0, spec, n_spec);
}

static int create_pipelines(NstNet *net)
{
    NstPipelines *P = net->pipes;
    int r;

    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        const NstLayer *L = exec_layer(net, x);
        int32_t tail[3] = { L->op == NST_OP_INSTANCE_NORM,
                            L->op == NST_OP_RELU || x->fuse_relu,
                            x->input[1] != -2 };

        if (x->wino) {
            int32_t in_spec[2] = { L->padding == NST_PAD_REFLECT, x->norm_in };
            int32_t gemm_spec[2] = { x->ocb, conv_px(x->ocb) };
            int32_t out_spec[1] = { x->b_off >= 0 };
            if ((r = nst_pipeline_get(P, "wino_in", in_spec, 2)) < 0)
                return r;
            x->pipeline[0] = r;
            if ((r = get_variant(net, "wino_gemm", 0, 1, gemm_spec, 2)) < 0)
                return r;
            x->pipeline[1] = r;
            if ((r = get_writer(net, "wino_out", out_spec, 1)) < 0)
                return r;
            x->pipeline[2] = r;
            continue;
        }
        switch (L->op) {
        case NST_OP_CONV:
        case NST_OP_CONV_TRANSPOSE: {
            int32_t spec[7] = { L->kernel, L->stride, L->padding == NST_PAD_REFLECT,
                                x->ocb, x->b_off >= 0, conv_px(x->ocb), x->norm_in };
            r = get_variant(net, L->op == NST_OP_CONV ? "conv" : "conv_transpose", 1, 1,
                            spec, 7);
            break;
        }
        case NST_OP_UPSAMPLE:
            r = get_writer(net, "upsample", NULL, 0);
            break;
        case NST_OP_INSTANCE_NORM:
            if ((r = nst_pipeline_get(P, "norm_stats", NULL, 0)) < 0)
                return r;
            x->pipeline[0] = r;
            if ((r = nst_pipeline_get(P, "norm_reduce", NULL, 0)) < 0)
                return r;
            x->pipeline[1] = r;
            if (!x->deferred && (r = get_writer(net, "norm_apply", tail, 3)) < 0)
                return r;
            x->pipeline[2] = x->deferred ? -1 : r;
            continue;
        case NST_OP_RELU:
        case NST_OP_ADD:
            r = get_writer(net, "norm_apply", tail, 3);
            break;
        default:
            nst_log(net->vk->log, NST_LOG_ERROR, "layer %d: op %d cannot run here",
                    x->layer, (int)L->op);
            return NST_ERR_UNSUPPORTED;
        }
        if (r < 0)
            return r;
        x->pipeline[0] = r;
    }
    if ((r = get_writer(net, "pix_to_tensor", NULL, 0)) < 0)
        return r;
    net->pipe_pix_in = r;
    if ((r = nst_pipeline_get(P, "tensor_to_pix", NULL, 0)) < 0)
        return r;
    net->pipe_pix_out = r;
    for (int i = 0; i < 4; i++) {
        static const char *const names[4] = {
            "temporal_luma", "temporal_cut", "flow_block", "temporal_blend",
        };
        if ((r = nst_pipeline_get(P, names[i], NULL, 0)) < 0)
            return r;
        net->pipe_temporal[i] = r;
    }
    return NST_OK;
}

/* ---- descriptor sets ------------------------------------------------------ */

typedef NstBinds Binds;

int nst_net_pool(NstNet *net, int n_sets, VkDescriptorPool *pool)
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
    return nst_vk_check(net->vk, vkCreateDescriptorPool(net->vk->device, &info, NULL, pool),
                        "vkCreateDescriptorPool");
}

int nst_net_set(NstNet *net, VkDescriptorPool pool, Binds b, VkDescriptorSet *set)
{
    VkDescriptorSetAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &net->pipes->set_layout,
    };
    const NstBuffer *d = &net->dummy;
    VkBufferView views[3] = {
        (b.src0 ? b.src0 : d)->ro, (b.src1 ? b.src1 : d)->ro, (b.dst ? b.dst : d)->rw,
    };
    VkDescriptorBufferInfo bufs[2] = {
        { (b.buf0 ? b.buf0 : d)->buffer, 0, VK_WHOLE_SIZE },
        { (b.buf1 ? b.buf1 : d)->buffer, 0, VK_WHOLE_SIZE },
    };
    VkWriteDescriptorSet w[NST_BINDINGS];
    int ret = nst_vk_check(net->vk, vkAllocateDescriptorSets(net->vk->device, &alloc, set),
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
    vkUpdateDescriptorSets(net->vk->device, NST_BINDINGS, w, 0, NULL);
    return NST_OK;
}

void nst_net_record(NstNet *net, const NstStep *s)
{
    VkCommandBuffer cmd = net->vk->cmd;
    const NstPipeline *p = &net->pipes->list[s->pipeline];

    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, net->pipes->layout,
                            0, 1, &s->set, 0, NULL);
    vkCmdPushConstants(cmd, net->pipes->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                       NST_PUSH_WORDS * 4, s->push);
    vkCmdDispatch(cmd, s->groups[0], s->groups[1], s->groups[2]);
    nst_vk_barrier(net->vk);
    nst_profiler_mark(&net->prof, net->vk, s->pipeline, s->layer);
}

static const char *pipeline_name(void *opaque, int pipeline)
{
    const NstPipelines *P = opaque;

    return pipeline < 0 || pipeline >= P->n ? "?" : nst_shader_table[P->list[pipeline].shader].name;
}

int nst_net_profile_done(NstNet *net)
{
    return nst_profiler_collect(&net->prof, net->vk, pipeline_name, net->pipes);
}

/* lavapipe compiles a pipeline at its first dispatch (tens to hundreds of
 * ms each): dispatch every one once now, with sizes of zero, so that the
 * first frame costs what every other frame does. */
static int warm_up(NstNet *net)
{
    NstStep s = { 0 };
    Binds none = { 0 };
    int ret;

    if ((ret = nst_net_pool(net, 1, &net->warm_pool)) < 0 ||
        (ret = nst_net_set(net, net->warm_pool, none, &s.set)) < 0 ||
        (ret = nst_vk_begin(net->vk)) < 0)
        return ret;
    s.groups[0] = s.groups[1] = s.groups[2] = 1;
    for (int i = 0; i < net->pipes->n; i++) {
        s.pipeline = i;
        nst_net_record(net, &s);
    }
    return nst_vk_submit_wait(net->vk);
}

static int infer_shapes(NstNet *net);
static int value_size(const NstNet *net, int v, int *w, int *h, int *c4);

/* The network's output is cropped to the frame: it must not be smaller. */
static int check_output_size(const NstNet *net)
{
    int tw, th, tc4;

    value_size(net, net->final_value, &tw, &th, &tc4);
    if (tw < net->in_w || th < net->in_h) {
        nst_log(net->vk->log, NST_LOG_ERROR, "the network turns a %dx%d input into "
                "%dx%d; it must not shrink it", net->in_w, net->in_h, tw, th);
        return NST_ERR_UNSUPPORTED;
    }
    return NST_OK;
}

int nst_net_check_frames(NstNet *net)
{
    int ret;

    net->in_w = net->in_h = 256;
    if ((ret = infer_shapes(net)) >= 0)
        ret = check_output_size(net);
    net->in_w = net->in_h = 0;
    return ret;
}

int nst_net_init(NstNet *net, NstVk *vk, NstPipelines *pipes, const NstModel *m,
                 int fp16, int fp16_arith)
{
    int ret;

    memset(net, 0, sizeof(*net));
    net->vk = vk;
    net->fp16 = fp16;
    net->fp16_arith = fp16_arith;
    net->pipes = pipes;
    net->output = m->layers[m->n_layers - 1];
    net->input_bgr = m->input_bgr;
    net->input_min = m->input_min;
    net->input_max = m->input_max;
    if ((ret = build_exec(net, m)) < 0 ||
        (ret = nst_vk_buffer_create(vk, &net->dummy, 256,
                                    NST_BUF_TENSOR | NST_BUF_STORAGE)) < 0 ||
        (ret = upload_weights(net, m)) < 0 ||
        (ret = create_pipelines(net)) < 0 ||
        (ret = nst_resize_init(&net->resize, pipes, fp16)) < 0 ||
        (ret = warm_up(net)) < 0) {
        nst_net_free(net);
        return ret;
    }
    /* the exec copies must not point at the model's weights any more */
    for (int e = 0; e < net->n_exec; e++) {
        NstLayer *L = &net->exec_layers[e];
        L->weight = L->bias = L->scale = L->shift = NULL;
    }
    net->output.weight = net->output.bias = NULL;
    net->output.scale = net->output.shift = NULL;
    return NST_OK;
}

/* ---- planning for a frame size ------------------------------------------- */

static void free_buffer_plan(NstNet *net)
{
    free(net->buffers);
    free(net->buffer_size);
    free(net->buffer_offset);
    free(net->buffer_texel);
    net->buffers = NULL;
    net->buffer_size = NULL;
    net->buffer_offset = NULL;
    net->buffer_texel = NULL;
    net->n_buffers = 0;
}

static void free_plan(NstNet *net)
{
    if (net->pool)
        vkDestroyDescriptorPool(net->vk->device, net->pool, NULL);
    for (int i = 0; net->buffers && i < net->n_buffers; i++)
        nst_vk_buffer_destroy(net->vk, &net->buffers[i]);
    nst_vk_buffer_destroy(net->vk, &net->arena);
    nst_vk_buffer_destroy(net->vk, &net->partials);
    nst_vk_buffer_destroy(net->vk, &net->factors);
    nst_vk_buffer_destroy(net->vk, &net->staging);
    nst_vk_buffer_destroy(net->vk, &net->io);
    nst_resize_free(&net->resize, net->vk);
    free_buffer_plan(net);
    free(net->steps);
    net->pool = VK_NULL_HANDLE;
    net->steps = NULL;
    net->n_steps = 0;
    net->width = net->height = net->in_w = net->in_h = 0;
}

void nst_net_free(NstNet *net)
{
    if (!net->vk)
        return;
    free_plan(net);
    nst_profiler_free(&net->prof, net->vk);
    if (net->warm_pool)
        vkDestroyDescriptorPool(net->vk->device, net->warm_pool, NULL);
    nst_vk_buffer_destroy(net->vk, &net->weights);
    nst_vk_buffer_destroy(net->vk, &net->dummy);
    free(net->exec);
    free(net->exec_layers);
    memset(net, 0, sizeof(*net));
}

static int value_size(const NstNet *net, int v, int *w, int *h, int *c4)
{
    if (v < 0) {
        *w = net->in_w;
        *h = net->in_h;
        *c4 = 1;
    } else {
        *w = net->exec[v].out_w;
        *h = net->exec[v].out_h;
        *c4 = net->exec[v].out_c4;
    }
    return NST_OK;
}

static int infer_shapes(NstNet *net)
{
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        const NstLayer *L = exec_layer(net, x);
        int ret;

        value_size(net, x->input[0], &x->in_w, &x->in_h, &x->in_c4);
        x->in_c4 = c4_of(L->in_ch);
        ret = nst_layer_out_size(L, x->in_h, x->in_w, &x->out_h, &x->out_w);
        if (ret < 0) {
            nst_log(net->vk->log, NST_LOG_ERROR, "layer %d cannot take a %dx%d input",
                    x->layer, x->in_w, x->in_h);
            return NST_ERR_UNSUPPORTED;
        }
        x->out_c4 = c4_of(L->out_ch);
        x->tiles_x = (int)nst_groups(x->out_w, NST_WINO_TILE);
        x->tiles_y = (int)nst_groups(x->out_h, NST_WINO_TILE);
        if (x->input[1] != -2) {
            int w2, h2, c2;
            value_size(net, x->input[1], &w2, &h2, &c2);
            if (w2 != x->out_w || h2 != x->out_h) {
                nst_log(net->vk->log, NST_LOG_ERROR, "layer %d adds a %dx%d tensor "
                        "to a %dx%d one", x->last, w2, h2, x->out_w, x->out_h);
                return NST_ERR_UNSUPPORTED;
            }
        }
    }
    return NST_OK;
}

/* Lifetime of each tensor, in exec indices: from its writer to its last
 * reader (the input from -1, scratch within its exec). */
typedef struct Slot {
    int first, last;
} Slot;

/* A tensor of `texels` texels of `texel` bytes. */
static int new_slot(NstNet *net, Slot *slots, VkDeviceSize texels, int texel,
                    int first, int last)
{
    VkDeviceSize a = nst_vk_view_alignment(net->vk), size = texels * texel;
    int i = net->n_buffers++;

    net->buffer_texel[i] = texel;
    net->buffer_size[i] = (size + a - 1) / a * a;
    slots[i] = (Slot){ first, last };
    return i;
}

/* Places the tensors in the arena, largest first, each at the lowest
 * offset free of every placed tensor alive at the same time (the greedy
 * by-size plan of TFLite's arena planner): near the most bytes alive at
 * once, which is the least any plan can do. */
static VkDeviceSize place_slots(NstNet *net, const Slot *slots, int *order)
{
    int n = net->n_buffers;
    VkDeviceSize arena = 0;

    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) /* by size, descending; n is small */
        for (int j = i; j > 0 && net->buffer_size[order[j]] > net->buffer_size[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        int s = order[i];
        VkDeviceSize at = 0;
        int moved = 1;
        while (moved) { /* slide past every overlapping placed tensor */
            moved = 0;
            for (int k = 0; k < i; k++) {
                int o = order[k];
                if (slots[o].last < slots[s].first || slots[s].last < slots[o].first)
                    continue; /* never alive together */
                if (at < net->buffer_offset[o] + net->buffer_size[o] &&
                    net->buffer_offset[o] < at + net->buffer_size[s]) {
                    at = net->buffer_offset[o] + net->buffer_size[o];
                    moved = 1;
                }
            }
        }
        net->buffer_offset[s] = at;
        if (at + net->buffer_size[s] > arena)
            arena = at + net->buffer_size[s];
    }
    return arena;
}

/* Gives every tensor a slot and the slots their offsets; returns the
 * arena's size in *arena. Below the frame's size, the frame's input tensor
 * has a slot of its own and the network's input lives on: the guided
 * upsampling reads both after the network. */
static int assign_buffers(NstNet *net, VkDeviceSize *arena)
{
    /* the input, per exec an output and two Winograd scratch tensors, and
     * below the frame's size the frame's own input */
    int n = net->n_exec, max = 3 * n + 2, input_last = -1, tb = net->fp16 ? 8 : 16;
    Slot *slots;
    int *order;

    net->buffers = calloc((size_t)max, sizeof(*net->buffers));
    net->buffer_size = calloc((size_t)max, sizeof(*net->buffer_size));
    net->buffer_offset = calloc((size_t)max, sizeof(*net->buffer_offset));
    net->buffer_texel = calloc((size_t)max, sizeof(*net->buffer_texel));
    slots = calloc((size_t)max, sizeof(*slots));
    order = calloc((size_t)max, sizeof(*order));
    if (!net->buffers || !net->buffer_size || !net->buffer_offset || !net->buffer_texel ||
        !slots || !order) {
        free(slots);
        free(order);
        return NST_ERR_NOMEM;
    }
    for (int e = 0; e < n; e++)
        net->exec[e].last_use = e;
    for (int e = 0; e < n; e++)
        for (int i = 0; i < 2; i++) {
            /* a banded conv runs again among its reader's steps */
            int v = net->exec[e].input[i], at = net->exec[e].band ? e + 2 : e;
            if (v == -1)
                input_last = at > input_last ? at : input_last;
            else if (v >= 0 && at > net->exec[v].last_use)
                net->exec[v].last_use = at;
        }
    if (net->final_value >= 0)
        net->exec[net->final_value].last_use = n; /* read by the output step */
    else
        input_last = n;

    net->input_buffer = new_slot(net, slots, (VkDeviceSize)net->in_w * net->in_h, tb,
                                 -1, net->resize.active ? n : input_last);
    for (int e = 0; e < n; e++) {
        NstExec *x = &net->exec[e];
        VkDeviceSize tiles = (VkDeviceSize)x->tiles_x * NST_WINO_POS *
                             (x->band_rows ? x->band_rows : x->tiles_y);
        /* fp32 always: the inverse transform multiplies rounding errors */
        if (x->wino) {
            x->buf_v = new_slot(net, slots, tiles * x->in_c4, 16, e, e);
            x->buf_m = new_slot(net, slots, tiles * x->out_c4, 16, e, e);
        }
        if (x->deferred) { /* its value is its input's tensor, read later */
            x->buffer = x->input[0] < 0 ? net->input_buffer : net->exec[x->input[0]].buffer;
            if (slots[x->buffer].last < x->last_use)
                slots[x->buffer].last = x->last_use;
            continue;
        }
        x->buffer = new_slot(net, slots, (VkDeviceSize)x->out_w * x->out_c4 *
                             (x->band ? x->band_rows : x->out_h), tb, e, x->last_use);
    }
    net->frame_buffer = net->input_buffer;
    if (net->resize.active)
        net->frame_buffer = new_slot(net, slots, (VkDeviceSize)net->width * net->height, tb,
                                     -1, n);
    *arena = place_slots(net, slots, order);
    free(slots);
    free(order);
    return NST_OK;
}

static int check_texels(NstNet *net, VkDeviceSize texels)
{
    uint32_t limit = net->vk->props.limits.maxTexelBufferElements;

    if (texels > limit) {
        nst_log(net->vk->log, NST_LOG_ERROR, "a %dx%d frame needs a tensor of "
                "%llu texels; the device allows %u per buffer", net->width,
                net->height, (unsigned long long)texels, limit);
        return NST_ERR_LIMITS;
    }
    return NST_OK;
}

static const NstBuffer *value_buffer(const NstNet *net, int v)
{
    if (v == -2)
        return NULL;
    return &net->buffers[v < 0 ? net->input_buffer : net->exec[v].buffer];
}

int nst_net_step(NstNet *net, NstStep *s, int pipeline, Binds b, const uint32_t *push,
                 int n_push, uint32_t gx, uint32_t gy, uint32_t gz)
{
    const uint32_t *max = net->vk->props.limits.maxComputeWorkGroupCount;
    int ret;

    if (gx > max[0] || gy > max[1] || gz > max[2]) {
        nst_log(net->vk->log, NST_LOG_ERROR, "a %dx%d frame needs %ux%ux%u "
                "workgroups, more than the device allows", net->width, net->height,
                gx, gy, gz);
        return NST_ERR_LIMITS;
    }
    memset(s, 0, sizeof(*s));
    if ((ret = nst_net_set(net, net->pool, b, &s->set)) < 0)
        return ret;
    s->pipeline = pipeline;
    s->layer = net->cur_layer;
    if (push)
        memcpy(s->push, push, (size_t)n_push * sizeof(*push));
    s->groups[0] = gx ? gx : 1;
    s->groups[1] = gy ? gy : 1;
    s->groups[2] = gz ? gz : 1;
    return NST_OK;
}

static int add_step(NstNet *net, int pipeline, Binds b, const uint32_t *push,
                    int n_push, uint32_t gx, uint32_t gy, uint32_t gz)
{
    int ret = nst_net_step(net, &net->steps[net->n_steps], pipeline, b, push, n_push,
                           gx, gy, gz);

    if (ret >= 0)
        net->n_steps++;
    return ret;
}

const NstLayer *nst_net_styled(const NstNet *net, const NstBuffer **buf, int *width)
{
    int h, c4;

    if (net->resize.active) {
        *buf = &net->resize.out;
        *width = net->width;
        return &net->resize.identity;
    }
    *buf = value_buffer(net, net->final_value);
    value_size(net, net->final_value, width, &h, &c4);
    return &net->output;
}

static int conv_pad(const NstLayer *L, int in, int out)
{
    int total;

    if (L->op == NST_OP_CONV_TRANSPOSE)
        total = L->kernel > L->stride ? L->kernel - L->stride : 0;
    else if (L->padding == NST_PAD_SAME)
        total = (out - 1) * L->stride + L->kernel - in;
    else
        return L->kernel / 2;
    return total > 0 ? total / 2 : 0;
}

/* The factors of the norm a conv applies to its input, if it does. */
static int norm_in_off(const NstNet *net, const NstExec *x)
{
    return x->norm_in ? net->exec[x->input[0]].ab_off : 0;
}

/* Rows of a conv: y0..y1-1 of its result, read from a buffer that holds
 * its input's rows from src_y0 (src_h rows), written into one that holds
 * its result's rows from dst_y0 (dst_h rows). A whole tensor is a band
 * from 0 of all its rows. */
typedef struct Rows {
    int y0, y1, src_y0, src_h, dst_y0, dst_h;
} Rows;

static Rows whole_rows(const NstExec *x)
{
    return (Rows){ 0, x->out_h, 0, x->in_h, 0, x->out_h };
}

static int conv_step(NstNet *net, const NstExec *x, const NstBuffer *src,
                     const NstBuffer *dst, Rows r)
{
    const NstLayer *L = exec_layer(net, x);
    Binds b = { src, &net->weights, dst, NULL, x->norm_in ? &net->factors : NULL };
    int32_t p[17] = { x->in_w, x->in_h, x->in_c4, x->out_w, x->out_h, x->out_c4,
                      conv_pad(L, x->in_h, x->out_h), conv_pad(L, x->in_w, x->out_w),
                      x->w_off, x->b_off, norm_in_off(net, x),
                      r.y0, r.y1, r.src_y0, r.src_h, r.dst_y0, r.dst_h };
    /* a transposed conv's invocations each take one phase of x */
    int phases = L->op == NST_OP_CONV_TRANSPOSE ? L->stride : 1;
    int blocks = (int)nst_groups((int)nst_groups(x->out_w, phases), conv_px(x->ocb));

    return add_step(net, x->pipeline[0], b, (const uint32_t *)p, 17,
                    nst_groups(blocks, 64), (uint32_t)(r.y1 - r.y0),
                    (uint32_t)(x->out_c4 / x->ocb * phases));
}

/* The first statistics pass of instance norm x over npix pixels of src,
 * in planes of `plane` texels, into its partials from chunk k0. */
static int stats_step(NstNet *net, const NstExec *x, const NstBuffer *src, int plane,
                      int npix, int k0)
{
    Binds b = { src, NULL, NULL, &net->partials, NULL };
    int32_t p[6] = { npix, x->out_c4, STATS_CHUNK, x->n_chunks, plane, k0 };

    return add_step(net, x->pipeline[0], b, (const uint32_t *)p, 6,
                    nst_groups(npix, STATS_CHUNK), (uint32_t)x->out_c4, 1);
}

static int reduce_step(NstNet *net, const NstExec *x)
{
    Binds b = { NULL, &net->weights, NULL, &net->partials, &net->factors };
    int32_t head[4] = { x->n_chunks, x->out_c4, x->w_off, x->b_off };
    int32_t tail[4] = { net->norm_gate, x->hist_off,
                        x->norm_index >= net->n_norms - NST_TEMPORAL_NORM_LAST, x->ab_off };
    uint32_t push[9];

    memcpy(push, head, sizeof(head));
    nst_push_float(push, 4, exec_layer(net, x)->eps);
    memcpy(push + 5, tail, sizeof(tail));
    return add_step(net, x->pipeline[1], b, push, 9, nst_groups(x->out_c4, 64), 1, 1);
}

static int plan_exec(NstNet *net, NstExec *x)
{
    const NstLayer *L = exec_layer(net, x);
    Binds b = { value_buffer(net, x->input[0]), NULL, &net->buffers[x->buffer], NULL, NULL };
    int ret;

    if (x->norm_in)
        b.buf1 = &net->factors;
    if (x->wino) { /* a band of tile rows at a time in a tiled plan */
        const NstBuffer *v = &net->buffers[x->buf_v], *m = &net->buffers[x->buf_m];
        Binds in = { b.src0, NULL, v, NULL, b.buf1 };
        Binds gemm = { v, &net->weights, m, NULL, NULL };
        Binds out = { m, &net->weights, b.dst, NULL, NULL };
        int band = x->band_rows ? x->band_rows : x->tiles_y;
        for (int ty = 0; ty < x->tiles_y; ty += band) {
            int rows = x->tiles_y - ty < band ? x->tiles_y - ty : band;
            int tiles = x->tiles_x * rows;
            int32_t pi[7] = { x->in_w, x->in_h, x->in_c4, x->tiles_x, rows,
                              norm_in_off(net, x), ty };
            int32_t pg[4] = { tiles, x->in_c4, x->out_c4, x->w_off };
            int32_t po[7] = { x->out_w, x->out_h, x->out_c4, x->tiles_x, rows, x->b_off, ty };
            if ((ret = add_step(net, x->pipeline[0], in, (const uint32_t *)pi, 7,
                                nst_groups(x->tiles_x, 8), nst_groups(rows, 8),
                                (uint32_t)x->in_c4)) < 0 ||
                (ret = add_step(net, x->pipeline[1], gemm, (const uint32_t *)pg, 4,
                                nst_groups((int)nst_groups(tiles, conv_px(x->ocb)), 64),
                                (uint32_t)(x->out_c4 / x->ocb), NST_WINO_POS)) < 0 ||
                (ret = add_step(net, x->pipeline[2], out, (const uint32_t *)po, 7,
                                nst_groups(x->tiles_x, 8), nst_groups(rows, 8),
                                (uint32_t)x->out_c4)) < 0)
                return ret;
        }
        return NST_OK;
    }
    switch (L->op) {
    case NST_OP_CONV:
    case NST_OP_CONV_TRANSPOSE:
        return conv_step(net, x, b.src0, b.dst, whole_rows(x));
    case NST_OP_UPSAMPLE: {
        int32_t p[6] = { x->in_w, x->in_h, x->out_w, x->out_h, x->out_c4, L->stride };
        return add_step(net, x->pipeline[0], b, (const uint32_t *)p, 6,
                        nst_groups(x->out_w, 8), nst_groups(x->out_h, 8), (uint32_t)x->out_c4);
    }
    case NST_OP_INSTANCE_NORM: {
        int npix = x->in_w * x->in_h;
        if ((ret = stats_step(net, x, b.src0, npix, npix, 0)) < 0 ||
            (ret = reduce_step(net, x)) < 0)
            return ret;
        if (x->deferred)
            return NST_OK;
        int32_t pa[4] = { x->out_w, x->out_h, x->out_c4, x->ab_off };
        Binds apply = { b.src0, value_buffer(net, x->input[1]), b.dst, NULL, &net->factors };
        return add_step(net, x->pipeline[2], apply, (const uint32_t *)pa, 4,
                        nst_groups(x->out_w, 8), nst_groups(x->out_h, 8), (uint32_t)x->out_c4);
    }
    default: { /* relu, add */
        int32_t p[4] = { x->out_w, x->out_h, x->out_c4, 0 };
        b.src1 = value_buffer(net, x->input[1]);
        return add_step(net, x->pipeline[0], b, (const uint32_t *)p, 4,
                        nst_groups(x->out_w, 8), nst_groups(x->out_h, 8), (uint32_t)x->out_c4);
    }
    }
}

/* ---- tiling ----------------------------------------------------------------- */

#define TILE_BANDS 8 /* bands of a tiled conv when the size is not asked for */

static int mirror(int i, int n)
{
    i = i < 0 ? -i : i;
    return i >= n ? 2 * n - 2 - i : i;
}

/* The rows of conv x's input that its result's rows y0..y1-1 read,
 * mirrored ones included: lo..hi-1 (empty when it reads none). */
static void rows_read(const NstNet *net, const NstExec *x, int y0, int y1, int *lo, int *hi)
{
    const NstLayer *L = exec_layer(net, x);
    int pad = conv_pad(L, x->in_h, x->out_h);

    *lo = x->in_h;
    *hi = 0;
    for (int y = y0; y < y1; y++)
        for (int k = 0; k < L->kernel; k++) {
            int iy;
            if (L->op == NST_OP_CONV_TRANSPOSE) {
                int t = y + pad - k;
                if (t < 0 || t % L->stride)
                    continue;
                iy = t / L->stride;
            } else {
                iy = y * L->stride + k - pad;
                if (L->padding == NST_PAD_REFLECT)
                    iy = mirror(iy, x->in_h);
            }
            if (iy < 0 || iy >= x->in_h)
                continue;
            *lo = iy < *lo ? iy : *lo;
            *hi = iy + 1 > *hi ? iy + 1 : *hi;
        }
    if (*hi <= *lo)
        *lo = *hi = 0;
}

static int is_direct_conv(const NstNet *net, const NstExec *x)
{
    NstOp op = exec_layer(net, x)->op;
    return !x->wino && (op == NST_OP_CONV || op == NST_OP_CONV_TRANSPOSE);
}

/* Whether exec e can be kept in bands: a direct conv writing one of the
 * network's largest tensors, read only by a deferred instance norm that
 * a direct conv applies as it reads (the shape of a fast style network's
 * first and last full-resolution layers). */
static int can_band(const NstNet *net, int e, VkDeviceSize largest)
{
    const NstExec *p = &net->exec[e], *n = p + 1, *c = p + 2;
    int readers = net->final_value == e;

    if (e + 2 >= net->n_exec || !is_direct_conv(net, p) || !is_direct_conv(net, c) ||
        exec_layer(net, n)->op != NST_OP_INSTANCE_NORM || !n->deferred ||
        n->input[0] != e || c->input[0] != e + 1 ||
        (VkDeviceSize)p->out_w * p->out_h * p->out_c4 < largest)
        return 0;
    for (int r = 0; r < net->n_exec; r++)
        readers += (net->exec[r].input[0] == e) + (net->exec[r].input[1] == e);
    return readers == 1;
}

/* Bands of `rows` rows (0: the tensor's height over TILE_BANDS) for
 * every conv that can be kept in bands, and as many of a Winograd conv's
 * tile rows per pass, whose scratch (2.25 times its input and output)
 * would otherwise hold the most memory of all; returns how many convs
 * are kept in bands. */
static int mark_bands(NstNet *net, int rows)
{
    VkDeviceSize largest = 0;
    int n = 0;

    for (int e = 0; e < net->n_exec; e++) {
        const NstExec *x = &net->exec[e];
        VkDeviceSize t = (VkDeviceSize)x->out_w * x->out_h * x->out_c4;
        largest = t > largest ? t : largest;
    }
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *p = &net->exec[e], *c = p + 2;
        int r = rows > 0 ? rows : (int)nst_groups(p->out_h, TILE_BANDS);
        if (p->wino) { /* rows of the network's input, in its tile rows */
            int t = rows > 0 ? (int)((int64_t)rows * p->out_h / net->in_h / NST_WINO_TILE)
                             : (int)nst_groups(p->tiles_y, TILE_BANDS);
            p->band_rows = t < 1 ? 1 : t < p->tiles_y ? t : p->tiles_y;
            continue;
        }
        if (!can_band(net, e, largest))
            continue;
        p->band = 1;
        r = r < p->out_h ? r : p->out_h;
        /* the next conv's rows per band: about as many of the tensor's */
        p->band_out = (int)((int64_t)r * c->out_h / p->out_h);
        p->band_out = p->band_out > 0 ? p->band_out : 1;
        p->band_rows = r;
        for (int y = 0; y < c->out_h; y += p->band_out) {
            int y1 = y + p->band_out < c->out_h ? y + p->band_out : c->out_h, lo, hi;
            rows_read(net, c, y, y1, &lo, &hi);
            p->band_rows = hi - lo > p->band_rows ? hi - lo : p->band_rows;
        }
        n++;
        e += 2; /* the next conv's result is whole */
    }
    return n;
}

/* The most device memory a plan should take: half of the device's largest
 * allocation or heap, whichever is less, so that the frames, the weights,
 * the temporal state and another instance of the filter still fit. */
static VkDeviceSize plan_budget(const NstVk *vk)
{
    VkDeviceSize heap = 0;

    for (uint32_t i = 0; i < vk->mem_props.memoryHeapCount; i++)
        if (vk->mem_props.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT &&
            vk->mem_props.memoryHeaps[i].size > heap)
            heap = vk->mem_props.memoryHeaps[i].size;
    if (!heap || heap > vk->max_allocation)
        heap = vk->max_allocation;
    return heap / 2;
}

static int plan_fits(const NstNet *net, VkDeviceSize arena)
{
    for (int b = 0; b < net->n_buffers; b++)
        if (net->buffer_size[b] / net->buffer_texel[b] >
            net->vk->props.limits.maxTexelBufferElements)
            return 0;
    return arena <= plan_budget(net->vk);
}

/* Buffers for the whole-frame plan, or, where that does not fit the
 * device or tiling is asked for, for a plan that keeps the largest
 * tensors in bands. */
static int plan_buffers(NstNet *net, VkDeviceSize *arena)
{
    VkDeviceSize whole;
    int ret;

    net->tiled = 0;
    for (int e = 0; e < net->n_exec; e++)
        net->exec[e].band = net->exec[e].band_rows = 0;
    if ((ret = assign_buffers(net, arena)) < 0 || net->tile_req < 0 ||
        (net->tile_req == 0 && plan_fits(net, *arena)))
        return ret;
    whole = *arena;
    if (!(net->tiled = mark_bands(net, net->tile_req)))
        return NST_OK; /* nothing to tile: the limits are checked later */
    free_buffer_plan(net);
    if ((ret = assign_buffers(net, arena)) < 0)
        return ret;
    nst_log(net->vk->log, NST_LOG_INFO, "%dx%d network: %d tensors kept in bands, "
            "%.1f MiB of tensors instead of %.1f", net->in_w, net->in_h, net->tiled,
            *arena / 1048576.0, whole / 1048576.0);
    return NST_OK;
}

/* Chunks of each instance norm's statistics: a banded tensor's bands
 * each end in a partial one. */
static void count_chunks(NstNet *net)
{
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        const NstExec *p = e > 0 ? x - 1 : NULL;
        if (exec_layer(net, x)->op != NST_OP_INSTANCE_NORM)
            continue;
        x->n_chunks = (int)nst_groups(x->in_w * x->in_h, STATS_CHUNK);
        if (p && p->band) {
            x->n_chunks = 0;
            for (int y = 0; y < p->out_h; y += p->band_rows) {
                int rows = p->out_h - y < p->band_rows ? p->out_h - y : p->band_rows;
                x->n_chunks += (int)nst_groups(rows * p->out_w, STATS_CHUNK);
            }
        }
    }
}

/* A banded conv p, its deferred norm and the conv that reads it: p band
 * by band for the norm's statistics, then for each band of the reader's
 * rows, the rows of p it reads (again) and the reader's rows. The
 * reader's 9x9 or strided window makes the second pass recompute a few
 * rows more per band: the price of never holding p's whole result. */
static int plan_bands(NstNet *net, int e)
{
    NstExec *p = &net->exec[e], *n = p + 1, *c = p + 2;
    const NstBuffer *src = value_buffer(net, p->input[0]), *band = &net->buffers[p->buffer];
    const NstBuffer *dst = &net->buffers[c->buffer];
    int rows = p->band_rows, k0 = 0, ret;

    for (int y = 0; y < p->out_h; y += rows) {
        int y1 = y + rows < p->out_h ? y + rows : p->out_h;
        net->cur_layer = p->layer;
        if ((ret = conv_step(net, p, src, band, (Rows){ y, y1, 0, p->in_h, y, rows })) < 0)
            return ret;
        net->cur_layer = n->layer;
        if ((ret = stats_step(net, n, band, rows * p->out_w, (y1 - y) * p->out_w, k0)) < 0)
            return ret;
        k0 += (int)nst_groups((y1 - y) * p->out_w, STATS_CHUNK);
    }
    if ((ret = reduce_step(net, n)) < 0)
        return ret;
    p->step_end = n->step_end = net->n_steps;
    for (int y = 0; y < c->out_h; y += p->band_out) {
        int y1 = y + p->band_out < c->out_h ? y + p->band_out : c->out_h, lo, hi;
        rows_read(net, c, y, y1, &lo, &hi);
        net->cur_layer = p->layer;
        if ((ret = conv_step(net, p, src, band, (Rows){ lo, hi, 0, p->in_h, lo, rows })) < 0)
            return ret;
        net->cur_layer = c->layer;
        if ((ret = conv_step(net, c, band, dst, (Rows){ y, y1, lo, rows, 0, c->out_h })) < 0)
            return ret;
    }
    c->step_end = net->n_steps;
    return NST_OK;
}

/* Steps of the plan: three per exec at most, more for banded ones. */
static int count_steps(const NstNet *net)
{
    int n = 3 * net->n_exec;

    for (int e = 0; e < net->n_exec; e++) {
        const NstExec *p = &net->exec[e];
        if (p->wino && p->band_rows)
            n += 3 * (int)nst_groups(p->tiles_y, p->band_rows);
        if (p->band)
            n += 2 * (int)nst_groups(p->out_h, p->band_rows) +
                 2 * (int)nst_groups(p[2].out_h, p->band_out);
    }
    return n;
}

static int plan(NstNet *net, NstPixelFormat format, int width, int height,
                int in_w, int in_h)
{
    VkDeviceSize partials = 32, arena;
    const NstBuffer *styled;
    int n_factors, max_steps, styled_w, ret;

    net->width = width;
    net->height = height;
    net->in_w = in_w;
    net->in_h = in_h;
    net->resize.active = in_w != width || in_h != height;
    net->cur_layer = -1;
    /* a frame's work grows with its area: so does the time it may take
     * on a slow device (lavapipe on two cores: about 45 s at 3840x2160) */
    net->vk->timeout_s = NST_VK_TIMEOUT_S *
        (unsigned)(1 + (uint64_t)width * height / (1920 * 1080));
    if ((ret = nst_frame_layout(format, width, height, &net->frame)) < 0) {
        nst_log(net->vk->log, NST_LOG_ERROR, "unsupported frame %dx%d", width, height);
        return ret;
    }
    if ((ret = infer_shapes(net)) < 0)
        return ret;
    net->tile_planned = net->tile_req;
    if ((ret = plan_buffers(net, &arena)) < 0)
        return ret;
    count_chunks(net);
    for (int b = 0; b < net->n_buffers; b++)
        if ((ret = check_texels(net, net->buffer_size[b] / net->buffer_texel[b])) < 0)
            return ret;
    if ((ret = nst_vk_buffer_create(net->vk, &net->arena, arena,
                                    NST_BUF_TENSOR | NST_BUF_ARENA | NST_BUF_COPY)) < 0)
        return ret;
    for (int b = 0; b < net->n_buffers; b++)
        if ((ret = nst_vk_buffer_view(net->vk, &net->arena, net->buffer_offset[b],
                                      net->buffer_size[b], net->buffer_texel[b] == 8
                                      ? VK_FORMAT_R16G16B16A16_SFLOAT
                                      : VK_FORMAT_R32G32B32A32_SFLOAT,
                                      &net->buffers[b])) < 0)
            return ret;
    /* partials: a mean, M2 and count per chunk of a channel texel; factors:
     * the gate, then per instance norm its history and its a, b */
    net->norm_gate = 0;
    net->n_norms = 0;
    n_factors = 1;
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        if (exec_layer(net, x)->op == NST_OP_INSTANCE_NORM) {
            VkDeviceSize np = (VkDeviceSize)x->out_c4 * x->n_chunks * STATS_PART;
            partials = np > partials ? np : partials;
            x->norm_index = net->n_norms++;
            x->hist_off = n_factors;
            x->ab_off = n_factors + 2 * x->out_c4;
            n_factors += 4 * x->out_c4;
        }
    }
    if (net->frame.size > net->vk->props.limits.maxStorageBufferRange) {
        nst_log(net->vk->log, NST_LOG_ERROR, "a %dx%d frame (%zu bytes) exceeds the "
                "device's storage buffer range", width, height, net->frame.size);
        return NST_ERR_LIMITS;
    }
    if ((ret = nst_vk_buffer_create(net->vk, &net->partials, partials, NST_BUF_STORAGE)) < 0 ||
        (ret = nst_vk_buffer_create(net->vk, &net->factors, (VkDeviceSize)n_factors * 16,
                                    NST_BUF_STORAGE | NST_BUF_COPY)) < 0 ||
        (ret = nst_vk_buffer_create(net->vk, &net->staging, net->frame.size,
                                    (net->image_frames ? 0 : NST_BUF_HOST) |
                                    NST_BUF_STORAGE | NST_BUF_COPY)) < 0)
        return ret;
    net->staging_images = net->image_frames;

    max_steps = count_steps(net) + 1 + net->frame.n_planes;
    net->steps = calloc((size_t)max_steps, sizeof(*net->steps));
    if (!net->steps)
        return NST_ERR_NOMEM;
    if ((ret = nst_net_pool(net, max_steps + NST_RESIZE_STEPS, &net->pool)) < 0)
        return ret;

    /* frame -> input tensor; push constants are filled per frame */
    Binds in = { NULL, NULL, &net->buffers[net->frame_buffer], &net->staging, NULL };
    net->pix_in_step = net->n_steps;
    if ((ret = add_step(net, net->pipe_pix_in, in, NULL, 0, nst_groups(width, 8),
                        nst_groups(height, 8), 1)) < 0)
        return ret;
    net->net_first = net->n_steps;
    for (int e = 0; e < net->n_exec; e++) {
        net->cur_layer = net->exec[e].layer;
        if (net->exec[e].band) {
            if ((ret = plan_bands(net, e)) < 0)
                return ret;
            e += 2;
            continue;
        }
        if ((ret = plan_exec(net, &net->exec[e])) < 0)
            return ret;
        net->exec[e].step_end = net->n_steps;
    }
    net->cur_layer = -1;
    net->net_end = net->n_steps;
    if (net->resize.active && (ret = nst_resize_plan(&net->resize, net)) < 0)
        return ret;
    nst_net_styled(net, &styled, &styled_w);
    Binds out = { styled, NULL, NULL, &net->staging, NULL };
    net->pix_out_step = net->n_steps;
    for (int p = 0; p < net->frame.n_planes; p++)
        if ((ret = add_step(net, net->pipe_pix_out, out, NULL, 0,
                            nst_groups((int)nst_groups(net->frame.row_bytes[p], 4), 8),
                            nst_groups(net->frame.rows[p], 8), 1)) < 0)
            return ret;
    return NST_OK;
}

static int prepare(NstNet *net, NstPixelFormat format, int width, int height,
                   int in_w, int in_h)
{
    int ret;

    free_plan(net);
    if ((ret = plan(net, format, width, height, in_w, in_h)) < 0) {
        free_plan(net);
        return ret;
    }
    /* what was made for the last plan (engine/temporal.c) must be remade */
    if (!++net->plan_id)
        net->plan_id = 1;
    nst_log(net->vk->log, NST_LOG_DEBUG, "planned %dx%d, network at %dx%d: %d steps, "
            "%d buffers", width, height, in_w, in_h, net->n_steps, net->n_buffers);
    return NST_OK;
}

static int planned(const NstNet *net, NstPixelFormat format, int width, int height,
                   int in_w, int in_h)
{
    return net->width == width && net->height == height && net->frame.format == format &&
           net->in_w == in_w && net->in_h == in_h && net->tile_planned == net->tile_req &&
           net->staging_images == net->image_frames;
}

int nst_net_prepare(NstNet *net, NstPixelFormat format, int width, int height)
{
    NstResize *r = &net->resize;
    int in_w, in_h, clamped = nst_resize_net_size(r, width, height, &in_w, &in_h);
    int again = !planned(net, format, width, height, in_w, in_h);

    if (clamped && (again || r->req_new))
        nst_log(net->vk->log, NST_LOG_WARNING, "network size %dx%d is larger than the "
                "%dx%d frame: the network runs at %dx%d", r->req_w, r->req_h, width,
                height, in_w, in_h);
    r->req_new = 0;
    return again ? prepare(net, format, width, height, in_w, in_h) : NST_OK;
}

/* ---- running ---------------------------------------------------------------- */

/* Per-frame statistics unless the temporal pass opens the gate again; the
 * barrier after the first step orders this fill before the network. */
static void close_norm_gate(NstNet *net)
{
    vkCmdFillBuffer(net->vk->cmd, net->factors.buffer, (VkDeviceSize)net->norm_gate * 16,
                    16, 0);
}

int nst_net_planned_for(const NstNet *net, NstPixelFormat format, int width, int height)
{
    int in_w, in_h;

    nst_resize_net_size(&net->resize, width, height, &in_w, &in_h);
    return planned(net, format, width, height, in_w, in_h);
}

int nst_net_frame_setup(NstNet *net, const NstFrame *f, float strength, NstTemporal *t)
{
    const NstLayer *transform;
    const NstBuffer *styled;
    int styled_w, ret;

    if ((ret = nst_net_prepare(net, f->format, f->width, f->height)) < 0 ||
        (ret = check_output_size(net)) < 0)
        return ret;
    if (t && (ret = nst_temporal_prepare(t, net)) < 0)
        return ret;
    nst_frame_push_in(&net->frame, f, net->input_bgr, net->input_min, net->input_max,
                      net->steps[net->pix_in_step].push);
    transform = nst_net_styled(net, &styled, &styled_w);
    for (int p = 0; p < net->frame.n_planes; p++)
        nst_frame_push_out(&net->frame, f, transform, net->input_bgr, p, styled_w, strength,
                           net->preserve_color, net->steps[net->pix_out_step + p].push);
    return NST_OK;
}

void nst_net_frame_record(NstNet *net, const NstFrame *f, float strength, NstTemporal *t)
{
    nst_profiler_start(&net->prof, net->vk);
    close_norm_gate(net);
    nst_net_record(net, &net->steps[net->pix_in_step]);
    if (t)
        nst_temporal_record_input(t, net);
    if (net->resize.active)
        nst_resize_record_down(&net->resize, net);
    for (int s = net->net_first; s < net->net_end; s++)
        nst_net_record(net, &net->steps[s]);
    if (net->resize.active)
        nst_resize_record_up(&net->resize, net);
    if (t)
        nst_temporal_record_output(t, net, f, strength);
    else
        for (int s = net->pix_out_step; s < net->n_steps; s++)
            nst_net_record(net, &net->steps[s]);
}

int nst_net_process(NstNet *net, NstFrame *f, float strength, NstTemporal *t)
{
    int ret;

    net->image_frames = 0;
    if ((ret = nst_net_frame_setup(net, f, strength, t)) < 0)
        return ret;
    nst_frame_pack(&net->frame, f, net->staging.mapped);
    if ((ret = nst_vk_begin(net->vk)) < 0)
        return ret;
    nst_net_frame_record(net, f, strength, t);
    if ((ret = nst_vk_submit_wait_frame(net->vk)) < 0) {
        net->prof.active = 0;
        if (t)
            t->valid = 0; /* the state is half-updated at best */
        return ret;
    }
    if (t)
        nst_temporal_done(t, net);
    nst_frame_unpack(&net->frame, net->staging.mapped, f);
    return nst_net_profile_done(net);
}

int nst_net_run_tensor(NstNet *net, const NstTensor *in, int layer, NstTensor *out)
{
    const NstBuffer *src;
    VkDeviceSize in_bytes, out_bytes;
    int tw, th, tc4, ret, value = -2, channels, step_end, tb;
    float *host;
    uint16_t *half;

    memset(out, 0, sizeof(*out));
    if (in->c != 3)
        return NST_ERR_INVALID;
    /* the network proper at the tensor's size, whatever the resize request */
    if (!planned(net, NST_PIX_RGB24, in->w, in->h, in->w, in->h) &&
        (ret = prepare(net, NST_PIX_RGB24, in->w, in->h, in->w, in->h)) < 0)
        return ret;
    if (layer < 0)
        value = net->final_value;
    for (int e = 0; e < net->n_exec && value == -2; e++)
        if (net->exec[e].last == layer)
            value = e;
    if (value < 0 || net->exec[value].deferred || net->exec[value].band)
        return NST_ERR_INVALID; /* no whole tensor holds it */
    channels = net->exec_layers[value].out_ch;
    step_end = net->exec[value].step_end;
    value_size(net, value, &tw, &th, &tc4);
    tb = net->fp16 ? 8 : 16;
    in_bytes = (VkDeviceSize)in->w * in->h * tb;
    out_bytes = (VkDeviceSize)tw * th * tc4 * tb;
    if (!net->io.buffer) {
        VkDeviceSize size = 0; /* the largest buffer holds any value */
        for (int b = 0; b < net->n_buffers; b++)
            size = net->buffer_size[b] > size ? net->buffer_size[b] : size;
        if ((ret = nst_vk_buffer_create(net->vk, &net->io, size,
                                        NST_BUF_HOST | NST_BUF_COPY)) < 0)
            return ret;
    }
    host = net->io.mapped;
    half = net->io.mapped;
    memset(host, 0, in_bytes);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < in->w * in->h; i++) {
            float v = in->data[(size_t)c * in->w * in->h + i];
            if (net->fp16)
                half[4 * i + c] = nst_half_from_float(v);
            else
                host[4 * i + c] = v;
        }

    src = value_buffer(net, value);
    if ((ret = nst_vk_begin(net->vk)) < 0)
        return ret;
    close_norm_gate(net);
    vkCmdCopyBuffer(net->vk->cmd, net->io.buffer, net->buffers[net->input_buffer].buffer,
                    1, &(VkBufferCopy){ 0, net->buffers[net->input_buffer].offset, in_bytes });
    nst_vk_barrier(net->vk);
    for (int s = net->net_first; s < step_end; s++)
        nst_net_record(net, &net->steps[s]);
    vkCmdCopyBuffer(net->vk->cmd, src->buffer, net->io.buffer, 1,
                    &(VkBufferCopy){ src->offset, 0, out_bytes });
    nst_vk_barrier(net->vk);
    if ((ret = nst_vk_submit_wait(net->vk)) < 0)
        return ret;
    if ((ret = nst_tensor_alloc(out, channels, th, tw)) < 0)
        return ret;
    for (int c = 0; c < out->c; c++)
        for (int i = 0; i < tw * th; i++) {
            size_t k = ((size_t)(c / 4) * tw * th + i) * 4 + c % 4;
            out->data[(size_t)c * tw * th + i] = net->fp16 ? nst_half_to_float(half[k]) : host[k];
        }
    return NST_OK;
}

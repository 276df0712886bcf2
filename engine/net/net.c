/* The network: fusion, weights, pipelines, planning, recording. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/shape.h"
#include "net/ops.h"
#include "util/half.h"

/* ---- model -> executed layers ------------------------------------------- */

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
    nst_norm_defer(net);
end:
    free(uses);
    free(val);
    return ret;
}

/* ---- weights ------------------------------------------------------------- */

static size_t layer_texels(const NstLayer *L)
{
    switch (L->op) {
    case NST_OP_CONV:
    case NST_OP_CONV_TRANSPOSE:
        return nst_conv_texels(L);
    case NST_OP_INSTANCE_NORM:
        return nst_norm_texels(L);
    default:
        return 0;
    }
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
        int at = (int)((p - host) / 4);
        x->w_off = x->b_off = -1;
        switch (L->op) {
        case NST_OP_CONV:
        case NST_OP_CONV_TRANSPOSE:
            p += nst_conv_pack(x, L, p, at);
            break;
        case NST_OP_INSTANCE_NORM:
            p += nst_norm_pack(x, L, p, at);
            break;
        default:
            break;
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

int nst_net_pipeline(NstNet *net, const char *name, int writer, int arith,
                     const int32_t *spec, int n_spec)
{
    char full[64];

    snprintf(full, sizeof(full), "%s%s%s", name, writer && net->fp16 ? ".f16" : "",
             arith && net->fp16_arith ? ".a16" : "");
    return nst_pipeline_get(net->pipes, full, spec, n_spec);
}

static int create_pipelines(NstNet *net)
{
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        const NstLayer *L = nst_exec_layer(net, x);
        int r;

        switch (L->op) {
        case NST_OP_CONV:
        case NST_OP_CONV_TRANSPOSE:
            r = nst_conv_pipelines(net, x);
            break;
        case NST_OP_INSTANCE_NORM:
            r = nst_norm_pipelines(net, x);
            break;
        case NST_OP_UPSAMPLE:
        case NST_OP_RELU:
        case NST_OP_ADD:
            r = nst_eltwise_pipelines(net, x);
            break;
        default:
            nst_log(net->vk->log, NST_LOG_ERROR, "layer %d: op %d cannot run here",
                    x->layer, (int)L->op);
            return NST_ERR_UNSUPPORTED;
        }
        if (r < 0)
            return r;
    }
    return NST_OK;
}

/* ---- the network's life ----------------------------------------------------- */

int nst_net_init(NstNet *net, NstDispatch *gpu, const NstModel *m, int fp16,
                 int fp16_arith)
{
    int ret;

    memset(net, 0, sizeof(*net));
    net->gpu = gpu;
    net->vk = gpu->vk;
    net->pipes = gpu->pipes;
    net->fp16 = fp16;
    net->fp16_arith = fp16_arith;
    net->output = m->layers[m->n_layers - 1];
    net->input_bgr = m->input_bgr;
    net->input_min = m->input_min;
    net->input_max = m->input_max;
    net->side_buffer = -1;
    if ((ret = build_exec(net, m)) < 0 ||
        (ret = upload_weights(net, m)) < 0 ||
        (ret = create_pipelines(net)) < 0) {
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

void nst_net_free(NstNet *net)
{
    if (!net->vk)
        return;
    nst_net_free_plan(net);
    nst_vk_buffer_destroy(net->vk, &net->weights);
    free(net->exec);
    free(net->exec_layers);
    memset(net, 0, sizeof(*net));
}

/* ---- shapes ----------------------------------------------------------------- */

void nst_net_value_size(const NstNet *net, int v, int *w, int *h, int *c4)
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
}

const NstBuffer *nst_net_value_buffer(const NstNet *net, int v)
{
    if (v == -2)
        return NULL;
    return &net->buffers[v < 0 ? net->input_buffer : net->exec[v].buffer];
}

int nst_net_infer_shapes(NstNet *net)
{
    for (int e = 0; e < net->n_exec; e++) {
        NstExec *x = &net->exec[e];
        const NstLayer *L = nst_exec_layer(net, x);
        int ret;

        nst_net_value_size(net, x->input[0], &x->in_w, &x->in_h, &x->in_c4);
        x->in_c4 = nst_c4(L->in_ch);
        ret = nst_layer_out_size(L, x->in_h, x->in_w, &x->out_h, &x->out_w);
        if (ret < 0) {
            nst_log(net->vk->log, NST_LOG_ERROR, "layer %d cannot take a %dx%d input",
                    x->layer, x->in_w, x->in_h);
            return NST_ERR_UNSUPPORTED;
        }
        x->out_c4 = nst_c4(L->out_ch);
        x->tiles_x = (int)nst_groups(x->out_w, NST_WINO_TILE);
        x->tiles_y = (int)nst_groups(x->out_h, NST_WINO_TILE);
        if (x->input[1] != -2) {
            int w2, h2, c2;
            nst_net_value_size(net, x->input[1], &w2, &h2, &c2);
            if (w2 != x->out_w || h2 != x->out_h) {
                nst_log(net->vk->log, NST_LOG_ERROR, "layer %d adds a %dx%d tensor "
                        "to a %dx%d one", x->last, w2, h2, x->out_w, x->out_h);
                return NST_ERR_UNSUPPORTED;
            }
        }
    }
    return NST_OK;
}

int nst_net_check_output(const NstNet *net)
{
    int tw, th, tc4;

    nst_net_value_size(net, net->final_value, &tw, &th, &tc4);
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
    if ((ret = nst_net_infer_shapes(net)) >= 0)
        ret = nst_net_check_output(net);
    net->in_w = net->in_h = 0;
    return ret;
}

const NstBuffer *nst_net_input(const NstNet *net)
{
    return &net->buffers[net->input_buffer];
}

const NstBuffer *nst_net_side(const NstNet *net)
{
    return net->side_buffer >= 0 ? &net->buffers[net->side_buffer] : NULL;
}

const NstBuffer *nst_net_output(const NstNet *net, int *width)
{
    int h, c4;

    nst_net_value_size(net, net->final_value, width, &h, &c4);
    return nst_net_value_buffer(net, net->final_value);
}

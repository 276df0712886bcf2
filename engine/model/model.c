/*
 * style.bin reader (docs/style-bin.md): the two ways in, reading the file,
 * building the NstModel from the checked tables, freeing and querying it.
 *
 * The file is untrusted. Every count, offset, size, shape, enum, index and
 * float is checked against the file size and against each other before
 * anything is allocated in proportion to it, so a short file can never make
 * the reader allocate much more than its own size (NST_MODEL_ALLOC_LIMIT in
 * model.h says how much; tests/fuzz/fuzz_model.c checks it on every input).
 * Every rejection says which field held which value. The checks are in
 * sections.c (header, metadata, sections, tensor table) and layers.c (layer
 * table); parse() below runs them in order.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/parser.h"

/* ---- building the model ---------------------------------------------------- */

static char *dup_text(const uint8_t *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int copy_meta(Parser *p, NstModel *m)
{
    uint32_t i;

    if (!p->h.n_meta)
        return NST_OK;
    m->meta = calloc(p->h.n_meta, sizeof(*m->meta));
    if (!m->meta)
        return fail(p, NST_ERR_NOMEM, "out of memory");
    m->n_meta = (int)p->h.n_meta;
    for (i = 0; i < p->h.n_meta; i++) {
        m->meta[i].key = dup_text(p->meta[i].key, p->meta[i].key_len);
        m->meta[i].value = dup_text(p->meta[i].value, p->meta[i].value_len);
        if (!m->meta[i].key || !m->meta[i].value)
            return fail(p, NST_ERR_NOMEM, "out of memory");
    }
    return NST_OK;
}

static int copy_weights(Parser *p, NstModel *m)
{
    uint32_t i;
    size_t k;

    if (p->n_weights > SIZE_MAX / sizeof(float))
        return fail(p, NST_ERR_NOMEM, "out of memory");
    m->weights = malloc(p->n_weights * sizeof(float));
    if (!m->weights)
        return fail(p, NST_ERR_NOMEM, "out of memory for %zu weights",
                    p->n_weights);
    m->n_weights = p->n_weights;
    for (i = 0; i < p->h.n_tensors; i++) {
        const TensorInfo *t = &p->tensors[i];
        const uint8_t *src = p->data + p->h.data_offset + t->offset;
        float *dst = m->weights + t->first;

        for (k = 0; k < t->count; k++)
            dst[k] = tensor_value(src, t->dtype, k);
    }
    return NST_OK;
}

static const float *tensor_data(const Parser *p, const NstModel *m,
                                uint32_t index)
{
    return index == NST_TENSOR_NONE ? NULL : m->weights + p->tensors[index].first;
}

static int copy_layers(Parser *p, NstModel *m)
{
    uint32_t i;

    m->layers = calloc(p->h.n_layers, sizeof(*m->layers));
    if (!m->layers)
        return fail(p, NST_ERR_NOMEM, "out of memory");
    m->n_layers = (int)p->h.n_layers;
    for (i = 0; i < p->h.n_layers; i++) {
        const LayerRecord *r = &p->layers[i];
        NstLayer *l = &m->layers[i];
        const float *t0 = tensor_data(p, m, r->tensor[0]);
        const float *t1 = tensor_data(p, m, r->tensor[1]);

        l->op = (NstOp)r->op;
        l->input[0] = r->input[0];
        l->input[1] = r->input[1];
        l->in_ch = (int)r->in_ch;
        l->out_ch = (int)r->out_ch;
        l->kernel = (int)r->kernel;
        l->stride = (int)r->stride;
        l->padding = (NstPadding)r->padding;
        if (l->op == NST_OP_INSTANCE_NORM) {
            l->scale = t0;
            l->shift = t1;
            l->eps = r->f[0];
        } else {
            l->weight = t0;
            l->bias = t1;
        }
        if (l->op == NST_OP_OUTPUT) {
            l->out_tanh = r->flags & 1;
            l->out_mul = r->f[0];
            l->out_add = r->f[1];
            l->out_min = r->f[2];
            l->out_max = r->f[3];
        }
    }
    return NST_OK;
}

static int build_model(Parser *p, NstModel **out)
{
    NstModel *m = calloc(1, sizeof(*m));
    int ret;

    if (!m)
        return fail(p, NST_ERR_NOMEM, "out of memory");
    m->input_bgr = p->h.input_order == 1;
    m->input_min = p->h.input_min;
    m->input_max = p->h.input_max;
    if ((ret = copy_meta(p, m)) < 0 ||
        (ret = copy_weights(p, m)) < 0 ||
        (ret = copy_layers(p, m)) < 0) {
        nst_model_free(&m);
        return ret;
    }
    *out = m;
    return NST_OK;
}

/* Validation first, in the order that keeps every read in bounds; nothing
 * proportional to a value from the file is allocated before its table is
 * known to lie in the file. */
static int parse(Parser *p, NstModel **model)
{
    int ret;

    if ((ret = nst_model_parse_header(p)) < 0 ||
        (ret = nst_model_parse_meta(p)) < 0 ||
        (ret = nst_model_check_sections(p)) < 0 ||
        (ret = nst_model_check_required_meta(p)) < 0 ||
        (ret = nst_model_parse_tensors(p)) < 0 ||
        (ret = nst_model_parse_layers(p)) < 0 ||
        (ret = nst_model_check_values(p)) < 0)
        return ret;
    return build_model(p, model);
}

static int load(const uint8_t *data, size_t size, const char *path,
                NstModel **model, char *err, size_t err_size)
{
    Parser p;
    int ret;

    memset(&p, 0, sizeof(p));
    p.data = data;
    p.size = size;
    p.path = path;
    p.err = err;
    p.err_size = err_size;
    ret = parse(&p, model);
    free(p.tensors);
    free(p.layers);
    return ret;
}

int nst_model_load_memory(const void *data, size_t size, NstModel **model,
                          char *err, size_t err_size)
{
    Parser p = { .err = err, .err_size = err_size };

    if (err && err_size)
        err[0] = '\0';
    if (!model)
        return fail(&p, NST_ERR_INVALID, "no model pointer given");
    *model = NULL;
    if (!data && size)
        return fail(&p, NST_ERR_INVALID, "no data given");
    return load(data, size, NULL, model, err, err_size);
}

/* ---- files ----------------------------------------------------------------- */

/* Size of a seekable file without reading it: -1 when unknown, -2 when
 * the position cannot be restored. Only a hint to refuse huge files before
 * reading them; the read loop enforces the limit for any file. */
static long long seekable_size(FILE *f)
{
    long pos = ftell(f), end;

    if (pos < 0 || fseek(f, 0, SEEK_END) != 0)
        return -1;
    end = ftell(f);
    if (fseek(f, pos, SEEK_SET) != 0)
        return -2;
    return end;
}

static int read_whole_file(Parser *p, FILE *f, uint8_t **out, size_t *out_size)
{
    const size_t chunk = (size_t)1 << 16;
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0;
    int ret = NST_OK;

    for (;;) {
        size_t want, got;

        if (size == cap) {
            size_t new_cap = cap ? cap * 2 : chunk;
            uint8_t *grown;

            if (size > MAX_FILE_SIZE) {
                ret = fail(p, NST_ERR_UNSUPPORTED, "the file is larger than "
                           "the 1 GiB limit for a style.bin");
                break;
            }
            /* Past the first chunk (so a directory has already failed to
             * read): look at the size before growing. */
            if (cap == chunk) {
                long long hint = seekable_size(f);

                if (hint == -2) {
                    ret = fail(p, NST_ERR_IO, "cannot seek in the file");
                    break;
                }
                if (hint > (long long)MAX_FILE_SIZE) {
                    ret = fail(p, NST_ERR_UNSUPPORTED, "the file is %lld "
                               "bytes, larger than the 1 GiB limit for a "
                               "style.bin", hint);
                    break;
                }
                /* Room for the whole file and one byte, in which fread
                 * sees the end: one buffer of the file's size, not up to
                 * twice that by doubling. A file that grows meanwhile
                 * goes on doubling from there. */
                if (hint >= (long long)new_cap)
                    new_cap = (size_t)hint + 1;
            }
            if (new_cap > MAX_FILE_SIZE + 1)
                new_cap = MAX_FILE_SIZE + 1;
            grown = realloc(buf, new_cap);
            if (!grown) {
                ret = fail(p, NST_ERR_NOMEM, "out of memory reading the file");
                break;
            }
            buf = grown;
            cap = new_cap;
        }
        want = cap - size;
        errno = 0;
        got = fread(buf + size, 1, want, f);
        size += got;
        if (got < want) {
            if (ferror(f))
                ret = fail(p, NST_ERR_IO, "cannot read: %s",
                           errno ? strerror(errno) : "read error");
            break;
        }
    }
    if (ret < 0) {
        free(buf);
        return ret;
    }
    *out = buf;
    *out_size = size;
    return NST_OK;
}

int nst_model_load_file(const char *path, NstModel **model,
                        char *err, size_t err_size)
{
    Parser p = { .path = path, .err = err, .err_size = err_size };
    uint8_t *data = NULL;
    size_t size = 0;
    FILE *f;
    int ret;

    if (err && err_size)
        err[0] = '\0';
    if (!model)
        return fail(&p, NST_ERR_INVALID, "no model pointer given");
    *model = NULL;
    if (!path) {
        p.path = NULL;
        return fail(&p, NST_ERR_INVALID, "no path given");
    }
    f = fopen(path, "rb");
    if (!f)
        return fail(&p, NST_ERR_IO, "cannot open: %s", strerror(errno));
    ret = read_whole_file(&p, f, &data, &size);
    fclose(f);
    if (ret < 0)
        return ret;
    ret = load(data, size, path, model, err, err_size);
    free(data);
    return ret;
}

/* ---- the model ------------------------------------------------------------- */

void nst_model_free(NstModel **model)
{
    NstModel *m;
    int i;

    if (!model || !*model)
        return;
    m = *model;
    for (i = 0; m->meta && i < m->n_meta; i++) {
        free(m->meta[i].key);
        free(m->meta[i].value);
    }
    free(m->meta);
    free(m->layers);
    free(m->weights);
    free(m);
    *model = NULL;
}

const char *nst_model_meta(const NstModel *model, const char *key)
{
    int i;

    if (!model || !key)
        return NULL;
    for (i = 0; i < model->n_meta; i++)
        if (!strcmp(model->meta[i].key, key))
            return model->meta[i].value;
    return NULL;
}

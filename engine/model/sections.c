/* style.bin parser: the header, metadata, sections and tensor table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/parser.h"

/* *r = a * b; 0 on success, -1 on overflow. */
static int mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    if (a && b > UINT64_MAX / a)
        return -1;
    *r = a * b;
    return 0;
}

/* NULL for well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF) without NUL, else what is wrong; *at is the offending byte. */
static const char *check_utf8(const uint8_t *s, size_t n, size_t *at)
{
    static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        size_t len, k;
        uint32_t cp;

        *at = i;
        if (!c)
            return "contains a NUL byte";
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)
            len = 2, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0)
            len = 3, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0)
            len = 4, cp = c & 0x07;
        else
            return "is not valid UTF-8";
        if (n - i < len)
            return "is not valid UTF-8 (truncated sequence)";
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return "is not valid UTF-8";
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min_cp[len] || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return "is not valid UTF-8";
        i += len;
    }
    return NULL;
}

/* "[3,3,32,64]" */
const char *nst_model_format_shape(char *buf, size_t size, uint32_t ndim,
                                   const uint32_t *shape)
{
    size_t n = 0;
    uint32_t d;

    buf[0] = '\0';
    for (d = 0; d < ndim && n < size; d++) {
        int w = snprintf(buf + n, size - n, "%s%u", d ? "," : "[", shape[d]);

        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

/* ---- header and sections --------------------------------------------------- */

static int check_magic_and_version(Parser *p)
{
    const size_t magic_len = sizeof(MAGIC) - 1;
    uint32_t version;

    if (p->size == 0)
        return fail(p, NST_ERR_FORMAT, "empty file (0 bytes), not a style.bin");
    if (memcmp(p->data, MAGIC, p->size < magic_len ? p->size : magic_len)) {
        /* the bytes that are there, in hex: they often say what it is */
        char found[3 * 8 + 1] = "";
        size_t k;

        for (k = 0; k < magic_len && k < p->size; k++)
            snprintf(found + 3 * k, sizeof(found) - 3 * k, "%02x%s",
                     p->data[k], k + 1 < magic_len && k + 1 < p->size ? " " : "");
        return fail(p, NST_ERR_FORMAT, "bad magic: not a style.bin (the file "
                    "starts with %s, not \"" MAGIC "\")", found);
    }
    if (p->size < 12)
        return fail(p, NST_ERR_FORMAT, "truncated header: the file is %zu "
                    "bytes, the header alone is %d", p->size, NST_HEADER_SIZE);
    version = rd_u32(p->data + 8);
    if (version > NST_FORMAT_VERSION)
        return fail(p, NST_ERR_UNSUPPORTED, "unsupported style.bin version "
                    "%u (this build reads version %d)", version,
                    NST_FORMAT_VERSION);
    if (version != NST_FORMAT_VERSION)
        return fail(p, NST_ERR_FORMAT, "invalid style.bin version %u (this "
                    "build reads version %d)", version, NST_FORMAT_VERSION);
    if (p->size < NST_HEADER_SIZE)
        return fail(p, NST_ERR_FORMAT, "truncated header: the file is %zu "
                    "bytes, the header alone is %d", p->size, NST_HEADER_SIZE);
    return NST_OK;
}

static int check_range(Parser *p, const char *field, uint32_t v,
                       uint32_t lo, uint32_t hi)
{
    if (v < lo || v > hi)
        return fail(p, NST_ERR_FORMAT, "header: %s is %u, must be %u..%u",
                    field, v, lo, hi);
    return NST_OK;
}

int nst_model_parse_header(Parser *p)
{
    const uint8_t *b = p->data;
    Header *h = &p->h;
    int ret, i;

    if ((ret = check_magic_and_version(p)) < 0)
        return ret;
    h->version       = rd_u32(b + 8);
    h->header_size   = rd_u32(b + 12);
    h->n_meta        = rd_u32(b + 16);
    h->n_tensors     = rd_u32(b + 20);
    h->n_layers      = rd_u32(b + 24);
    h->alignment     = rd_u32(b + 28);
    h->meta_offset   = rd_u64(b + 32);
    h->tensor_offset = rd_u64(b + 40);
    h->layer_offset  = rd_u64(b + 48);
    h->data_offset   = rd_u64(b + 56);
    h->data_size     = rd_u64(b + 64);
    h->input_order   = rd_u32(b + 72);
    h->input_min     = rd_f32(b + 76);
    h->input_max     = rd_f32(b + 80);

    if (h->header_size != NST_HEADER_SIZE)
        return fail(p, NST_ERR_FORMAT, "header: header_size is %u, must be %d",
                    h->header_size, NST_HEADER_SIZE);
    if ((ret = check_range(p, "n_meta", h->n_meta, 0, MAX_META)) < 0 ||
        (ret = check_range(p, "n_tensors", h->n_tensors,
                           MIN_TENSORS, MAX_TENSORS)) < 0 ||
        (ret = check_range(p, "n_layers", h->n_layers,
                           MIN_LAYERS, MAX_LAYERS)) < 0 ||
        (ret = check_range(p, "alignment", h->alignment,
                           MIN_ALIGNMENT, MAX_ALIGNMENT)) < 0)
        return ret;
    if (h->alignment & (h->alignment - 1))
        return fail(p, NST_ERR_FORMAT, "header: alignment %u is not a power "
                    "of two", h->alignment);
    if (h->input_order > 1)
        return fail(p, NST_ERR_FORMAT, "header: input_order is %u, must be "
                    "0 (RGB) or 1 (BGR)", h->input_order);
    if (!isfinite(h->input_min) || !isfinite(h->input_max) ||
        h->input_min == h->input_max)
        return fail(p, NST_ERR_FORMAT, "header: input range %g..%g must be "
                    "finite and not empty", h->input_min, h->input_max);
    for (i = 84; i < NST_HEADER_SIZE; i++)
        if (b[i])
            return fail(p, NST_ERR_FORMAT, "header: reserved byte %d is 0x%02x, "
                        "must be zero", i, b[i]);
    return NST_OK;
}

/* The section [offset, offset + size) lies in the file, after the header. */
static int check_section(Parser *p, const char *what, uint64_t offset,
                         uint64_t size)
{
    if (offset < NST_HEADER_SIZE)
        return fail(p, NST_ERR_FORMAT, "header: %s offset %llu lies inside the "
                    "%d-byte header", what, (unsigned long long)offset,
                    NST_HEADER_SIZE);
    if (offset > p->size || size > p->size - offset)
        return fail(p, NST_ERR_FORMAT, "%s section (offset %llu, %llu bytes) "
                    "runs past the end of the file (%zu bytes)", what,
                    (unsigned long long)offset, (unsigned long long)size,
                    p->size);
    return NST_OK;
}

/* Walks the metadata records, bounded by the file. */
int nst_model_parse_meta(Parser *p)
{
    uint64_t pos = p->h.meta_offset;
    uint32_t i, j;
    int ret;

    if ((ret = check_section(p, "metadata", pos, 0)) < 0)
        return ret;
    for (i = 0; i < p->h.n_meta; i++) {
        MetaRef *m = &p->meta[i];
        const char *why;
        size_t at;

        if (p->size - pos < 4)
            return fail(p, NST_ERR_FORMAT, "metadata record %u: key_len at "
                        "offset %llu is past the end of the file", i,
                        (unsigned long long)pos);
        m->key_len = rd_u32(p->data + pos);
        pos += 4;
        if (m->key_len < 1 || m->key_len > MAX_KEY_LEN)
            return fail(p, NST_ERR_FORMAT, "metadata record %u: key_len is %u, "
                        "must be 1..%d", i, m->key_len, MAX_KEY_LEN);
        if (p->size - pos < m->key_len)
            return fail(p, NST_ERR_FORMAT, "metadata record %u: key (key_len "
                        "%u at offset %llu) runs past the end of the file "
                        "(%zu bytes)", i, m->key_len, (unsigned long long)pos,
                        p->size);
        m->key = p->data + pos;
        pos += m->key_len;
        if ((why = check_utf8(m->key, m->key_len, &at)))
            return fail(p, NST_ERR_FORMAT, "metadata record %u: key %s "
                        "(byte %zu)", i, why, at);
        if (p->size - pos < 4)
            return fail(p, NST_ERR_FORMAT, "metadata record %u ('%.*s'): "
                        "value_len at offset %llu is past the end of the file "
                        "(%zu bytes)", i, (int)m->key_len, m->key,
                        (unsigned long long)pos, p->size);
        m->value_len = rd_u32(p->data + pos);
        pos += 4;
        if (m->value_len > MAX_VALUE_LEN)
            return fail(p, NST_ERR_FORMAT, "metadata record %u ('%.*s'): "
                        "value_len is %u, must be 0..%d", i, (int)m->key_len,
                        m->key, m->value_len, MAX_VALUE_LEN);
        if (p->size - pos < m->value_len)
            return fail(p, NST_ERR_FORMAT, "metadata record %u ('%.*s'): value "
                        "(value_len %u at offset %llu) runs past the end of "
                        "the file (%zu bytes)", i, (int)m->key_len, m->key,
                        m->value_len, (unsigned long long)pos, p->size);
        m->value = p->data + pos;
        pos += m->value_len;
        if ((why = check_utf8(m->value, m->value_len, &at)))
            return fail(p, NST_ERR_FORMAT, "metadata record %u: value of "
                        "'%.*s' %s (byte %zu)", i, (int)m->key_len, m->key,
                        why, at);
        for (j = 0; j < i; j++)
            if (p->meta[j].key_len == m->key_len &&
                !memcmp(p->meta[j].key, m->key, m->key_len))
                return fail(p, NST_ERR_FORMAT, "metadata key '%.*s' appears "
                            "twice (records %u and %u)", (int)m->key_len,
                            m->key, j, i);
    }
    p->meta_size = pos - p->h.meta_offset;
    return NST_OK;
}

int nst_model_check_required_meta(Parser *p)
{
    static const char *const required[] = { "name", "source", "license" };
    size_t r;
    uint32_t i;

    for (r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
        size_t len = strlen(required[r]);

        for (i = 0; i < p->h.n_meta; i++)
            if (p->meta[i].key_len == len &&
                !memcmp(p->meta[i].key, required[r], len))
                break;
        if (i == p->h.n_meta)
            return fail(p, NST_ERR_FORMAT, "metadata: required key '%s' is "
                        "missing", required[r]);
    }
    return NST_OK;
}

int nst_model_check_sections(Parser *p)
{
    const Header *h = &p->h;
    struct { const char *what; uint64_t offset, size; } s[4] = {
        { "metadata",     h->meta_offset,   p->meta_size },
        { "tensor table", h->tensor_offset, (uint64_t)h->n_tensors * NST_TENSOR_RECORD },
        { "layer table",  h->layer_offset,  (uint64_t)h->n_layers * NST_LAYER_RECORD },
        { "data",         h->data_offset,   h->data_size },
    };
    int i, j, ret;

    for (i = 1; i < 4; i++)
        if ((ret = check_section(p, s[i].what, s[i].offset, s[i].size)) < 0)
            return ret;
    if (h->data_offset % h->alignment)
        return fail(p, NST_ERR_FORMAT, "header: data_offset %llu is not a "
                    "multiple of the alignment %u",
                    (unsigned long long)h->data_offset, h->alignment);
    /* All four now end inside the file, so the sums cannot overflow. */
    for (i = 0; i < 4; i++)
        for (j = i + 1; j < 4; j++)
            if (s[i].offset < s[j].offset + s[j].size &&
                s[j].offset < s[i].offset + s[i].size)
                return fail(p, NST_ERR_FORMAT, "%s [%llu, %llu) and %s "
                            "[%llu, %llu) overlap", s[i].what,
                            (unsigned long long)s[i].offset,
                            (unsigned long long)(s[i].offset + s[i].size),
                            s[j].what, (unsigned long long)s[j].offset,
                            (unsigned long long)(s[j].offset + s[j].size));
    return NST_OK;
}

/* ---- tensor table ---------------------------------------------------------- */

static int parse_tensor(Parser *p, uint32_t i, TensorInfo *t)
{
    const uint8_t *r = p->data + p->h.tensor_offset + (uint64_t)i * NST_TENSOR_RECORD;
    const uint8_t *nul = memchr(r, 0, NAME_SIZE);
    uint64_t count = 1, nbytes;
    const char *why;
    char shape[64];
    size_t at;
    uint32_t d, j;

    if (!nul)
        return fail(p, NST_ERR_FORMAT, "tensor %u: name is not NUL-terminated "
                    "within its %d bytes", i, NAME_SIZE);
    if (nul == r)
        return fail(p, NST_ERR_FORMAT, "tensor %u: name is empty", i);
    if ((why = check_utf8(r, nul - r, &at)))
        return fail(p, NST_ERR_FORMAT, "tensor %u: name %s (byte %zu)", i,
                    why, at);
    t->name = (const char *)r;
    for (j = 0; j < i; j++)
        if (!strcmp(p->tensors[j].name, t->name))
            return fail(p, NST_ERR_FORMAT, "tensor %u: name '%s' is already "
                        "used by tensor %u", i, t->name, j);

    t->dtype = rd_u32(r + 40);
    t->ndim = rd_u32(r + 44);
    for (d = 0; d < MAX_NDIM; d++)
        t->shape[d] = rd_u32(r + 48 + 4 * d);
    t->offset = rd_u64(r + 64);
    t->nbytes = rd_u64(r + 72);

    if (t->dtype != DTYPE_FLOAT32 && t->dtype != DTYPE_FLOAT16)
        return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): dtype is %u, must be "
                    "0 (float32) or 1 (float16)", i, t->name, t->dtype);
    if (t->ndim < 1 || t->ndim > MAX_NDIM)
        return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): ndim is %u, must be "
                    "1..%d", i, t->name, t->ndim, MAX_NDIM);
    for (d = 0; d < MAX_NDIM; d++) {
        uint32_t n = t->shape[d];

        if (d < t->ndim && (n < 1 || n > MAX_DIM))
            return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): shape[%u] is %u, "
                        "must be 1..%d", i, t->name, d, n, MAX_DIM);
        if (d >= t->ndim && n != 1)
            return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): shape[%u] is %u, "
                        "must be 1 past ndim %u", i, t->name, d, n, t->ndim);
    }
    nst_model_format_shape(shape, sizeof(shape), t->ndim, t->shape);
    for (d = 0; d < t->ndim; d++)
        if (mul_u64(count, t->shape[d], &count) < 0)
            break;
    if (d < t->ndim || mul_u64(count, t->dtype == DTYPE_FLOAT16 ? 2 : 4,
                               &nbytes) < 0)
        return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): shape %s holds more "
                    "than 2^64 bytes", i, t->name, shape);
    if (t->nbytes != nbytes)
        return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): nbytes is %llu, shape "
                    "%s of %s needs %llu", i, t->name,
                    (unsigned long long)t->nbytes, shape,
                    t->dtype == DTYPE_FLOAT16 ? "float16" : "float32",
                    (unsigned long long)nbytes);
    if (t->offset % p->h.alignment)
        return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): offset %llu is not a "
                    "multiple of the alignment %u", i, t->name,
                    (unsigned long long)t->offset, p->h.alignment);
    if (t->offset > p->h.data_size || t->nbytes > p->h.data_size - t->offset)
        return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): offset %llu + nbytes "
                    "%llu runs past the end of the data section (data_size "
                    "%llu)", i, t->name, (unsigned long long)t->offset,
                    (unsigned long long)t->nbytes,
                    (unsigned long long)p->h.data_size);
    /* count <= nbytes <= data_size <= file size, so it fits size_t */
    t->count = (size_t)count;
    return NST_OK;
}

static int compare_offsets(const void *a, const void *b)
{
    const TensorInfo *const *x = a, *const *y = b;

    return (*x)->offset < (*y)->offset ? -1 : (*x)->offset > (*y)->offset;
}

static int check_tensor_overlap(Parser *p)
{
    uint32_t n = p->h.n_tensors, i;
    const TensorInfo **sorted = malloc(n * sizeof(*sorted));
    int ret = NST_OK;

    if (!sorted)
        return fail(p, NST_ERR_NOMEM, "out of memory");
    for (i = 0; i < n; i++)
        sorted[i] = &p->tensors[i];
    qsort(sorted, n, sizeof(*sorted), compare_offsets);
    for (i = 1; i < n; i++) {
        const TensorInfo *a = sorted[i - 1], *b = sorted[i];

        if (a->offset + a->nbytes > b->offset) {
            ret = fail(p, NST_ERR_FORMAT, "tensors '%s' (offset %llu, %llu "
                       "bytes) and '%s' (offset %llu) overlap", a->name,
                       (unsigned long long)a->offset,
                       (unsigned long long)a->nbytes, b->name,
                       (unsigned long long)b->offset);
            break;
        }
    }
    free(sorted);
    return ret;
}

int nst_model_parse_tensors(Parser *p)
{
    uint32_t i;
    int ret;

    /* The table lies in the file: this is bounded by the file size. */
    p->tensors = calloc(p->h.n_tensors, sizeof(*p->tensors));
    if (!p->tensors)
        return fail(p, NST_ERR_NOMEM, "out of memory");
    for (i = 0; i < p->h.n_tensors; i++)
        if ((ret = parse_tensor(p, i, &p->tensors[i])) < 0)
            return ret;
    if ((ret = check_tensor_overlap(p)) < 0)
        return ret;
    /* Disjoint and inside data_size: the sum of counts fits size_t. */
    for (i = 0; i < p->h.n_tensors; i++) {
        p->tensors[i].first = p->n_weights;
        p->n_weights += p->tensors[i].count;
    }
    return NST_OK;
}

int nst_model_check_values(Parser *p)
{
    uint32_t i;
    size_t k;

    for (i = 0; i < p->h.n_tensors; i++) {
        const TensorInfo *t = &p->tensors[i];
        const uint8_t *src = p->data + p->h.data_offset + t->offset;

        for (k = 0; k < t->count; k++) {
            float v = tensor_value(src, t->dtype, k);

            if (!isfinite(v))
                return fail(p, NST_ERR_FORMAT, "tensor %u ('%s'): value %zu is "
                            "%g, must be finite", i, t->name, k, v);
        }
    }
    return NST_OK;
}

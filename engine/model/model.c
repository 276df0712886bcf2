/*
 * style.bin reader (docs/style-bin.md).
 *
 * The file is untrusted. Every count, offset, size, shape, enum, index and
 * float is checked against the file size and against each other before
 * anything is allocated in proportion to it, so a short file can never make
 * the reader allocate much more than its own size (NST_MODEL_ALLOC_LIMIT in
 * model.h says how much; tests/fuzz/fuzz_model.c checks it on every input).
 * Every rejection says which field held which value.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

#define MAX_FILE_SIZE   ((size_t)1 << 30)
#define MAGIC           "NSTSTYLE"
#define MAX_META        64
#define MAX_KEY_LEN     64
#define MAX_VALUE_LEN   4096
#define MIN_TENSORS     1
#define MAX_TENSORS     1024
#define MIN_LAYERS      2
#define MAX_LAYERS      256
#define MIN_ALIGNMENT   16
#define MAX_ALIGNMENT   65536
#define NAME_SIZE       40
#define MAX_NDIM        4
#define MAX_DIM         65536
#define MAX_CHANNELS    1024
#define MAX_KERNEL      15
#define MAX_STRIDE      4
#define INPUT_CHANNELS  3
#define DTYPE_FLOAT32   0
#define DTYPE_FLOAT16   1

typedef struct Header {
    uint32_t version, header_size;
    uint32_t n_meta, n_tensors, n_layers, alignment;
    uint64_t meta_offset, tensor_offset, layer_offset;
    uint64_t data_offset, data_size;
    uint32_t input_order;
    float input_min, input_max;
} Header;

/* A metadata record, pointing into the file. */
typedef struct MetaRef {
    const uint8_t *key, *value;
    uint32_t key_len, value_len;
} MetaRef;

typedef struct TensorInfo {
    const char *name;    /* NUL-terminated inside the file's record */
    uint32_t dtype, ndim;
    uint32_t shape[MAX_NDIM];
    uint64_t offset, nbytes;
    size_t count;        /* elements */
    size_t first;        /* index of its first float in NstModel.weights */
} TensorInfo;

typedef struct LayerRecord {
    uint32_t op, flags;
    int32_t input[2];
    uint32_t tensor[2];
    uint32_t in_ch, out_ch, kernel, stride, padding, reserved;
    float f[4];
} LayerRecord;

typedef struct Parser {
    const uint8_t *data;
    size_t size;
    const char *path;    /* prefixes messages when loading a file */
    char *err;
    size_t err_size;
    Header h;
    uint64_t meta_size;
    MetaRef meta[MAX_META];
    TensorInfo *tensors; /* h.n_tensors */
    LayerRecord *layers; /* h.n_layers */
    size_t n_weights;
} Parser;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 0)))
#endif
static void format_error(char *err, size_t err_size, const char *path,
                         const char *fmt, va_list ap)
{
    int n = 0;

    if (!err || !err_size)
        return;
    err[0] = '\0';
    if (path)
        n = snprintf(err, err_size, "%s: ", path);
    if (n < 0 || (size_t)n >= err_size)
        return;
    vsnprintf(err + n, err_size - n, fmt, ap);
}

/* Formats the message into the caller's buffer and returns code. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(Parser *p, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    format_error(p->err, p->err_size, p->path, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- little-endian fields ------------------------------------------------- */

static uint32_t rd_u32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 |
           (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t rd_u64(const uint8_t *b)
{
    return rd_u32(b) | (uint64_t)rd_u32(b + 4) << 32;
}

static int32_t rd_i32(const uint8_t *b)
{
    uint32_t u = rd_u32(b);
    int32_t i;

    memcpy(&i, &u, sizeof(i));
    return i;
}

static float bits_to_float(uint32_t u)
{
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

static float rd_f32(const uint8_t *b)
{
    return bits_to_float(rd_u32(b));
}

/* IEEE binary16 to binary32, exact: subnormals are normalised, infinities
 * and NaNs stay what they are (and are then refused as not finite). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;

    if (exp == 0x1f)
        return bits_to_float(sign | 0x7f800000u | mant << 13);
    if (exp == 0) {
        if (!mant)
            return bits_to_float(sign);
        /* mant * 2^-24: shift the leading one into the implicit bit */
        exp = 127 - 15 + 1;
        while (!(mant & 0x400)) {
            mant <<= 1;
            exp--;
        }
        return bits_to_float(sign | exp << 23 | (mant & 0x3ff) << 13);
    }
    return bits_to_float(sign | (exp + 127 - 15) << 23 | mant << 13);
}

static float tensor_value(const uint8_t *src, uint32_t dtype, size_t i)
{
    if (dtype == DTYPE_FLOAT16)
        return half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    return rd_f32(src + 4 * i);
}

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

static const char *op_name(uint32_t op)
{
    static const char *const names[] = {
        [NST_OP_CONV]           = "conv",
        [NST_OP_CONV_TRANSPOSE] = "conv_transpose",
        [NST_OP_UPSAMPLE]       = "upsample",
        [NST_OP_INSTANCE_NORM]  = "instance_norm",
        [NST_OP_RELU]           = "relu",
        [NST_OP_ADD]            = "add",
        [NST_OP_OUTPUT]         = "output",
    };

    return op >= 1 && op <= NST_OP_OUTPUT ? names[op] : "unknown";
}

/* "[3,3,32,64]" */
static const char *format_shape(char *buf, size_t size, uint32_t ndim,
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

static int parse_header(Parser *p)
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
static int parse_meta(Parser *p)
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

static int check_required_meta(Parser *p)
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

static int check_sections(Parser *p)
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
    format_shape(shape, sizeof(shape), t->ndim, t->shape);
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

static int parse_tensors(Parser *p)
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

static int check_values(Parser *p)
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

/* ---- layer table ----------------------------------------------------------- */

static void read_layer(const uint8_t *r, LayerRecord *l)
{
    int k;

    l->op       = rd_u32(r + 0);
    l->flags    = rd_u32(r + 4);
    l->input[0] = rd_i32(r + 8);
    l->input[1] = rd_i32(r + 12);
    l->tensor[0] = rd_u32(r + 16);
    l->tensor[1] = rd_u32(r + 20);
    l->in_ch    = rd_u32(r + 24);
    l->out_ch   = rd_u32(r + 28);
    l->kernel   = rd_u32(r + 32);
    l->stride   = rd_u32(r + 36);
    l->padding  = rd_u32(r + 40);
    l->reserved = rd_u32(r + 44);
    for (k = 0; k < 4; k++)
        l->f[k] = rd_f32(r + 48 + 4 * k);
}

/* Which fields each op reads; the others must hold their "unused" value. */
enum {
    USE_INPUT1  = 1 << 0,
    USE_TENSOR0 = 1 << 1,
    USE_TENSOR1 = 1 << 2,
    USE_KERNEL  = 1 << 3,
    USE_STRIDE  = 1 << 4,
    USE_PADDING = 1 << 5,
    USE_FLAGS   = 1 << 6,
};

static const struct {
    unsigned uses;
    int n_floats;   /* f[0 .. n_floats-1] are parameters */
} op_fields[] = {
    [NST_OP_CONV]           = { USE_TENSOR0 | USE_TENSOR1 | USE_KERNEL |
                                USE_STRIDE | USE_PADDING, 0 },
    [NST_OP_CONV_TRANSPOSE] = { USE_TENSOR0 | USE_TENSOR1 | USE_KERNEL |
                                USE_STRIDE | USE_PADDING, 0 },
    [NST_OP_UPSAMPLE]       = { USE_STRIDE, 0 },
    [NST_OP_INSTANCE_NORM]  = { USE_TENSOR0 | USE_TENSOR1, 1 },
    [NST_OP_RELU]           = { 0, 0 },
    [NST_OP_ADD]            = { USE_INPUT1, 0 },
    [NST_OP_OUTPUT]         = { USE_FLAGS, 4 },
};

typedef struct LayerCtx {
    Parser *p;
    uint32_t index;
    const LayerRecord *l;
    const int *channels;  /* out channels of the layers before this one */
} LayerCtx;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int layer_fail(const LayerCtx *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fail(c->p, NST_ERR_FORMAT, "layer %u (%s): %s", c->index,
                op_name(c->l->op), msg);
}

static int check_unused_fields(const LayerCtx *c)
{
    const LayerRecord *l = c->l;
    unsigned uses = op_fields[l->op].uses;
    int k;

    if (!(uses & USE_FLAGS) && l->flags)
        return layer_fail(c, "flags is 0x%x, must be 0", l->flags);
    if (!(uses & USE_INPUT1) && l->input[1] != -1)
        return layer_fail(c, "input1 is %d, must be -1", (int)l->input[1]);
    if (!(uses & USE_TENSOR0) && l->tensor[0] != NST_TENSOR_NONE)
        return layer_fail(c, "tensor0 is %u, must be 0xFFFFFFFF (none)",
                          l->tensor[0]);
    if (!(uses & USE_TENSOR1) && l->tensor[1] != NST_TENSOR_NONE)
        return layer_fail(c, "tensor1 is %u, must be 0xFFFFFFFF (none)",
                          l->tensor[1]);
    if (!(uses & USE_KERNEL) && l->kernel)
        return layer_fail(c, "kernel is %u, must be 0", l->kernel);
    if (!(uses & USE_STRIDE) && l->stride)
        return layer_fail(c, "stride is %u, must be 0", l->stride);
    if (!(uses & USE_PADDING) && l->padding)
        return layer_fail(c, "padding is %u, must be 0", l->padding);
    if (l->reserved)
        return layer_fail(c, "reserved is 0x%x, must be 0", l->reserved);
    for (k = 0; k < 4; k++) {
        if (k >= op_fields[l->op].n_floats && l->f[k] != 0.0f)
            return layer_fail(c, "f[%d] is %g, must be 0", k, l->f[k]);
        if (!isfinite(l->f[k]))
            return layer_fail(c, "f[%d] is %g, must be finite", k, l->f[k]);
    }
    return NST_OK;
}

static int input_channels(const LayerCtx *c, int input)
{
    return input < 0 ? INPUT_CHANNELS : c->channels[input];
}

static int check_inputs(const LayerCtx *c)
{
    const LayerRecord *l = c->l;
    int n = l->op == NST_OP_ADD ? 2 : 1, k;

    for (k = 0; k < n; k++) {
        int32_t in = l->input[k];

        if (in < -1 || in >= (int32_t)c->index) {
            if (c->index == 0)
                return layer_fail(c, "input%d is %d, must be -1 (network "
                                  "input)", k, (int)in);
            return layer_fail(c, "input%d is %d, must be -1 (network input) or "
                              "an earlier layer 0..%u", k, (int)in,
                              c->index - 1);
        }
        if ((int64_t)l->in_ch != input_channels(c, in))
            return layer_fail(c, "in_channels is %u, but input%d (%s %d) has "
                              "%d channels", l->in_ch, k,
                              in < 0 ? "network input" : "layer", (int)in,
                              input_channels(c, in));
    }
    if (l->out_ch < 1 || l->out_ch > MAX_CHANNELS)
        return layer_fail(c, "out_channels is %u, must be 1..%d", l->out_ch,
                          MAX_CHANNELS);
    if (l->op != NST_OP_CONV && l->op != NST_OP_CONV_TRANSPOSE &&
        l->out_ch != l->in_ch)
        return layer_fail(c, "out_channels is %u, must equal in_channels %u",
                          l->out_ch, l->in_ch);
    return NST_OK;
}

/* Tensor slot k holds a tensor of exactly the given shape, or may be none. */
static int check_tensor_ref(const LayerCtx *c, int k, const char *role,
                            int optional, uint32_t ndim, const uint32_t *shape)
{
    uint32_t index = c->l->tensor[k];
    const TensorInfo *t;
    char have[64], want[64];

    if (index == NST_TENSOR_NONE) {
        if (optional)
            return NST_OK;
        return layer_fail(c, "tensor%d (%s) is none, a %s tensor is required",
                          k, role, role);
    }
    if (index >= c->p->h.n_tensors)
        return layer_fail(c, "tensor%d (%s) is %u, must be below n_tensors %u",
                          k, role, index, c->p->h.n_tensors);
    t = &c->p->tensors[index];
    if (t->ndim != ndim || memcmp(t->shape, shape, ndim * sizeof(*shape)))
        return layer_fail(c, "%s tensor '%s' has shape %s, expected %s", role,
                          t->name, format_shape(have, sizeof(have), t->ndim, t->shape),
                          format_shape(want, sizeof(want), ndim, shape));
    return NST_OK;
}

static int check_conv(const LayerCtx *c)
{
    const LayerRecord *l = c->l;
    int transpose = l->op == NST_OP_CONV_TRANSPOSE;
    uint32_t weight[4] = { l->kernel, l->kernel,
                           transpose ? l->out_ch : l->in_ch,
                           transpose ? l->in_ch : l->out_ch };
    int ret;

    if (l->kernel < 1 || l->kernel > MAX_KERNEL || (!transpose && !(l->kernel & 1)))
        return layer_fail(c, "kernel is %u, must be %s 1..%d", l->kernel,
                          transpose ? "in" : "odd and in", MAX_KERNEL);
    if (l->stride < 1 || l->stride > MAX_STRIDE)
        return layer_fail(c, "stride is %u, must be 1..%d", l->stride,
                          MAX_STRIDE);
    if (transpose && l->padding != NST_PAD_SAME)
        return layer_fail(c, "padding is %u, must be 0 (SAME)", l->padding);
    if (!transpose && l->padding > NST_PAD_REFLECT)
        return layer_fail(c, "padding is %u, must be 0 (SAME), 1 (symmetric) "
                          "or 2 (reflect)", l->padding);
    if ((ret = check_tensor_ref(c, 0, "weight", 0, 4, weight)) < 0)
        return ret;
    return check_tensor_ref(c, 1, "bias", 1, 1, &l->out_ch);
}

static int check_op_params(const LayerCtx *c)
{
    const LayerRecord *l = c->l;
    int ret;

    switch (l->op) {
    case NST_OP_CONV:
    case NST_OP_CONV_TRANSPOSE:
        return check_conv(c);
    case NST_OP_UPSAMPLE:
        if (l->stride < 2 || l->stride > MAX_STRIDE)
            return layer_fail(c, "stride (factor) is %u, must be 2..%d",
                              l->stride, MAX_STRIDE);
        return NST_OK;
    case NST_OP_INSTANCE_NORM:
        if (!(l->f[0] > 0.0f))
            return layer_fail(c, "eps f[0] is %g, must be > 0", l->f[0]);
        if ((ret = check_tensor_ref(c, 0, "scale", 0, 1, &l->in_ch)) < 0)
            return ret;
        return check_tensor_ref(c, 1, "shift", 0, 1, &l->in_ch);
    case NST_OP_OUTPUT:
        if (l->flags & ~1u)
            return layer_fail(c, "flags is 0x%x, only bit 0 (tanh) is defined",
                              l->flags);
        if (l->in_ch != INPUT_CHANNELS)
            return layer_fail(c, "in_channels is %u, must be 3", l->in_ch);
        if (!(l->f[2] < l->f[3]))
            return layer_fail(c, "clamp range f[2]..f[3] is %g..%g, needs "
                              "f[2] < f[3]", l->f[2], l->f[3]);
        return NST_OK;
    }
    return NST_OK;
}

static int check_layer(Parser *p, uint32_t i, const int *channels)
{
    const LayerRecord *l = &p->layers[i];
    LayerCtx c = { p, i, l, channels };
    int last = i == p->h.n_layers - 1, ret;

    if (l->op < NST_OP_CONV || l->op > NST_OP_OUTPUT)
        return fail(p, NST_ERR_FORMAT, "layer %u: op is %u, must be 1..7 (conv, "
                    "conv_transpose, upsample, instance_norm, relu, add, "
                    "output)", i, l->op);
    if (last && l->op != NST_OP_OUTPUT)
        return layer_fail(&c, "the last layer must be the output op, not %s",
                          op_name(l->op));
    if (!last && l->op == NST_OP_OUTPUT)
        return layer_fail(&c, "only the last layer may be the output op");
    if ((ret = check_unused_fields(&c)) < 0 ||
        (ret = check_inputs(&c)) < 0)
        return ret;
    return check_op_params(&c);
}

static int parse_layers(Parser *p)
{
    int channels[MAX_LAYERS];
    char used[MAX_LAYERS] = { 0 };
    uint32_t i, n = p->h.n_layers;
    int ret;

    p->layers = calloc(n, sizeof(*p->layers));
    if (!p->layers)
        return fail(p, NST_ERR_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        LayerRecord *l = &p->layers[i];

        read_layer(p->data + p->h.layer_offset + (uint64_t)i * NST_LAYER_RECORD, l);
        if ((ret = check_layer(p, i, channels)) < 0)
            return ret;
        channels[i] = (int)l->out_ch;
        if (l->input[0] >= 0)
            used[l->input[0]] = 1;
        if (l->op == NST_OP_ADD && l->input[1] >= 0)
            used[l->input[1]] = 1;
    }
    for (i = 0; i + 1 < n; i++)
        if (!used[i])
            return fail(p, NST_ERR_FORMAT, "layer %u (%s): its output is not "
                        "used by any later layer", i, op_name(p->layers[i].op));
    return NST_OK;
}

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

    if ((ret = parse_header(p)) < 0 ||
        (ret = parse_meta(p)) < 0 ||
        (ret = check_sections(p)) < 0 ||
        (ret = check_required_meta(p)) < 0 ||
        (ret = parse_tensors(p)) < 0 ||
        (ret = parse_layers(p)) < 0 ||
        (ret = check_values(p)) < 0)
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

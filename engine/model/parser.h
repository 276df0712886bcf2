/*
 * The style.bin parser's shared parts, private to model/: the format's
 * limits, the Parser that each pass reads the file into, the error message
 * and field readers every pass uses, and the passes that model.c's parse()
 * runs (sections.c, layers.c). Its users include model/model.h first: this
 * header does not, as model.c's including it would make a cycle.
 */
#ifndef NST_MODEL_PARSER_H
#define NST_MODEL_PARSER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* ---- error messages ------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 0)))
#endif
static inline void format_error(char *err, size_t err_size, const char *path,
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
static inline int fail(Parser *p, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    format_error(p->err, p->err_size, p->path, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- little-endian fields ------------------------------------------------- */

static inline uint32_t rd_u32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 |
           (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t rd_u64(const uint8_t *b)
{
    return rd_u32(b) | (uint64_t)rd_u32(b + 4) << 32;
}

static inline int32_t rd_i32(const uint8_t *b)
{
    uint32_t u = rd_u32(b);
    int32_t i;

    memcpy(&i, &u, sizeof(i));
    return i;
}

static inline float bits_to_float(uint32_t u)
{
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

static inline float rd_f32(const uint8_t *b)
{
    return bits_to_float(rd_u32(b));
}

/* IEEE binary16 to binary32, exact: subnormals are normalised, infinities
 * and NaNs stay what they are (and are then refused as not finite). */
static inline float half_to_float(uint16_t h)
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

static inline float tensor_value(const uint8_t *src, uint32_t dtype, size_t i)
{
    if (dtype == DTYPE_FLOAT16)
        return half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    return rd_f32(src + 4 * i);
}

/* ---- the passes, in the order parse() runs them ------------------------- */

/* sections.c */
int nst_model_parse_header(Parser *p);
int nst_model_parse_meta(Parser *p);
int nst_model_check_sections(Parser *p);
int nst_model_check_required_meta(Parser *p);
int nst_model_parse_tensors(Parser *p);
/* layers.c */
int nst_model_parse_layers(Parser *p);
/* sections.c */
int nst_model_check_values(Parser *p);

/* "[3,3,32,64]" */
const char *nst_model_format_shape(char *buf, size_t size, uint32_t ndim,
                                   const uint32_t *shape);

#endif /* NST_MODEL_PARSER_H */

/* SPIR-V of the shaders in shaders/, compiled at build time and embedded here. */
#ifndef NST_SHADERS_H
#define NST_SHADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct NstShaderCode {
    const char *name;      /* file name without .comp */
    const uint32_t *code;
    size_t size;           /* bytes */
} NstShaderCode;

/* Terminated by an entry whose name is NULL. */
extern const NstShaderCode nst_shader_table[];

#endif

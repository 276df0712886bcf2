/*
 * The fuzzing corpus as a regression test, without clang: every file of
 * tests/fuzz/corpus/<harness>/ through the libFuzzer harness's own code
 * (tests/fuzz/fuzz_<harness>.c, included here), under the sanitizers in
 * the tests-san build. This program uses no Vulkan device: fuzz_device.c's
 * stand-ins for the Vulkan entry points replace the loader's in it. The harnesses abort on any bug they look for, which
 * tests/run.sh counts as a failure.
 *
 * For the model corpus it checks more: valid-*.bin load, and each
 * bad-*.bin is refused with the message that names its defect
 * (tests/fuzz/make_corpus.py made them; regress-*.bin, inputs that once
 * crashed, need only not crash).
 *
 * Environment: NST_FUZZ_CORPUS (tests/fuzz/corpus).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define FUZZ_ENTRY fuzz_model_one
#include "fuzz/fuzz_model.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_frame_one
#include "fuzz/fuzz_frame.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_device_one
#include "fuzz/fuzz_device.c" /* its Vulkan stubs replace the loader's here */
#undef FUZZ_ENTRY

/* What the loader must say about each broken file (a part of it). */
static const struct {
    const char *file, *expect;
} bad_messages[] = {
    { "bad-empty.bin",              "empty file (0 bytes)" },
    { "bad-magic-only.bin",         "truncated header: the file is 8 bytes" },
    { "bad-bad-magic.bin",          "bad magic" },
    { "bad-truncated-12.bin",       "truncated header: the file is 12 bytes, the header alone is 96" },
    { "bad-truncated-50.bin",       "truncated header: the file is 50 bytes" },
    { "bad-truncated-95.bin",       "truncated header: the file is 95 bytes" },
    { "bad-truncated-96.bin",       "metadata record 0: key_len at offset 96 is past the end" },
    { "bad-truncated-200.bin",      "tensor table section (offset 169, 720 bytes) runs past the end of the file (200 bytes)" },
    { "bad-truncated-in-layers.bin", "layer table section (offset 889, 640 bytes) runs past the end of the file" },
    { "bad-truncated-in-data.bin",  "data section (offset 1536, 1176 bytes) runs past the end of the file (1541 bytes)" },
    { "bad-truncated-by-one.bin",   "data section (offset 1536, 1176 bytes) runs past the end of the file (2711 bytes)" },
    { "bad-version-2.bin",          "unsupported style.bin version 2" },
    { "bad-version-0.bin",          "invalid style.bin version 0" },
    { "bad-header-size-128.bin",    "header: header_size is 128, must be 96" },
    { "bad-n-meta-65.bin",          "header: n_meta is 65, must be 0..64" },
    { "bad-n-tensors-0.bin",        "header: n_tensors is 0, must be 1..1024" },
    { "bad-n-tensors-huge.bin",     "header: n_tensors is 4294967295" },
    { "bad-n-layers-1.bin",         "header: n_layers is 1, must be 2..256" },
    { "bad-n-layers-huge.bin",      "header: n_layers is 4294967295" },
    { "bad-alignment-48.bin",       "header: alignment 48 is not a power of two" },
    { "bad-alignment-128.bin",      "not a multiple of the alignment 128" },
    { "bad-meta-offset-in-header.bin", "header: metadata offset 10 lies inside the 96-byte header" },
    { "bad-tensor-offset-2^64.bin", "tensor table section (offset 18446744073709551608" },
    { "bad-tables-overlap.bin",     "overlap" },
    { "bad-data-size-2^63.bin",     "data section (offset " },
    { "bad-data-offset-misaligned.bin", "header: data_offset 1552 is not a multiple of the alignment 64" },
    { "bad-input-order-2.bin",      "header: input_order is 2" },
    { "bad-input-range-nan.bin",    "header: input range nan..255" },
    { "bad-input-range-empty.bin",  "header: input range 0..0" },
    { "bad-reserved-header-byte.bin", "header: reserved byte 90 is 0x01" },
    { "bad-dtype-2.bin",            "tensor 0 ('l0.weight'): dtype is 2" },
    { "bad-ndim-5.bin",             "tensor 0 ('l0.weight'): ndim is 5" },
    { "bad-shape-0.bin",            "tensor 0 ('l0.weight'): shape[0] is 0" },
    { "bad-shape-past-ndim.bin",    "tensor 1 ('l0.bias'): shape[1] is 2, must be 1 past ndim 1" },
    { "bad-shape-over-2^64-bytes.bin", "shape [65536,65536,65536,65536] holds more than 2^64 bytes" },
    { "bad-nbytes-mismatch.bin",    "tensor 0 ('l0.weight'): nbytes is 4, shape [3,3,3,2] of float32 needs 216" },
    { "bad-offset-misaligned.bin",  "tensor 1 ('l0.bias'): offset 4 is not a multiple of the alignment 64" },
    { "bad-offset-past-data.bin",   "tensor 1 ('l0.bias'): offset 18446744073709551552 + nbytes 8 runs past" },
    { "bad-tensors-overlap.bin",    "tensors 'l0.weight' (offset 0, 216 bytes) and 'l0.bias' (offset 0) overlap" },
    { "bad-name-empty.bin",         "tensor 1: name is empty" },
    { "bad-name-no-nul.bin",        "tensor 1: name is not NUL-terminated within its 40 bytes" },
    { "bad-name-duplicate.bin",     "tensor 1: name 'l0.weight' is already used by tensor 0" },
    { "bad-name-bad-utf8.bin",      "tensor 1: name is not valid UTF-8 (byte 1)" },
    { "bad-op-0.bin",               "layer 1: op is 0, must be 1..7" },
    { "bad-op-99.bin",              "layer 1: op is 99, must be 1..7" },
    { "bad-input-forward.bin",      "layer 3 (conv): input0 is 5, must be -1 (network input) or an earlier layer 0..2" },
    { "bad-input-self.bin",         "layer 3 (conv): input0 is 3" },
    { "bad-input-minus-2.bin",      "layer 3 (conv): input0 is -2" },
    { "bad-input1-on-conv.bin",     "layer 3 (conv): input1 is 0, must be -1" },
    { "bad-tensor0-out-of-range.bin", "layer 0 (conv): tensor0 (weight) is 5000, must be below n_tensors" },
    { "bad-weight-missing.bin",     "layer 0 (conv): tensor0 (weight) is none, a weight tensor is required" },
    { "bad-weight-wrong-shape.bin", "layer 3 (conv): weight tensor 'l0.weight' has shape [3,3,3,2], expected [3,3,2,2]" },
    { "bad-channels-mismatch.bin",  "layer 3 (conv): in_channels is 5, but input0 (layer 2) has 2 channels" },
    { "bad-out-channels-2000.bin",  "layer 0 (conv): out_channels is 2000, must be 1..1024" },
    { "bad-even-conv-kernel.bin",   "layer 0 (conv): kernel is 8, must be odd and in 1..15" },
    { "bad-stride-5.bin",           "layer 3 (conv): stride is 5, must be 1..4" },
    { "bad-padding-3.bin",          "layer 0 (conv): padding is 3" },
    { "bad-flags-on-conv.bin",      "layer 0 (conv): flags is 0x1, must be 0" },
    { "bad-reserved-layer-field.bin", "layer 0 (conv): reserved is 0x9, must be 0" },
    { "bad-eps-0.bin",              "layer 1 (instance_norm): eps f[0] is 0, must be > 0" },
    { "bad-eps-nan.bin",            "layer 1 (instance_norm): f[0] is nan, must be finite" },
    { "bad-clamp-empty.bin",        "clamp range f[2]..f[3] is 300..255" },
    { "bad-last-not-output.bin",    "the last layer must be the output op, not relu" },
    { "bad-output-not-last.bin",    "layer 2 (output): only the last layer may be the output op" },
    { "bad-unused-layer.bin",       "layer 2 (relu): its output is not used by any later layer" },
    { "bad-weight-nan.bin",         "tensor 0 ('l0.weight'): value 7 is nan, must be finite" },
    { "bad-weight-inf.bin",         "tensor 0 ('l0.weight'): value 7 is -inf, must be finite" },
    { "bad-weight-f16-nan.bin",     "value 1 is nan, must be finite" },
    { "bad-license-missing.bin",    "metadata: required key 'license' is missing" },
    { "bad-meta-key-twice.bin",     "metadata key 'name' appears twice (records 0 and 3)" },
    { "bad-meta-bad-utf8.bin",      "metadata record 0: value of 'name' is not valid UTF-8 (byte 1)" },
    { "bad-tiny-absurd.bin",        "tensor table section (offset 96, 81920 bytes) runs past the end of the file (100 bytes)" },
};

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(n ? (size_t)n : 1)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        *size = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of a directory, sorted; NULL-terminated. */
static char **list_dir(const char *dir, int *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    int cap = 0;

    *n = 0;
    if (!d)
        return NULL;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n + 1 >= cap) {
            char **grown = realloc(names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof(*names));

            if (!grown)
                break;
            names = grown;
        }
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (names) {
        qsort(names, (size_t)*n, sizeof(*names), by_name);
        names[*n] = NULL;
    }
    return names;
}

static void free_list(char **names)
{
    for (int i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* Replays a corpus directory through entry; returns how many files. */
static int replay(const char *root, const char *harness,
                  int (*entry)(const uint8_t *, size_t))
{
    char dir[1024], path[2048], name[128];
    int n, i, done = 0;
    char **files;

    snprintf(dir, sizeof(dir), "%s/%s", root, harness);
    files = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        size_t size = 0;
        uint8_t *data;

        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if (!(data = read_all(path, &size)))
            continue;
        /* a line before each, so that a crash's log names its input */
        printf("# %s\n", path);
        fflush(stdout);
        entry(data, size);
        free(data);
        done++;
    }
    snprintf(name, sizeof(name), "fuzz corpus %s: every file through "
             "fuzz_%s.c without a bug", harness, harness);
    check(done > 0 && done == n, name, "%d of %d files of %s replayed", done,
          n, dir);
    free_list(files);
    return done;
}

static void model_messages(const char *root)
{
    char dir[1024], path[2048], err[1024];
    int n, i, valid = 0, bad = 0, wrong = 0;
    char **files;
    size_t k;

    snprintf(dir, sizeof(dir), "%s/model", root);
    files = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        const char *f = files[i], *expect = NULL;
        size_t size = 0;
        uint8_t *data;
        NstModel *m = NULL;
        int ret;

        snprintf(path, sizeof(path), "%s/%s", dir, f);
        if (strncmp(f, "valid-", 6) && strncmp(f, "bad-", 4))
            continue;
        if (!(data = read_all(path, &size)))
            continue;
        err[0] = '\0';
        ret = nst_model_load_memory(data, size, &m, err, sizeof(err));
        if (!strncmp(f, "valid-", 6)) {
            valid++;
            if (ret != NST_OK) {
                printf("# %s: refused: %s\n", f, err);
                wrong++;
            }
        } else {
            bad++;
            for (k = 0; k < sizeof(bad_messages) / sizeof(bad_messages[0]); k++)
                if (!strcmp(bad_messages[k].file, f))
                    expect = bad_messages[k].expect;
            if (ret >= 0 || !expect || !strstr(err, expect)) {
                printf("# %s: code %d, message \"%s\", want \"%s\"\n", f, ret,
                       err, expect ? expect : "(no expectation in "
                       "tests/test_fuzz_corpus.c)");
                wrong++;
            }
        }
        nst_model_free(&m);
        free(data);
    }
    check(valid >= 5 && bad >= 60 && !wrong, "fuzz corpus model: valid-*.bin "
          "load, each bad-*.bin is refused with the message naming its field "
          "and value", "%d of %d valid and %d broken files wrong (lines above)",
          wrong, valid, bad);
    free_list(files);
}

int main(void)
{
    const char *root = getenv("NST_FUZZ_CORPUS");

    if (!root || !*root)
        root = "tests/fuzz/corpus";
    model_messages(root);
    replay(root, "model", fuzz_model_one);
    replay(root, "frame", fuzz_frame_one);
    replay(root, "device", fuzz_device_one);
    return check_status();
}

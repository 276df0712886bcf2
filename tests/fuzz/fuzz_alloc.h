/*
 * Adds up what this thread allocates between alloc_count_begin() and
 * alloc_count_end(), so that a harness or a test can hold a parser to a
 * bound on its allocations (NST_MODEL_ALLOC_LIMIT), rather than only notice
 * an allocation large enough to fail.
 *
 * It counts through the sanitizer runtime's malloc hooks, which see every
 * malloc, calloc and realloc (its new block) of the process without
 * replacing the allocator. Without AddressSanitizer there are no hooks:
 * ALLOC_COUNTING is 0 and the counts stay 0, so callers skip the check.
 * Header-only; for tests.
 */
#ifndef NST_TEST_FUZZ_ALLOC_H
#define NST_TEST_FUZZ_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#if defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define ALLOC_COUNTING 1
# endif
#endif
#if !defined(ALLOC_COUNTING) && defined(__SANITIZE_ADDRESS__)
# define ALLOC_COUNTING 1
#endif
#ifndef ALLOC_COUNTING
# define ALLOC_COUNTING 0
#endif

typedef struct AllocCount {
    uint64_t total;   /* bytes of every allocation, freed or not */
    uint64_t largest; /* the largest single one */
    uint64_t n;       /* how many */
} AllocCount;

/* Per thread: libFuzzer's own threads (its RSS watcher) allocate at any
 * time, and the count is only of the thread being measured. */
static _Thread_local int alloc_counting;
static _Thread_local AllocCount alloc_count;

#if ALLOC_COUNTING
/* Declared here rather than taken from <sanitizer/allocator_interface.h>,
 * which gcc does not ship; both runtimes export it. */
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));

static void alloc_count_malloc_hook(const volatile void *ptr, size_t size)
{
    (void)ptr;
    if (!alloc_counting)
        return;
    alloc_count.total += size;
    alloc_count.n++;
    if (size > alloc_count.largest)
        alloc_count.largest = size;
}

static void alloc_count_free_hook(const volatile void *ptr)
{
    (void)ptr;
}
#endif

static inline void alloc_count_begin(void)
{
#if ALLOC_COUNTING
    static int installed;

    if (!installed)
        installed = __sanitizer_install_malloc_and_free_hooks(
            alloc_count_malloc_hook, alloc_count_free_hook) != 0;
#endif
    alloc_count = (AllocCount){ 0 };
    alloc_counting = 1;
}

static inline AllocCount alloc_count_end(void)
{
    alloc_counting = 0;
    return alloc_count;
}

#endif

/*
 * Live heap by allocation site, for a running process (LD_PRELOAD): every
 * SAMPLE-th allocation is recorded with its call stack and forgotten when it
 * is freed; SIGUSR2 writes the 40 sites holding the most live bytes to
 * $HEAP_SITES_OUT (default /tmp/heap-sites.txt), with raw return addresses
 * (resolve tally's with `addr2line -f -e BINARY OFFSET | swift demangle`).
 * Made because valgrind's massif stops on this toolchain's binaries; used to
 * find what each open stream holds (Docs/benchmarks.md, "Memory per open stream").
 *
 *   gcc -O2 -shared -fPIC -o heap-sites.so tools/prof/heap-sites.c -lpthread
 *   LD_PRELOAD=$PWD/heap-sites.so tally serve ...; kill -USR2 $(pidof tally)
 *
 * Counts and bytes are of the sample: multiply by SAMPLE.
 */
#define _GNU_SOURCE
#include <execinfo.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

#define SAMPLE 8
#define DEPTH 14
#define NSITES 65536
#define NPTR (1 << 22)

typedef struct { uint64_t hash; void *frames[DEPTH]; int depth; long live; long bytes; } site_t;
static site_t sites[NSITES];
/* Sampled live pointers (open addressing; (void *)1 marks a freed slot). */
static struct { void *p; int site; size_t size; } ptrs[NPTR];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int inside;
static unsigned long counter;
static int ready;

static void record(void *p) {
    if (!p || inside || !ready) return;
    if (__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) % SAMPLE != 0) return;
    inside = 1;
    size_t size = malloc_usable_size(p);
    void *frames[DEPTH + 1];
    int n = backtrace(frames, DEPTH + 1);
    uint64_t hash = 1469598103934665603ULL;
    for (int i = 1; i < n; i++) { hash ^= (uint64_t)frames[i]; hash *= 1099511628211ULL; }
    pthread_mutex_lock(&lock);
    unsigned s = hash % NSITES;
    while (sites[s].hash && sites[s].hash != hash) s = (s + 1) % NSITES;
    if (!sites[s].hash) { sites[s].hash = hash; sites[s].depth = n - 1; memcpy(sites[s].frames, frames + 1, sizeof(void *) * (n - 1)); }
    sites[s].live++; sites[s].bytes += size;
    unsigned i = ((uintptr_t)p >> 4) % NPTR;
    while (ptrs[i].p && ptrs[i].p != (void *)1) i = (i + 1) % NPTR;
    ptrs[i].p = p; ptrs[i].site = s; ptrs[i].size = size;
    pthread_mutex_unlock(&lock);
    inside = 0;
}

static void forget(void *p) {
    if (!p || !ready) return;
    pthread_mutex_lock(&lock);
    unsigned i = ((uintptr_t)p >> 4) % NPTR;
    for (int probes = 0; ptrs[i].p && probes < NPTR; probes++, i = (i + 1) % NPTR) {
        if (ptrs[i].p != p) continue;
        sites[ptrs[i].site].live--; sites[ptrs[i].site].bytes -= ptrs[i].size;
        ptrs[i].p = (void *)1;
        break;
    }
    pthread_mutex_unlock(&lock);
}

void *malloc(size_t n) { void *p = __libc_malloc(n); record(p); return p; }
void free(void *p) { forget(p); __libc_free(p); }
void *calloc(size_t a, size_t b) { void *p = __libc_calloc(a, b); record(p); return p; }
void *realloc(void *old, size_t n) { forget(old); void *p = __libc_realloc(old, n); record(p); return p; }
int posix_memalign(void **out, size_t a, size_t n) { void *p = __libc_memalign(a, n); if (!p) return 12; record(p); *out = p; return 0; }
void *aligned_alloc(size_t a, size_t n) { void *p = __libc_memalign(a, n); record(p); return p; }
void *memalign(size_t a, size_t n) { void *p = __libc_memalign(a, n); record(p); return p; }

static int by_bytes(const void *a, const void *b) {
    long x = ((const site_t *)a)->bytes, y = ((const site_t *)b)->bytes;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void dump(int signal) {
    (void)signal;
    static site_t copy[NSITES];
    inside = 1;
    pthread_mutex_lock(&lock);
    memcpy(copy, sites, sizeof sites);
    pthread_mutex_unlock(&lock);
    qsort(copy, NSITES, sizeof(site_t), by_bytes);
    const char *path = getenv("HEAP_SITES_OUT");
    FILE *out = fopen(path ? path : "/tmp/heap-sites.txt", "w");
    if (out) {
        for (int i = 0; i < 40 && copy[i].bytes > 0; i++) {
            fprintf(out, "=== site live %ld (x%d) bytes %ld (x%d)\n", copy[i].live, SAMPLE, copy[i].bytes, SAMPLE);
            fflush(out);
            backtrace_symbols_fd(copy[i].frames, copy[i].depth, fileno(out));
        }
        fclose(out);
    }
    inside = 0;
}

__attribute__((constructor)) static void start(void) {
    void *warm[2];
    backtrace(warm, 2); /* loads the unwinder now, not inside a malloc */
    signal(SIGUSR2, dump);
    ready = 1;
}

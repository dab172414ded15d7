/*
 * The raw LMDB baseline of `tally bench append`, as an independent program:
 * COUNT values of VALUE_SIZE bytes under 8-byte big-endian keys, appended with
 * MDB_APPEND, BATCH per write transaction, each committed durably (fsync) unless
 * the last argument is "relaxed" (MDB_NOSYNC). None of Tally's encoding,
 * hashing, indexing, queueing or Swift runtime: what LMDB alone does on this
 * disk, for the same shape of write.
 *
 *   bench-lmdb-raw DIR COUNT BATCH VALUE_SIZE durable|relaxed
 *
 * DIR must be an empty or missing directory; it is created. Prints one JSON
 * object: {"events":…,"seconds":…,"events_per_sec":…}.
 *
 * Built by tools/bench: gcc -O2 tools/bench-lmdb-raw.c $(pkg-config --cflags --libs lmdb)
 */
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void fail(const char *what, int rc) {
    fprintf(stderr, "bench-lmdb-raw: %s: %s\n", what, mdb_strerror(rc));
    exit(2);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s DIR COUNT BATCH VALUE_SIZE durable|relaxed\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    long long count = atoll(argv[2]);
    long long batch = atoll(argv[3]);
    long long value_size = atoll(argv[4]);
    int durable = strcmp(argv[5], "durable") == 0;
    if (count <= 0 || batch <= 0 || value_size <= 0 || (!durable && strcmp(argv[5], "relaxed") != 0)) {
        fprintf(stderr, "bench-lmdb-raw: COUNT, BATCH and VALUE_SIZE must be positive; sync is durable or relaxed\n");
        return 2;
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        perror("bench-lmdb-raw: mkdir");
        return 2;
    }

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc;
    if ((rc = mdb_env_create(&env))) fail("mdb_env_create", rc);
    mdb_env_set_mapsize(env, (size_t)8 << 30);
    mdb_env_set_maxdbs(env, 2);
    if ((rc = mdb_env_open(env, dir, MDB_NOTLS | (durable ? 0 : MDB_NOSYNC), 0640))) fail("mdb_env_open", rc);
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn))) fail("mdb_txn_begin", rc);
    if ((rc = mdb_dbi_open(txn, "events", MDB_CREATE, &dbi))) fail("mdb_dbi_open", rc);
    if ((rc = mdb_txn_commit(txn))) fail("mdb_txn_commit", rc);

    unsigned char *value = malloc((size_t)value_size);
    for (long long i = 0; i < value_size; i++) value[i] = (unsigned char)(i * 31);
    unsigned char key[8];

    double start = now_seconds();
    uint64_t seq = 0;
    while (seq < (uint64_t)count) {
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn))) fail("mdb_txn_begin", rc);
        for (long long i = 0; i < batch && seq < (uint64_t)count; i++) {
            seq++;
            for (int b = 0; b < 8; b++) key[b] = (unsigned char)(seq >> (56 - 8 * b));
            value[0] = (unsigned char)seq; /* not a constant page pattern */
            MDB_val k = {.mv_size = 8, .mv_data = key};
            MDB_val v = {.mv_size = (size_t)value_size, .mv_data = value};
            if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND))) fail("mdb_put", rc);
        }
        if ((rc = mdb_txn_commit(txn))) fail("mdb_txn_commit", rc);
    }
    double seconds = now_seconds() - start;

    free(value);
    mdb_env_close(env);
    printf("{\"events\":%llu,\"seconds\":%.6f,\"events_per_sec\":%.0f}\n", (unsigned long long)seq, seconds, (double)seq / seconds);
    return 0;
}

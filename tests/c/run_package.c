/*
 * Links a `mnetc package --platform host` library and uses it as an app would: runs the network
 * on a raw f32 input file, writes the output to a file, and checks the documented error codes
 * (null pointers, wrong lengths, misaligned buffers) and that handles with 2, 3 and 7 threads
 * and one per CPU (0) give the same bits as one thread, as do four threads of the app running
 * at the same time, each on a handle of its own. Exit 0 when every check passed.
 * Usage: run_package INPUT.f32 OUTPUT.f32
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilenet.h"

static int failures = 0;

static void expect(int got, int want, const char *what) {
    if (got != want) {
        fprintf(stderr, "%s: returned %d, expected %d\n", what, got, want);
        failures++;
    }
}

/* An app thread with a handle of its own: runs the network three times on `input`. */
struct caller {
    const float *input;
    float output[MOBILENET_OUTPUT_LEN];
    int status;
};

static void *call(void *arg) {
    struct caller *c = arg;
    mobilenet_t *net = mobilenet_new();
    if (!net) {
        c->status = 1;
        return NULL;
    }
    for (int run = 0; run < 3 && c->status == 0; run++) {
        c->status = mobilenet_run(net, c->input, MOBILENET_INPUT_LEN, c->output,
            MOBILENET_OUTPUT_LEN);
    }
    mobilenet_free(net);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUT.f32 OUTPUT.f32\n", argv[0]);
        return 2;
    }
    static float input[MOBILENET_INPUT_LEN + 1];
    static float output[MOBILENET_OUTPUT_LEN + 1];
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(input, sizeof(float), MOBILENET_INPUT_LEN, f) != MOBILENET_INPUT_LEN) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    fclose(f);

    mobilenet_t *net = mobilenet_new();
    if (!net) {
        fprintf(stderr, "mobilenet_new returned NULL\n");
        return 1;
    }
    const char *version = mobilenet_version();
    if (strncmp(version, "mnetc ", 6) != 0 || !strstr(version, "sha256:")) {
        fprintf(stderr, "unexpected version string: %s\n", version);
        failures++;
    }

    expect(mobilenet_run(NULL, input, MOBILENET_INPUT_LEN, output, MOBILENET_OUTPUT_LEN),
        MOBILENET_ERR_NULL, "null handle");
    expect(mobilenet_run(net, NULL, MOBILENET_INPUT_LEN, output, MOBILENET_OUTPUT_LEN),
        MOBILENET_ERR_NULL, "null input");
    expect(mobilenet_run(net, input, MOBILENET_INPUT_LEN, NULL, MOBILENET_OUTPUT_LEN),
        MOBILENET_ERR_NULL, "null output");
    expect(mobilenet_run(net, input, MOBILENET_INPUT_LEN - 1, output, MOBILENET_OUTPUT_LEN),
        MOBILENET_ERR_INPUT_LEN, "short input");
    expect(mobilenet_run(net, input, MOBILENET_INPUT_LEN, output, MOBILENET_OUTPUT_LEN + 1),
        MOBILENET_ERR_OUTPUT_LEN, "long output");
    expect(mobilenet_run(net, (const float *)((const char *)input + 1), MOBILENET_INPUT_LEN,
               output, MOBILENET_OUTPUT_LEN),
        MOBILENET_ERR_ALIGNMENT, "misaligned input");

    /* Twice on the same handle: the working memory is reused, the result the same. */
    expect(mobilenet_run(net, input, MOBILENET_INPUT_LEN, output, MOBILENET_OUTPUT_LEN),
        MOBILENET_OK, "run");
    static float again[MOBILENET_OUTPUT_LEN];
    expect(mobilenet_run(net, input, MOBILENET_INPUT_LEN, again, MOBILENET_OUTPUT_LEN),
        MOBILENET_OK, "second run");
    if (memcmp(output, again, sizeof again) != 0) {
        fprintf(stderr, "two runs differ\n");
        failures++;
    }
    if (mobilenet_threads(net) != 1) {
        fprintf(stderr, "mobilenet_new: %zu threads\n", mobilenet_threads(net));
        failures++;
    }
    mobilenet_free(net);
    mobilenet_free(NULL);

    /* Several threads: the same bits, run after run. */
    static const size_t threads[] = {2, 3, 7, 0};
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        mobilenet_t *pool = mobilenet_new_threads(threads[i]);
        if (!pool) {
            fprintf(stderr, "mobilenet_new_threads(%zu) returned NULL\n", threads[i]);
            return 1;
        }
        size_t n = mobilenet_threads(pool);
        if (threads[i] != 0 ? n != threads[i] : n < 1) {
            fprintf(stderr, "mobilenet_new_threads(%zu): %zu threads\n", threads[i], n);
            failures++;
        }
        for (int run = 0; run < 3; run++) {
            memset(again, 0, sizeof again);
            expect(mobilenet_run(pool, input, MOBILENET_INPUT_LEN, again, MOBILENET_OUTPUT_LEN),
                MOBILENET_OK, "run on threads");
            if (memcmp(output, again, sizeof again) != 0) {
                fprintf(stderr, "%zu threads differ from one\n", n);
                failures++;
            }
        }
        mobilenet_free(pool);
    }

    /* Four app threads at once, each on its own handle. */
    static struct caller callers[4];
    pthread_t ids[4];
    for (int i = 0; i < 4; i++) {
        callers[i].input = input;
        if (pthread_create(&ids[i], NULL, call, &callers[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(ids[i], NULL);
        expect(callers[i].status, MOBILENET_OK, "run on an app thread");
        if (memcmp(output, callers[i].output, MOBILENET_OUTPUT_LEN * sizeof(float)) != 0) {
            fprintf(stderr, "app thread %d differs\n", i);
            failures++;
        }
    }

    f = fopen(argv[2], "wb");
    if (!f || fwrite(output, sizeof(float), MOBILENET_OUTPUT_LEN, f) != MOBILENET_OUTPUT_LEN) {
        fprintf(stderr, "cannot write %s\n", argv[2]);
        return 2;
    }
    fclose(f);
    return failures == 0 ? 0 : 1;
}

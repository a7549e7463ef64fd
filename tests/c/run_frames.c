/*
 * Links a `mnetc package --platform host --preprocess P` library and feeds it camera frames as
 * an app would: an RGBA frame (Android Bitmap), a BGRA frame (iOS CVPixelBuffer) and an NV21
 * frame (Android camera), each with padded rows, and checks the documented error codes (null
 * pointers, zero and absurd sizes, short and absurd row strides, a wrong output length).
 * Writes the three outputs (computed on two threads). Exit 0 when every check passed.
 * Usage: run_frames WIDTH HEIGHT RGBA ROW_BYTES BGRA ROW_BYTES NV21 ROW_BYTES OUT_PREFIX
 */
#include <stdint.h>
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

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(*len);
    if (data && fread(data, 1, *len, f) != *len) {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

typedef int (*run_fn)(mobilenet_t *, const unsigned char *, size_t, size_t, size_t, float *,
    size_t);

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: %s W H RGBA ROW BGRA ROW NV21 ROW OUT_PREFIX\n", argv[0]);
        return 2;
    }
    size_t w = strtoul(argv[1], NULL, 10), h = strtoul(argv[2], NULL, 10);
    run_fn fns[3] = {mobilenet_run_rgba8, mobilenet_run_bgra8, mobilenet_run_nv21};
    const char *names[3] = {"rgba8", "bgra8", "nv21"};
    static float output[MOBILENET_OUTPUT_LEN];
    mobilenet_t *net = mobilenet_new_threads(2);
    if (!net) return 1;
    for (int i = 0; i < 3; i++) {
        size_t len = 0;
        unsigned char *px = slurp(argv[3 + 2 * i], &len);
        size_t row = strtoul(argv[4 + 2 * i], NULL, 10);
        if (!px) {
            fprintf(stderr, "cannot read %s\n", argv[3 + 2 * i]);
            return 2;
        }
        size_t bpp = i == 2 ? 1 : 4;
        expect(fns[i](NULL, px, w, h, row, output, MOBILENET_OUTPUT_LEN), MOBILENET_ERR_NULL,
            "null handle");
        expect(fns[i](net, NULL, w, h, row, output, MOBILENET_OUTPUT_LEN), MOBILENET_ERR_NULL,
            "null pixels");
        expect(fns[i](net, px, w, h, row, NULL, MOBILENET_OUTPUT_LEN), MOBILENET_ERR_NULL,
            "null output");
        expect(fns[i](net, px, w, h, row, output, MOBILENET_OUTPUT_LEN - 1),
            MOBILENET_ERR_OUTPUT_LEN, "short output");
        expect(fns[i](net, px, 0, h, row, output, MOBILENET_OUTPUT_LEN), MOBILENET_ERR_FRAME_SIZE,
            "zero width");
        expect(fns[i](net, px, w, 0, row, output, MOBILENET_OUTPUT_LEN), MOBILENET_ERR_FRAME_SIZE,
            "zero height");
        expect(fns[i](net, px, 100000, h, row, output, MOBILENET_OUTPUT_LEN),
            MOBILENET_ERR_FRAME_SIZE, "absurd width");
        expect(fns[i](net, px, w, h, w * bpp - 1, output, MOBILENET_OUTPUT_LEN),
            MOBILENET_ERR_ROW_BYTES, "row stride shorter than the row");
        expect(fns[i](net, px, w, h, SIZE_MAX, output, MOBILENET_OUTPUT_LEN),
            MOBILENET_ERR_ROW_BYTES, "absurd row stride");
        expect(fns[i](net, px, w, h, row, output, MOBILENET_OUTPUT_LEN), MOBILENET_OK, names[i]);
        char path[4096];
        snprintf(path, sizeof path, "%s%s.f32", argv[9], names[i]);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(output, sizeof(float), MOBILENET_OUTPUT_LEN, f) != MOBILENET_OUTPUT_LEN) {
            fprintf(stderr, "cannot write %s\n", path);
            return 2;
        }
        fclose(f);
        free(px);
    }
    mobilenet_free(net);
    return failures == 0 ? 0 : 1;
}

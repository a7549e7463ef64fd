/*
 * A deliberate misuse that the library cannot see: an input buffer one float shorter than the
 * length passed. Built with -fsanitize=address against a library built with
 * -Zsanitizer=address, the run must be stopped by AddressSanitizer with a heap-buffer-overflow
 * inside the library (tests/c/sanitize.sh expects exactly that): the proof that the sanitizer
 * instruments the Rust code. Without sanitizers it reads past the buffer (undefined behaviour).
 */
#include <stdio.h>
#include <stdlib.h>

#include "mobilenet.h"

int main(void) {
    float *input = calloc(MOBILENET_INPUT_LEN - 1, sizeof(float));
    float *output = calloc(MOBILENET_OUTPUT_LEN, sizeof(float));
    mobilenet_t *net = mobilenet_new();
    if (!input || !output || !net) {
        return 2;
    }
    int status = mobilenet_run(net, input, MOBILENET_INPUT_LEN, output, MOBILENET_OUTPUT_LEN);
    printf("returned %d without a sanitizer report\n", status);
    mobilenet_free(net);
    free(input);
    free(output);
    return 0;
}

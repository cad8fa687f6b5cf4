/* ferry-frame-vectors: the C framing (frame.c) as a line-oriented filter, so the shared vectors in
 * packages/serial/fixtures/frames.json are checked against it (hw-tests/frame-vectors.test.ts).
 *   in:  "enc KIND SEQ PAYLOADHEX"   out: "ENCODEDHEX"            (payload "-" = empty)
 *   in:  "dec BYTESHEX"              out: one line per event, "frame KIND SEQ PAYLOADHEX" or
 *                                         "error CODE", then "end"
 * Each dec line starts a fresh receiver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static uint8_t bytes[1 << 20];

static long unhex(const char *s) {
    size_t n = strlen(s);
    if (strcmp(s, "-") == 0) return 0;
    if (n % 2 || n / 2 > sizeof bytes) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        bytes[i] = (uint8_t)v;
    }
    return (long)(n / 2);
}

static void hex(const uint8_t *p, size_t n) {
    if (n == 0) fputc('-', stdout);
    for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

int main(void) {
    static char line[(1 << 21) + 64];
    static uint8_t out[FRAME_MAX_ENCODED];
    static frame_rx_t rx;
    char op[8], a[(1 << 21) + 1];
    while (fgets(line, sizeof line, stdin)) {
        unsigned kind, seq;
        if (sscanf(line, "enc %u %u %s", &kind, &seq, a) == 3) {
            long n = unhex(a);
            size_t m = n < 0 ? 0 : frame_encode((uint8_t)kind, (uint16_t)seq, bytes, (size_t)n, out, sizeof out);
            if (m == 0) printf("error\n");
            else {
                hex(out, m);
                putchar('\n');
            }
        } else if (sscanf(line, "%7s %s", op, a) == 2 && strcmp(op, "dec") == 0) {
            long n = unhex(a);
            frame_rx_init(&rx);
            for (long i = 0; i < n; i++) {
                frame_t f;
                int code = 0;
                rx_event_t ev = frame_rx_byte(&rx, bytes[i], &f, &code);
                if (ev == RX_FRAME) {
                    printf("frame %u %u ", f.kind, f.seq);
                    hex(f.payload, f.payload_len);
                    putchar('\n');
                } else if (ev == RX_ERROR) {
                    printf("error %d\n", code);
                }
            }
            printf("end\n");
        } else {
            printf("bad line\n");
        }
        fflush(stdout);
    }
    return 0;
}

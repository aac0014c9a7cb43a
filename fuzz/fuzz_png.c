/* fuzz_png.c: libFuzzer target for image input through lir's own reader
 * (image_read: PNG through libpng's read setup and its transforms to 8-bit RGB, JPEG
 * through libjpeg, the size limits); the input is the file. */
#include "data/data.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *pix = NULL;
    int w, h;
    lir_error err;
    if (image_read(fuzz_file(data, size), &pix, &w, &h, &err) == 0) {
        volatile unsigned sum = 0;
        for (size_t i = 0; i < (size_t)3 * w * h; i++) sum += pix[i];
        free(pix);
    }
    return 0;
}

/* jpeg_mem.h: JPEG in memory through libjpeg, for the JPEG round trip of derived sets
 * (corrupt.c, corrupt_c.c's jpeg corruption goes through it). Images are planar uint8
 * [c][h][w]. */
#ifndef LIR_JPEG_MEM_H
#define LIR_JPEG_MEM_H

#include <stdint.h>

#define JPEG_MSG_MAX 200 /* libjpeg's JMSG_LENGTH_MAX */

/* Compresses img (c = 1 gray or 3 RGB) at quality q, libjpeg's default 4:2:0
 * settings, into *jpg (malloc'd, *jlen bytes). -1 with msg filled on failure. */
int jpeg_encode(const uint8_t *img, int c, int h, int w, int q, unsigned char **jpg,
                unsigned long *jlen, char *msg);
/* Decodes jpg into *img (malloc'd [c][*h][*w]), converting to c = 1 (gray) or 3 (RGB)
 * channels whatever the file's colour space (CMYK fails); an image larger than
 * max_side on a side is refused (0: no limit). -1 with msg filled on failure. */
int jpeg_decode(const unsigned char *jpg, unsigned long jlen, int c, int max_side, uint8_t **img,
                int *h, int *w, char *msg);

#endif

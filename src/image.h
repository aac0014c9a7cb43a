/* image.h: PNG input for `lir predict`. Any PNG colour type and bit depth becomes
 * 8-bit RGB: palette expanded, gray copied to R, G and B, 16-bit reduced to 8 bits
 * (scaled, v*255/65535 rounded), alpha dropped (not composited). Sample values are
 * taken as stored: gAMA / iCCP chunks are ignored, as PIL and torchvision do. */
#ifndef LIR_IMAGE_H
#define LIR_IMAGE_H

#include <stdint.h>

#include "util.h"

#define IMAGE_MAX_SIDE 16384

/* Reads path into a new buffer *pix of uint8 [3][h][w] (planar, like the network
 * input); *w, *h get the size. -1 with a message naming the file on any error
 * (missing file, not a PNG, corrupt data, larger than IMAGE_MAX_SIDE). */
int image_read_png(const char *path, uint8_t **pix, int *w, int *h, lir_error *err);

#endif

/* layer_conv_taps: the kernel taps of the convolution layer's output positions, and
 * the im2col / col2im of position classes (layer_conv_taps.c). Internal to
 * layer_conv*.c. */
#ifndef LIR_LAYER_CONV_TAPS_H
#define LIR_LAYER_CONV_TAPS_H

#include "nn.h"

/* Kernel taps that reach the image. Usually one set for every output position
 * (global = 1), leaving out taps that only ever read padding (8 of 9 on a 1x1
 * map). On small maps, where borders are a large share, the output positions
 * are grouped instead into classes that see the same taps (corners, edges,
 * interior): each class runs its own GEMM over exactly its taps. */
typedef struct conv_taps {
    int global, sets;
    int *count;  /* [sets] taps of each set */
    int *off;    /* [sets + 1] prefix sums of count */
    int *tap;    /* [off[sets]] tap indices ky*size + kx */
    int *npos;   /* [sets] output positions of each class (global: S) */
    int *poff;   /* [sets + 1] prefix sums of npos */
    int *pos;    /* [poff[sets]] positions oy*ow + ox (global: NULL) */
} tapset;

/* The tap plan of l (its shape set): global, or classes where they pay. */
void conv_taps_make(const conv_layer *l, tapset *ts);
void conv_taps_free(tapset *ts);

/* Class k of nb images: col [c*cnt][nb*np], col[ch*cnt + t][b*np + j] = the pixel
 * tap t of channel ch reads for the class's position j (always inside the image:
 * the class holds only those taps). */
void conv_class_im2col(const conv_layer *l, const tapset *ts, int k, const float *in, int nb,
                       float *col);
/* The adjoint of conv_class_im2col: din pixels += col. */
void conv_class_col2im(const conv_layer *l, const tapset *ts, int k, const float *col, int nb,
                       float *din);

#endif

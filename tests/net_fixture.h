/* net_fixture.h: the small networks of the tests that step a whole network.
 * NET_FIXTURE_CFG: every
 * layer type (BN and plain convolutions on maps where the taps are planned globally and
 * by position classes (2x2), max pool, shortcut, route, connected with and without an
 * activation, softmax), points c1/b1, c3 and fc, 5 classes; batch and input 8x8x3. */
#ifndef LIR_NET_FIXTURE_H
#define LIR_NET_FIXTURE_H

#define NET_FIXTURE_CFG \
    "[net]\nbatch=4\nwidth=8\nheight=8\nchannels=3\n\n" \
    "[convolutional]\nname=c1\nbn_name=b1\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\n" \
    "pad=1\nactivation=relu\n\n" \
    "[maxpool]\nsize=2\nstride=2\n\n" \
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=linear\n\n" \
    "[shortcut]\nfrom=-2\nactivation=relu\n\n" \
    "[convolutional]\nname=c3\nbatch_normalize=1\nfilters=16\nsize=3\nstride=2\npad=1\n" \
    "activation=relu\n\n" \
    "[route]\nlayers=-1\n\n" \
    "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" \
    "[avgpool]\n\n" \
    "[connected]\noutput=12\nactivation=relu\n\n" \
    "[connected]\nname=fc\noutput=5\nactivation=linear\n\n[softmax]\n"

/* NET_STEM16_CFG: the start of the bf16 and Winograd test networks: a conv-BN-ReLU
 * stem and a residual block on 16x16 maps (16 channels), then a stride-2 conv to 32
 * channels on 8x8; batch 8, input 16x16x3. The tests append their own tail. */
#define NET_STEM16_CFG \
    "[net]\nbatch=8\nwidth=16\nheight=16\nchannels=3\n" \
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\npad=1\nactivation=relu\n" \
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\npad=1\nactivation=relu\n" \
    "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\npad=1\nactivation=linear\n" \
    "[shortcut]\nfrom=-3\nactivation=relu\n" \
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=2\npad=1\nactivation=relu\n"

#endif


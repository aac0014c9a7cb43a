/* data: datasets: file-format parsers, loading by name, preprocessing, augmentation,
 * derived (corrupted) sets, PNG input. Includes base only. */
#ifndef LIR_DATA_H
#define LIR_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* data: datasets for lir. Parsers for the official files (CIFAR-10/100 binary,
 * SVHN MATLAB v5, MNIST/FashionMNIST IDX), loading by name, preprocessing to the
 * network's float input, the seeded augmenting batch loader, derived OOD sets and
 * SHA-256 checksums.
 *
 * Names: cifar10, cifar100, svhn, mnist, fashionmnist, tinyimages300k (npy.c), photos,
 * photos-val, photos-test, textures, dtd (imageset.c), gaussian, uniform, blobs (synth.c), optionally
 * followed by one or more derived transforms "@<transform><param>" applied in order to
 * the loaded split:
 *   @jpeg<q>          JPEG round trip through libjpeg at quality q (1..100)
 *   @noise<sigma>     add Gaussian noise, sigma in [0,1] pixel units (seed 1)
 *   @noise<sigma>s<k> the same with seed k
 *   @blur<sigma>      Gaussian blur, sigma in pixels (kernel radius ceil(3 sigma),
 *                     borders repeat the edge pixel)
 *   @c-<corruption>-<severity>[s<seed>]
 *                     a CIFAR-10-C corruption at severity 1..5 (seed 1 unless given),
 *                     32x32 RGB sets only; see "CIFAR-10-C" below
 * e.g. "cifar10@jpeg75", "svhn@noise0.1s7", "cifar10@blur1.0@jpeg75", "cifar10@c-fog-3".
 * Results are rounded back to uint8 (the c- corruptions truncate, as the original). The JPEG round trip matches PIL's (quality q, 4:2:0).
 * Mirror caveat: the local mirror's CIFAR-10 was rebuilt from JPEG (q75) files
 * (scripts/get_data.sh says so in the set's PROVENANCE file, see dataset_provenance).
 * To push every evaluated image (ID and OOD alike) through the same round trip,
 * eval calls dataset_transform(d, "jpeg75", err) on each loaded set (or appends
 * "@jpeg75" to each name).
 *
 * Data directory: the dir argument when not NULL, else $LIR_DATA, else "data".
 * Layout (what scripts/get_data.sh produces):
 *   DIR/cifar10/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin
 *   DIR/cifar100/cifar-100-binary/{train,test}.bin
 *   DIR/svhn/{train,test,extra}_32x32.mat
 *   DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]   (same for fashionmnist)
 *   DIR/tinyimages300k/300K_random_images.npy
 *   DIR/{photos,photos-test,textures}/MANIFEST + images/..., DIR/dtd/dtd/images/<class>/
 * Splits: "train", "test" ("extra" for svhn); tinyimages300k and photos have only
 * "train", the other new sets only "test". */



/* The network input every dataset is converted to (dataset_batch, the loader): 3
 * channels of DATA_SIDE x DATA_SIDE pixels, DATA_IMG values per image. A CIFAR record's
 * image has exactly this shape; other sizes are resized, gray copied to 3 channels. */
enum { DATA_SIDE = 32, DATA_PLANE = DATA_SIDE * DATA_SIDE, DATA_IMG = 3 * DATA_PLANE };

typedef struct {
    char name[96];   /* name it was loaded under, e.g. "cifar10@jpeg75" */
    char split[16];
    int n, c, h, w;  /* c is 1 or 3 */
    int classes;
    uint8_t *images; /* [n][c][h][w] */
    int *labels;     /* [n] */
    int *coarse;     /* [n] CIFAR-100 coarse labels, else NULL */
    char note[512];  /* what a result should say about the set (e.g. photos-test's
                        disjointness check), else "" */
} dataset;

/* Per-channel mean/std on the [0,1] scale. */
typedef struct {
    float mean[3], std[3];
} data_norm;

/* ---- loading (dataset.c) ---- */
dataset *dataset_load(const char *name, const char *split, const char *dir, lir_error *err);
void dataset_free(dataset *d);
/* Names that stand for several sets: *names gets the set names `name` stands for (n of
 * them; the caller frees each and the array): "<base>-c" gives every benchmark
 * "<base>@c-<corruption>-<severity>" (corrupt_c_expand), any other name itself. */
int dataset_expand(const char *name, char ***names, int *n, lir_error *err);
/* The known names as "cifar10, cifar100, ..." (static string). */
const char *dataset_known_names(void);
/* Name of class k of a dataset (its base name before any '@'; CIFAR-100: the fine
 * labels, in label order), or NULL for an unknown set or k out of range. */
const char *dataset_class_name(const char *name, int k);
/* The split `lir data info` shows when none is given: "train" for the training-only
 * sets (tinyimages300k, photos), else "test". */
const char *dataset_default_split(const char *name);
/* The files a split is read from, in reading order (for checksums in results), up to
 * cap paths of DATASET_PATH bytes under dataset_dir(dir) into paths; returns the count:
 * 0 for generated sets and unknown sets or splits; for the file-format sets the files
 * their loader reads (the layout above, the same table; an IDX file's ".gz" form when
 * the plain one is not readable); for photos, photos-test and textures their MANIFEST
 * (which lists every image's SHA-256), for dtd its pack. */
#define DATASET_PATH 4400
int dataset_files(const char *name, const char *split, const char *dir,
                  char (*paths)[DATASET_PATH], int cap);
/* The directory actually used for dir (NULL -> $LIR_DATA -> "data"). */
const char *dataset_dir(const char *dir);
/* The base name of a dataset name, before any '@' ("cifar10@jpeg75" -> "cifar10"). */
void dataset_base_name(const char *name, char *out, size_t size);
/* Images in the train split of a known set (its base name), 0 if unknown or it has none. */
int dataset_train_size(const char *name);

/* SHA-256 (hex) of a loaded dataset's content: uint8 images, then labels as int32, so
 * it identifies the pixels used rather than the files. */
void dataset_sha256(const dataset *d, char hex[65]);

/* Where a dataset's files came from, as scripts/get_data.sh records it in
 * <dir>/<base>/PROVENANCE (base: the name before any '@'; format in get_data.sh's
 * header). buf gets a one-line summary: "source=mirror (fetched from M): NOTE",
 * "source=official (published md5, fetched from M)", "source=debian (packages P V,
 * ...): NOTE" for the sets made from Debian packages, or "source=unknown (...)" when
 * the file is missing or has no valid source= line. */
typedef enum {
    DATA_SOURCE_UNKNOWN,
    DATA_SOURCE_OFFICIAL,
    DATA_SOURCE_MIRROR,
    DATA_SOURCE_DEBIAN
} data_source;
data_source dataset_provenance(const char *name, const char *dir, char *buf, size_t size);
/* "unknown", "official", "mirror" or "debian". */
const char *data_source_name(data_source s);

/* Normaliser of an in-distribution set (its base name before any '@'): the
 * paper's numbers for cifar10/cifar100 (docs/method.md section 3), published values
 * for the others. */
int data_norm_for(const char *id_name, data_norm *out, lir_error *err);
/* Mean/std of d's own pixels (gray copied to three channels). */
void data_norm_compute(const dataset *d, data_norm *out);

/* Network input for images idx[0..n) (idx NULL: images 0..n-1):
 * out [n][DATA_IMG] = (pixel/255 - mean[c]) / std[c]; gray copied to 3 channels;
 * sizes other than DATA_SIDE x DATA_SIDE resized bilinearly with half-pixel centres
 * (src = (dst + 0.5) * in/DATA_SIDE - 0.5, clamped at 0, upper neighbour clamped). */
void dataset_batch(const dataset *d, const int *idx, int n, const data_norm *norm, float *out);
/* The same; parallel 0 keeps it on the calling thread (the loader's thread);
 * otherwise OpenMP splits the images when there are 4096 or more. */
void dataset_batch_ex(const dataset *d, const int *idx, int n, const data_norm *norm, float *out,
                      int parallel);

/* Held-out validation: the last k images of an n-image train split are the
 * validation set (CIFAR's train order is already random). Returns freshly
 * allocated index arrays (caller frees): train = 0..n-k-1, val = n-k..n-1. */
int data_holdout(int n, int k, int **train_idx, int **val_idx, lir_error *err);

/* ---- parsers from memory (cifar.c, idx.c, svhn.c) ----
 * what names the source in messages (a file path). They fill d's image/label
 * fields (d must be zeroed; on failure nothing is left allocated). */
/* CIFAR-10 (fine_only: record = label + 3072) or CIFAR-100 (record = coarse + fine +
 * 3072); appends records to d (so the five CIFAR-10 train files can be joined). */
int cifar_parse(const uint8_t *buf, size_t len, int cifar100, const char *what, dataset *d,
                lir_error *err);
/* The most records one CIFAR file is read with (the whole of CIFAR: 60,000); the
 * format has no header, so this bounds a compressed one. */
enum { CIFAR_MAX_RECORDS = 60000 };
/* IDX: images (magic 0x00000803, [n][rows][cols] uint8) and labels (0x00000801). */
int idx_parse_images(const uint8_t *buf, size_t len, const char *what, dataset *d, lir_error *err);
int idx_parse_labels(const uint8_t *buf, size_t len, const char *what, int expect_n, int classes,
                     int **labels, lir_error *err);
/* SVHN cropped digits: MATLAB v5 with X (HxWxCxN uint8) and y (Nx1, 10 = digit 0),
 * elements plain or miCOMPRESSED, either byte order. */
int svhn_parse(const uint8_t *buf, size_t len, const char *what, dataset *d, lir_error *err);
/* IDX sizes from a header (the first IDX_HEAD_IMAGES / IDX_HEAD_LABELS bytes): the
 * exact file size the header promises (data_size_rule for data_read_file_limited). */
enum { IDX_HEAD_IMAGES = 16, IDX_HEAD_LABELS = 8 };
int idx_images_size(const uint8_t *head, size_t n, const char *what, uint64_t *size,
                    lir_error *err);
int idx_labels_size(const uint8_t *head, size_t n, const char *what, uint64_t *size,
                    lir_error *err);

/* ---- reading files with limits (stream.c) ---- */
/* The most bytes a dataset file may hold once inflated (4 GiB; SVHN's extra split,
 * the largest official file, is 1.3 GB). */
#define DATA_MAX_BYTES ((uint64_t)1 << 32)
/* A format's size rule: from the first bytes of a file (inflated), the exact size the
 * whole file must have; -1 with a message when those bytes are already wrong. */
typedef int (*data_size_rule)(const uint8_t *head, size_t n, const char *what, uint64_t *size,
                              lir_error *err);
/* Reads a file, gunzipping it if it is gzip data. With a rule, the first `head`
 * bytes fix the size and reading fails as soon as the stream goes past it (a
 * shorter file is returned as it is: the parser reports the truncation); the
 * size is never more than max. A directory is refused as such. */
uint8_t *data_read_file_limited(const char *path, size_t head, data_size_rule rule,
                                uint64_t max, size_t *len, lir_error *err);
/* The same without a rule: at most DATA_MAX_BYTES. */
uint8_t *data_read_file(const char *path, size_t *len, lir_error *err);

/* ---- derived sets (corrupt.c) ---- */
/* Applies one transform spec ("jpeg75", "noise0.1", "noise0.1s7", "blur1.0") in place. */
int dataset_transform(dataset *d, const char *spec, lir_error *err);
/* Individual transforms on one image [c][h][w]; all round back to uint8. */
int corrupt_jpeg(uint8_t *img, int c, int h, int w, int quality, lir_error *err);
void corrupt_noise(uint8_t *img, int c, int h, int w, float sigma, rng_state *rng);
void corrupt_blur(uint8_t *img, int c, int h, int w, float sigma);

/* ---- CIFAR-10-C (corrupt_c.c, corrupt_c_pixel.c, corrupt_c_blur.c) ----
 * The corruptions of Hendrycks & Dietterich (2019), "Benchmarking Neural Network
 * Robustness to Common Corruptions and Perturbations", generated from any 32x32 RGB
 * split with the severity constants of their make_cifar_c.py (github.com/hendrycks/
 * robustness, ImageNet-C/create_c). Names are the original's function names, with
 * underscores (no other spelling is accepted):
 *   benchmark: gaussian_noise shot_noise impulse_noise defocus_blur glass_blur
 *              motion_blur zoom_blur snow fog brightness contrast elastic_transform
 *              pixelate jpeg_compression
 *   extra (the paper's validation corruptions): speckle_noise gaussian_blur saturate
 *   not generated: frost (needs the release's frost photographs), spatter (OpenCV's
 *              Canny / distance-transform chain).
 * "<base>-c" (e.g. "cifar10-c") stands for the 14 benchmark corruptions at severities
 * 1..5 (70 sets); corrupt_c_expand lists them.
 * Randomness: image i's draws come from lir's generator seeded from (seed, corruption,
 * severity, i), so any image can be made alone and in parallel; the draws are not
 * NumPy's (normals: polar method; Poisson: CDF inversion), so images differ from the
 * published CIFAR-10-C files in their noise, but not in distribution. Results are
 * truncated to uint8 like the original's np.uint8. Library operations the original
 * calls are reimplemented (scipy.ndimage gaussian_filter / zoom / map_coordinates,
 * skimage HSV, Pillow's fixed-point BOX resize, libjpeg as PIL calls it), and its
 * quirks kept (glass_blur's "swap" on NumPy views copies one way; zoom factors are
 * np.arange's). Known deviations: motion_blur and snow follow ImageMagick's
 * MotionBlurImage as documented (a Q16 non-HDRI build assumed); impulse_noise draws a
 * flip per value (skimage's s&p); elastic_transform's affine warp interpolates at
 * exact positions (cv2.warpAffine rounds them to 1/32 pixel); defocus_blur sums its
 * 5x5 kernel directly (cv2.filter2D uses a DFT). tests/test_corrupt_c.py checks each
 * corruption against a NumPy / SciPy / Pillow reimplementation fed lir's draws. */
int corrupt_c_count(void);                 /* corruptions implemented (17) */
const char *corrupt_c_name(int kind);      /* "gaussian_noise", ...; NULL out of range */
int corrupt_c_find(const char *name);      /* kind of a name, -1 if unknown */
/* Parses "c-<corruption>-<severity>[s<seed>]"; an unknown name or a severity outside
 * 1..5 fails with a message naming the token and listing the known corruptions. */
int corrupt_c_parse(const char *spec, int *kind, int *severity, uint64_t *seed, lir_error *err);
/* Corrupts one image [3][32][32] in place as image `index` of a set made with seed.
 * draws: NULL, or room for CORRUPT_C_MAX_DRAWS floats that receive every random
 * number drawn, in order (tests). Returns the number of draws, -1 on failure. */
#define CORRUPT_C_MAX_DRAWS 6144
int corrupt_c_image(uint8_t *img, int kind, int severity, uint64_t seed, int index, float *draws,
                    lir_error *err);
/* The set names a dataset name stands for: "<base>-c" (no '@') stands for
 * "<base>@c-<corruption>-<severity>" for each benchmark corruption (in the order
 * above) and severity 1..5; any other name for itself. Returns the number of names;
 * when 0 <= k < that number and buf is not NULL, writes the k-th into buf. */
int corrupt_c_expand(const char *name, int k, char *buf, size_t size);

/* ---- augmenting batch loader (augment.c) ----
 * Produces batches in a background thread. Epoch e's order is a permutation of
 * the subset seeded by (seed, e) (identity when shuffle is 0); image at position
 * p of epoch e gets its crop offsets and flip from a generator seeded by
 * (seed, e, p). So the stream is fully determined by (seed, epoch, position):
 * to resume, save loader_position() and pass it back to loader_start(). Batches
 * never straddle an epoch: the last one of an epoch may be short. */
typedef struct {
    int augment; /* random crop 32 (4 px zero padding) + horizontal flip */
    int shuffle; /* seeded permutation per epoch */
    int cutout;  /* with augment: side of a square set to 0 (the mean colour after
                    normalisation) at a random centre, clipped at the border (Cutout,
                    DeVries & Taylor 2017); 0: off */
    int part, parts; /* parts > 1 (data-parallel training): this loader makes only part
                        `part` of each batch, images [m*part/parts, m*(part+1)/parts) of
                        its m, the same images with the same augmentation as in the whole
                        batch; batch must split into equal parts. 0 or 1: whole batches */
} loader_opts;

typedef struct loader loader;

loader *loader_start(const dataset *d, const int *subset, int n_subset, int batch,
                     const data_norm *norm, loader_opts opts, uint64_t seed, int epoch,
                     int position, lir_error *err);
/* Copies the next batch, or its part (out [len][DATA_IMG], labels [len]); returns the
 * size of the whole batch (the same in every part: a short last batch is seen as short
 * everywhere). */
int loader_next(loader *l, float *out, int *labels);
/* Epoch and position of the next batch loader_next will return. */
void loader_position(const loader *l, int *epoch, int *position);
void loader_stop(loader *l);
/* One augmented image: crop with offsets (dy, dx) in [0, 8] of the zero-padded
 * image and optional flip, from src [3][32][32] normalised, into dst; fill[c] is
 * the normalised value of a zero pixel. Exposed for tests and test_flip's mirror images
 * (offsets 4, 4: no shift). */
void augment_crop_flip(const float *src, float *dst, int dy, int dx, int flip, const float fill[3]);
/* Sets the square of side `size` centred at (cy, cx) (top-left corner at
 * (cy - size/2, cx - size/2)), clipped at the border, to 0 in all channels of
 * img [3][32][32]. Exposed for tests. */
void augment_cutout(float *img, int cy, int cx, int size);

/* image: PNG and JPEG input for `lir predict`. Any PNG colour type and bit depth
 * becomes 8-bit RGB: palette expanded, gray copied to R, G and B, 16-bit reduced to 8
 * bits (scaled, v*255/65535 rounded), alpha dropped (not composited). Sample values are
 * taken as stored: gAMA / iCCP chunks are ignored, as PIL and torchvision do. A JPEG is
 * decoded by libjpeg to RGB (gray and YCbCr converted; CMYK refused). The format is
 * told by the file's first bytes, not its name. */

#define IMAGE_MAX_SIDE 16384
/* At most 2^26 pixels (64 Mi: 192 MiB as RGB), checked from the header before the
 * pixel buffer is allocated, so a small file cannot claim 16384 x 16384. */
#define IMAGE_MAX_PIXELS ((uint64_t)1 << 26)
#define IMAGE_MAX_PIXELS_TEXT "67108864"

typedef enum { IMAGE_UNKNOWN, IMAGE_PNG, IMAGE_JPEG } image_format;
/* What becomes of a PNG's transparency (its alpha channel or tRNS): dropped (the colour
 * under it kept), or the image composited over white, as a viewer shows it. */
typedef enum { IMAGE_ALPHA_DROP, IMAGE_ALPHA_OVER_WHITE } image_alpha;

/* Reads path into a new buffer *pix of uint8 [3][h][w] (planar, like the network
 * input); *w, *h get the size. -1 with a message naming the file on any error
 * (missing file, not a PNG, corrupt data, larger than IMAGE_MAX_SIDE or
 * IMAGE_MAX_PIXELS). */
int image_read_png(const char *path, uint8_t **pix, int *w, int *h, lir_error *err);
/* The same for a PNG or a baseline/progressive JPEG (told apart by their signature);
 * gray JPEGs become RGB, EXIF orientation is ignored (as PIL does without
 * exif_transpose), a JPEG that ends early is an error. */
int image_read(const char *path, uint8_t **pix, int *w, int *h, lir_error *err);
/* image_read with a choice for transparency (image_read: IMAGE_ALPHA_DROP). */
int image_read_alpha(const char *path, image_alpha alpha, uint8_t **pix, int *w, int *h,
                     lir_error *err);
/* The format path's first bytes announce (IMAGE_UNKNOWN also when it cannot be read). */
image_format image_sniff(const char *path);

/* ---- area resampling (resize.c) ---- */
/* A source rectangle in pixel units (fractional edges allowed). */
typedef struct {
    double x, y, w, h;
} image_box;
/* dst [c][oh][ow] = area average of src [c][h][w] over box (resize.c's header says
 * how); the box should lie inside the image (parts outside are clipped). */
void image_resize_area(const uint8_t *src, int c, int h, int w, const image_box *box,
                       uint8_t *dst, int oh, int ow);
/* The centred square of side min(w, h): resizing it to 32x32 is "resize the shorter
 * side to 32, then centre-crop 32x32" as OpenOOD prepares DTD, done in one area step. */
void image_box_center(int w, int h, image_box *box);

/* ---- image sets prepared into packs (imagepack.c) ---- */
typedef struct {
    char rel[512];   /* file path relative to the set's folder */
    char sha256[65]; /* expected SHA-256 in hex; "" = not checked */
    int label;
} pack_entry;
/* PACK_SHORT: area-shrunk so the shorter side is at most size (never enlarged);
 * PACK_CENTER: the centred square area-resized to size x size. Files whose shorter
 * side is under min_side are skipped (counted). alpha: what becomes of transparency. */
typedef enum { PACK_SHORT = 1, PACK_CENTER = 2 } pack_mode;
typedef struct {
    pack_mode mode;
    int size, min_side;
    image_alpha alpha;
} pack_spec;
typedef struct {
    int w, h;         /* stored size */
    int src_w, src_h; /* size of the file's image */
    int label, entry; /* entry: index in the list the pack was built from */
    size_t off;       /* offset of its [3][h][w] pixels in pix */
} pack_image;
typedef struct {
    int n, skipped;
    pack_spec spec;
    pack_image *img;
    uint8_t *pix;
    size_t pix_bytes;
    uint8_t key[32];
    char path[4700]; /* the pack file */
    int built;       /* built by this open (else read from path) */
    int cached;      /* path holds this pack (0: it could not be written) */
} image_pack;
/* Reads a MANIFEST ("<sha256>  <relative path>" lines, '#' comments) into *e. */
int manifest_read(const char *path, pack_entry **e, int *n, lir_error *err);
/* The pack <setdir>/<packname> for entries e (files under setdir) and spec: read when
 * it was built from the same list and spec, else built (each file's SHA-256 checked,
 * decoded, resampled; any bad file fails naming it) and written atomically. */
image_pack *image_pack_open(const char *setdir, const char *packname, const pack_entry *e, int n,
                            const pack_spec *spec, lir_error *err);
void image_pack_free(image_pack *p);

/* ---- sets from Debian packages, DTD and synthetic noise (imageset.c, synth.c) ----
 *   photos        photographs from Debian wallpaper packages (scripts/get_data.sh photos):
 *                 DIR/photos/MANIFEST + files, all but every PHOTOS_VAL_EVERY-th (MANIFEST
 *                 order, index % PHOTOS_VAL_EVERY == PHOTOS_VAL_EVERY - 1), packed with
 *                 shorter side <= 256 px (photos256-train.pack). As an outlier source
 *                 (config outliers "photos") it yields endless random crops (photo_crop);
 *                 loaded as a dataset (split train) it is PHOTOS_SET_SIZE crops from a
 *                 fixed seed.
 *   photos-val    the photos held out of photos (every PHOTOS_VAL_EVERY-th), never an
 *                 outlier source: PHOTOS_SET_SIZE crops from a fixed seed (split test,
 *                 photos256-val.pack), the validation set of model selection; in no OOD
 *                 group.
 *   photos-test   the same from packages disjoint from photos' (split test; the
 *                 disjointness is checked against DIR/photos when present, d->note says).
 *   textures      JPEG textures of openarena-081-textures, DIR/textures/MANIFEST:
 *                 centre square area-resized to 32x32 (textures32.pack), split test.
 *   clipart-val   the PNG clip art of openclipart-png, DIR/clipart-val/MANIFEST, prepared
 *                 like textures but composited over white (clipart32w.pack), split test:
 *                 a validation set of model selection far from the photos outlier
 *                 source; in no OOD group.
 *   dtd           the Describable Textures Dataset as its archive unpacks:
 *                 DIR/dtd/dtd/images/<class>/<name>.jpg (or DIR/dtd/images/...), 47
 *                 classes in name order, prepared like textures (dtd32.pack).
 *   gaussian, uniform, blobs   SYNTH_SET_SIZE generated images, split test, no files. */
#define PHOTOS_SET_SIZE 10000
#define PHOTOS_VAL_EVERY 5 /* every 5th photo of photos' MANIFEST is photos-val's */
#define PHOTOS_CROP_MIN 32 /* smallest crop side in pack pixels */
#define SYNTH_SET_SIZE 10000
/* The pack of photos, photos-val, photos-test, textures, clipart-val or dtd. */
image_pack *imageset_open(const char *name, const char *dir, lir_error *err);
/* The folder under the data folder whose MANIFEST lists set name's files (photos-val:
 * "photos"), or NULL when name is not a set of listed image files. */
const char *imageset_files_folder(const char *name);
/* One random crop of a random image of p: side log-uniform in [PHOTOS_CROP_MIN,
 * shorter side], position uniform, area-resized to dst [3][32][32], flipped
 * horizontally with probability 1/2; every draw from r. */
void photo_crop(const image_pack *p, rng_state *r, uint8_t *dst);
/* Fills d (zeroed) with set base's split; 1 when base is not one of these sets. */
int imageset_load(const char *base, const char *split, const char *dir, dataset *d,
                  lir_error *err);
int synth_load(const char *base, const char *split, dataset *d, lir_error *err);
/* Image n (0 <= n < SYNTH_SET_SIZE) of gaussian, uniform or blobs into dst [3][32][32]
 * (a function of the set and n only); -1 for other names or n. */
int synth_image(const char *base, int n, uint8_t *dst);
/* One blobs image from a Bernoulli(0.7) field mask [3][32][32] of 0/1 (see synth.c). */
void synth_blobs_from_mask(const uint8_t *mask, uint8_t *dst);

/* ---- NumPy .npy (npy.c) ---- */
#define NPY_MAX_DIMS 8
#define NPY_MAX_HEADER 65536 /* bytes of header dict accepted (NumPy's own load limit is 10000) */
typedef struct {
    int major, minor;
    size_t data_offset; /* where the array data starts */
    char descr[16];
    int fortran_order;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
} npy_info;
/* Parses the preamble and header dict at the start of buf (len bytes available). */
int npy_parse_header(const uint8_t *buf, size_t len, const char *what, npy_info *h,
                     lir_error *err);
/* A whole .npy in memory holding uint8 (N, 32, 32, 3) C-order images into d (planar,
 * one class, labels 0); the data must fill the rest of the buffer exactly. */
int npy_parse(const uint8_t *buf, size_t len, const char *what, dataset *d, lir_error *err);
/* The same from a file: the header and the data size are checked against the file's
 * size before the image buffer is allocated; the data is read in chunks. */
int npy_load_images(const char *path, dataset *d, lir_error *err);

#endif

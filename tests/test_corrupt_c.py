"""test_corrupt_c.py: lir's CIFAR-10-C corruptions (src/data/corrupt_c*.c) against a
NumPy / SciPy / Pillow re-implementation of make_cifar_c.py (github.com/hendrycks/
robustness, ImageNet-C/create_c), on a few images at every severity.

build/tests/test_corrupt_c apply NAME SEV SEED IN OUT DRAWS corrupts the images and
writes every random number it drew; the reference functions below are the original's
code with np.random replaced by those draws (in lir's order: per-value draws in
channel-major [c][y][x] order), and with the libraries the test machine lacks
(skimage, OpenCV, ImageMagick's Wand) replaced by what they compute: scipy.ndimage
for skimage.filters.gaussian, cv2.filter2D / warpAffine and map_coordinates, NumPy for
skimage's HSV and cv2's gray, and ImageMagick's MotionBlurImage kernel in NumPy.
Pillow (resize BOX, JPEG) and scipy.ndimage.zoom are the original's own calls.

Tolerances (on the uint8 result, after the original's truncating np.uint8):
  exact: every corruption but two; the reference and lir do the same double / float32
    operations (or Pillow's own integer ones), and so round alike.
  max 1 on at most 0.05% of the values: elastic_transform, whose reference solves the
    affine map with np.linalg and samples with scipy's affine_transform /
    map_coordinates, which form positions and weights in another order, so a value
    on a truncation boundary can land on either side (2 of 92,160 when written).
  max 1 on at most 1%: jpeg_compression, where Pillow may carry another libjpeg.
The draws are checked too: their count, and that the Poisson counts of shot_noise and
the flips of impulse_noise follow their distributions (chi-square / binomial)."""
import io
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from PIL import Image
    from scipy import ndimage, stats
except ImportError as e:
    print(f"SKIP: numpy, scipy or PIL not importable under /usr/bin/python3 ({e})")
    sys.exit(77)

BUILD = os.environ.get("LIR_BUILD", "build")
TOOL = os.path.join(BUILD, "tests", "test_corrupt_c")
failures = 0


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL", msg)


class Draws:
    def __init__(self, a):
        self.a, self.i = a.astype(np.float64), 0

    def take(self, n):
        v = self.a[self.i:self.i + n]
        assert len(v) == n, "ran out of draws"
        self.i += n
        return v

    def planar(self):  # one draw per value, [c][y][x] order, returned as HWC
        return self.take(3072).reshape(3, 32, 32).transpose(1, 2, 0)


# ---------------- the reference (make_cifar_c.py with lir's draws) ----------------

def gaussian_noise(x, s, d):
    c = [0.04, 0.06, .08, .09, .10][s - 1]
    x = np.array(x) / 255.
    return np.clip(x + (0.0 + c * d.planar()), 0, 1) * 255


def shot_noise(x, s, d):
    c = [500, 250, 100, 75, 50][s - 1]
    x = np.array(x) / 255.
    return np.clip(d.planar() / c, 0, 1) * 255


def impulse_noise(x, s, d):
    c = [.01, .02, .03, .05, .07][s - 1]
    x = (np.array(x) / 255.).transpose(2, 0, 1).copy()
    flat = x.reshape(-1)
    for k in range(flat.size):  # s&p: flip with probability c, salt or pepper 1:1
        if d.take(1)[0] < c:
            flat[k] = 1.0 if d.take(1)[0] < 0.5 else 0.0
    return np.clip(x.transpose(1, 2, 0), 0, 1) * 255


def speckle_noise(x, s, d):
    c = [.06, .1, .12, .16, .2][s - 1]
    x = np.array(x) / 255.
    return np.clip(x + x * (0.0 + c * d.planar()), 0, 1) * 255


def sk_gaussian(x, sigma, mode='nearest', truncate=4.0):
    """skimage.filters.gaussian(x, sigma, multichannel=True) on a float image."""
    sig = (sigma, sigma, 0) if x.ndim == 3 else sigma
    return ndimage.gaussian_filter(x, sig, mode=mode, truncate=truncate)


def gaussian_blur(x, s, d):
    c = [.4, .6, 0.7, .8, 1][s - 1]
    x = sk_gaussian(np.array(x) / 255., sigma=c)
    return np.clip(x, 0, 1) * 255


def glass_blur(x, s, d):
    c = [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)][s - 1]
    x = np.uint8(sk_gaussian(np.array(x) / 255., sigma=c[0]) * 255)
    for i in range(c[2]):
        for h in range(32 - c[1], c[1], -1):
            for w in range(32 - c[1], c[1], -1):
                dx, dy = (d.take(2) - c[1]).astype(int)  # np.random.randint(-c[1], c[1], 2)
                h_prime, w_prime = h + dy, w + dx
                # swap (verbatim: on NumPy views this copies one way)
                x[h, w], x[h_prime, w_prime] = x[h_prime, w_prime], x[h, w]
    return np.clip(sk_gaussian(x / 255., sigma=c[0]), 0, 1) * 255


def cv2_gaussian_kernel3(sigma):
    """cv2.getGaussianKernel(3, sigma, CV_32F): computed in double, stored as float32."""
    t = np.exp(4.0 * (-0.125 / (sigma * sigma)))
    mul = 1.0 / (2 * t + 1.0)
    return np.array([t * mul, 1.0 * mul, t * mul], np.float32)


def disk(radius, alias_blur=0.1, dtype=np.float32):
    L = np.arange(-8, 8 + 1)
    X, Y = np.meshgrid(L, L)
    aliased_disk = np.array((X ** 2 + Y ** 2) <= radius ** 2, dtype=dtype)
    aliased_disk /= np.sum(aliased_disk)
    g = cv2_gaussian_kernel3(alias_blur)  # cv2.GaussianBlur(ksize=(3, 3), sigmaX=alias_blur)
    k = ndimage.correlate1d(aliased_disk, g, axis=1, mode='mirror')
    return ndimage.correlate1d(k, g, axis=0, mode='mirror')


def defocus_blur(x, s, d):
    c = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)][s - 1]
    x = np.array(x) / 255.
    kernel = disk(radius=c[0], alias_blur=c[1]).astype(np.float64)
    channels = [ndimage.correlate(x[:, :, ch], kernel, mode='mirror') for ch in range(3)]  # cv2.filter2D
    return np.clip(np.array(channels).transpose((1, 2, 0)), 0, 1) * 255


def im_motion_blur(plane, radius, sigma, angle):
    """ImageMagick 6 MotionBlurImage on an 8-bit plane, Q16: one-sided Gaussian taps
    along the angle, edge pixels repeated, rounded to a 16-bit quantum, then 8 bits."""
    width = int(2 * np.ceil(radius) + 1)
    i = np.arange(width, dtype=np.float64)
    k = np.exp(-(i * i) / (2.0 * sigma * sigma)) / (2.5066282746310002 * sigma)
    k = k / k.sum()
    a = np.pi * angle / 180.0
    px, py = width * np.sin(a), width * np.cos(a)
    ox = np.ceil(i * py / np.hypot(px, py) - 0.5).astype(int)
    oy = np.ceil(i * px / np.hypot(px, py) - 0.5).astype(int)
    yy, xx = np.meshgrid(np.arange(32), np.arange(32), indexing='ij')
    q = np.zeros((32, 32))
    for t in range(width):
        q += k[t] * (257.0 * plane[np.clip(yy + oy[t], 0, 31), np.clip(xx + ox[t], 0, 31)])
    Q = np.where(q <= 0, 0, np.where(q >= 65535, 65535, np.floor(q + 0.5))).astype(np.int64)
    return (((Q + 128) - ((Q + 128) >> 8)) >> 8).astype(np.uint8)


def motion_blur(x, s, d):
    c = [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)][s - 1]
    angle = -45 + (45 - -45) * d.take(1)[0]
    x = np.array(x)
    out = np.stack([im_motion_blur(x[:, :, ch], c[0], c[1], angle) for ch in range(3)], axis=2)
    return np.clip(out, 0, 255)


def clipped_zoom(img, zoom_factor):
    h = img.shape[0]
    ch = int(np.ceil(h / zoom_factor))
    top = (h - ch) // 2
    img = ndimage.zoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim_top = (img.shape[0] - h) // 2
    return img[trim_top:trim_top + h, trim_top:trim_top + h]


def zoom_blur(x, s, d):
    c = [np.arange(1, 1.06, 0.01), np.arange(1, 1.11, 0.01), np.arange(1, 1.16, 0.01),
         np.arange(1, 1.21, 0.01), np.arange(1, 1.26, 0.01)][s - 1]
    x = (np.array(x) / 255.).astype(np.float32)
    out = np.zeros_like(x)
    for zoom_factor in c:
        out += clipped_zoom(x, zoom_factor)
    x = (x + out) / (len(c) + 1)
    return np.clip(x, 0, 1) * 255


def snow(x, s, d):
    c = [(0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
         (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9), (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
         (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)][s - 1]
    x = np.array(x, dtype=np.float32) / 255.
    snow_layer = c[0] + c[1] * d.take(1024).reshape(32, 32)  # np.random.normal(loc, scale)
    snow_layer = clipped_zoom(snow_layer[..., np.newaxis], c[2])
    snow_layer[snow_layer < c[3]] = 0
    snow_layer = (np.clip(snow_layer.squeeze(), 0, 1) * 255).astype(np.uint8)
    angle = -135 + (-45 - -135) * d.take(1)[0]
    snow_layer = im_motion_blur(snow_layer, c[4], c[5], angle) / 255.
    snow_layer = snow_layer[..., np.newaxis]
    gray = (x[:, :, 0] * np.float32(0.299) + x[:, :, 1] * np.float32(0.587)
            + x[:, :, 2] * np.float32(0.114))  # cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
    x = c[6] * x + (1 - c[6]) * np.maximum(x, gray.reshape(32, 32, 1) * 1.5 + 0.5)
    return np.clip(x + snow_layer + np.rot90(snow_layer, k=2), 0, 1) * 255


def plasma_fractal(d, mapsize=32, wibbledecay=3):
    maparray = np.empty((mapsize, mapsize), dtype=np.float64)
    maparray[0, 0] = 0
    stepsize = mapsize
    wibble = 100

    def wibbledmean(array):  # np.random.uniform(-wibble, wibble, array.shape)
        u = d.take(array.size).reshape(array.shape)
        return array / 4 + wibble * (-wibble + (wibble - -wibble) * u)

    def fillsquares():
        cornerref = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        squareaccum = cornerref + np.roll(cornerref, shift=-1, axis=0)
        squareaccum += np.roll(squareaccum, shift=-1, axis=1)
        maparray[stepsize // 2:mapsize:stepsize, stepsize // 2:mapsize:stepsize] = wibbledmean(squareaccum)

    def filldiamonds():
        mapsize_ = maparray.shape[0]
        drgrid = maparray[stepsize // 2:mapsize_:stepsize, stepsize // 2:mapsize_:stepsize]
        ulgrid = maparray[0:mapsize_:stepsize, 0:mapsize_:stepsize]
        ldrsum = drgrid + np.roll(drgrid, 1, axis=0)
        lulsum = ulgrid + np.roll(ulgrid, -1, axis=1)
        ltsum = ldrsum + lulsum
        maparray[0:mapsize_:stepsize, stepsize // 2:mapsize_:stepsize] = wibbledmean(ltsum)
        tdrsum = drgrid + np.roll(drgrid, 1, axis=1)
        tulsum = ulgrid + np.roll(ulgrid, -1, axis=0)
        ttsum = tdrsum + tulsum
        maparray[stepsize // 2:mapsize_:stepsize, 0:mapsize_:stepsize] = wibbledmean(ttsum)

    while stepsize >= 2:
        fillsquares()
        filldiamonds()
        stepsize //= 2
        wibble /= wibbledecay
    maparray -= maparray.min()
    return maparray / maparray.max()


def fog(x, s, d):
    c = [(.2, 3), (.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)][s - 1]
    x = np.array(x) / 255.
    max_val = x.max()
    x += c[0] * plasma_fractal(d, wibbledecay=c[1])[:32, :32][..., np.newaxis]
    return np.clip(x * max_val / (max_val + c[0]), 0, 1) * 255


def rgb2hsv(arr):  # skimage.color.rgb2hsv
    out = np.empty_like(arr)
    out_v = arr.max(-1)
    delta = arr.ptp(-1)
    with np.errstate(invalid='ignore', divide='ignore'):
        out_s = delta / out_v
        out_s[delta == 0.] = 0.
        idx = (arr[:, :, 0] == out_v)
        out[idx, 0] = (arr[idx, 1] - arr[idx, 2]) / delta[idx]
        idx = (arr[:, :, 1] == out_v)
        out[idx, 0] = 2. + (arr[idx, 2] - arr[idx, 0]) / delta[idx]
        idx = (arr[:, :, 2] == out_v)
        out[idx, 0] = 4. + (arr[idx, 0] - arr[idx, 1]) / delta[idx]
    out_h = (out[:, :, 0] / 6.) % 1.
    out_h[delta == 0.] = 0.
    out[:, :, 0], out[:, :, 1], out[:, :, 2] = out_h, out_s, out_v
    return out


def hsv2rgb(arr):  # skimage.color.hsv2rgb
    hi = np.floor(arr[:, :, 0] * 6)
    f = arr[:, :, 0] * 6 - hi
    p = arr[:, :, 2] * (1 - arr[:, :, 1])
    q = arr[:, :, 2] * (1 - f * arr[:, :, 1])
    t = arr[:, :, 2] * (1 - (1 - f) * arr[:, :, 1])
    v = arr[:, :, 2]
    hi = np.dstack([hi, hi, hi]).astype(np.uint8) % 6
    return np.choose(hi, [np.dstack((v, t, p)), np.dstack((q, v, p)), np.dstack((p, v, t)),
                          np.dstack((p, q, v)), np.dstack((t, p, v)), np.dstack((v, p, q))])


def brightness(x, s, d):
    c = [.05, .1, .15, .2, .3][s - 1]
    x = rgb2hsv(np.array(x) / 255.)
    x[:, :, 2] = np.clip(x[:, :, 2] + c, 0, 1)
    return np.clip(hsv2rgb(x), 0, 1) * 255


def saturate(x, s, d):
    c = [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)][s - 1]
    x = rgb2hsv(np.array(x) / 255.)
    x[:, :, 1] = np.clip(x[:, :, 1] * c[0] + c[1], 0, 1)
    return np.clip(hsv2rgb(x), 0, 1) * 255


def contrast(x, s, d):
    c = [.75, .5, .4, .3, 0.15][s - 1]
    x = np.array(x) / 255.
    means = np.mean(x, axis=(0, 1), keepdims=True)
    return np.clip((x - means) * c + means, 0, 1) * 255


def jpeg_compression(x, s, d):
    c = [80, 65, 58, 50, 40][s - 1]
    output = io.BytesIO()
    Image.fromarray(x).save(output, 'JPEG', quality=c)
    return np.array(Image.open(output))


def pixelate(x, s, d):
    c = [0.95, 0.9, 0.85, 0.75, 0.65][s - 1]
    x = Image.fromarray(x).resize((int(32 * c), int(32 * c)), Image.BOX)
    return np.array(x.resize((32, 32), Image.BOX))


def elastic_transform(image, s, d):
    IMSIZE = 32
    c = [(IMSIZE * 0, IMSIZE * 0, IMSIZE * 0.08), (IMSIZE * 0.05, IMSIZE * 0.2, IMSIZE * 0.07),
         (IMSIZE * 0.08, IMSIZE * 0.06, IMSIZE * 0.06), (IMSIZE * 0.1, IMSIZE * 0.04, IMSIZE * 0.05),
         (IMSIZE * 0.1, IMSIZE * 0.03, IMSIZE * 0.03)][s - 1]
    image = np.array(image, dtype=np.float32) / 255.
    shape = image.shape
    shape_size = shape[:2]
    center_square = np.float32(shape_size) // 2
    square_size = min(shape_size) // 3
    pts1 = np.float32([center_square + square_size,
                       [center_square[0] + square_size, center_square[1] - square_size],
                       center_square - square_size])
    u = d.take(6).reshape(3, 2)
    pts2 = pts1 + (-c[2] + (c[2] - -c[2]) * u).astype(np.float32)
    # cv2.getAffineTransform: M (2x3) maps pts1 to pts2
    A = np.hstack([pts1.astype(np.float64), np.ones((3, 1))])
    M = np.linalg.solve(A, pts2.astype(np.float64)).T
    # cv2.warpAffine(image, M, borderMode=BORDER_REFLECT_101): dst(p) = src(M^-1 p)
    Minv = np.linalg.inv(np.vstack([M, [0, 0, 1]]))[:2]
    mat = np.array([[Minv[1, 1], Minv[1, 0]], [Minv[0, 1], Minv[0, 0]]])
    off = np.array([Minv[1, 2], Minv[0, 2]])
    image = np.stack([ndimage.affine_transform(image[:, :, ch], mat, off, order=1, mode='mirror')
                      for ch in range(3)], axis=2)
    dx = (sk_gaussian(-1 + 2 * d.take(1024).reshape(32, 32), c[1], mode='reflect', truncate=3)
          * c[0]).astype(np.float32)
    dy = (sk_gaussian(-1 + 2 * d.take(1024).reshape(32, 32), c[1], mode='reflect', truncate=3)
          * c[0]).astype(np.float32)
    dx, dy = dx[..., np.newaxis], dy[..., np.newaxis]
    x, y, z = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
    indices = np.reshape(y + dy, (-1, 1)), np.reshape(x + dx, (-1, 1)), np.reshape(z, (-1, 1))
    return np.clip(ndimage.map_coordinates(image, indices, order=1, mode='reflect').reshape(shape), 0, 1) * 255


# name: (reference, max |diff|, max fraction of values that differ, draws per image or None)
CORRUPTIONS = {
    'gaussian_noise': (gaussian_noise, 0, 0, lambda s: 3072),
    'shot_noise': (shot_noise, 0, 0, lambda s: 3072),
    'impulse_noise': (impulse_noise, 0, 0, None),
    'speckle_noise': (speckle_noise, 0, 0, lambda s: 3072),
    'gaussian_blur': (gaussian_blur, 0, 0, lambda s: 0),
    'glass_blur': (glass_blur, 0, 0, lambda s: 1800 * (1 if s <= 3 else 2)),
    'defocus_blur': (defocus_blur, 0, 0, lambda s: 0),
    'motion_blur': (motion_blur, 0, 0, lambda s: 1),
    'zoom_blur': (zoom_blur, 0, 0, lambda s: 0),
    'snow': (snow, 0, 0, lambda s: 1025),
    'fog': (fog, 0, 0, lambda s: 1023),
    'brightness': (brightness, 0, 0, lambda s: 0),
    'saturate': (saturate, 0, 0, lambda s: 0),
    'contrast': (contrast, 0, 0, lambda s: 0),
    'elastic_transform': (elastic_transform, 1, 0.0005, lambda s: 2054),
    'pixelate': (pixelate, 0, 0, lambda s: 0),
    'jpeg_compression': (jpeg_compression, 1, 0.01, lambda s: 0),
}


def test_images():
    """Synthetic images with gradients, edges, saturated and gray (HSV tie) areas, a
    flat and a black one; and the first CIFAR-10 test images when the data is here."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:32, 0:32]
    ims = [np.stack([4 * xx + 30, 4 * yy + 20, 200 - 3 * (xx + yy)], axis=2)
           + 40 * (((xx // 8) + (yy // 8)) % 2)[..., None] + rng.integers(0, 12, (32, 32, 3)),
           rng.integers(0, 256, (32, 32, 3)),
           np.stack([128 + 100 * np.sin(xx / 3.0 + c) * np.cos(yy / 5.0 - c) for c in range(3)], axis=2)]
    q = np.zeros((32, 32, 3))
    q[:16, 16:] = 255
    q[16:, :16] = 128
    q[16:, 16:] = [255, 0, 0]
    q[:, 14:18] = [10, 200, 200]
    q[5:9, :] = [90, 90, 200]
    ims += [q, np.full((32, 32, 3), 117), np.zeros((32, 32, 3))]
    ims = [np.clip(i, 0, 255).astype(np.uint8) for i in ims]
    path = os.path.join(os.environ.get("LIR_DATA", "data"), "cifar10", "cifar-10-batches-bin", "test_batch.bin")
    if os.path.exists(path):
        raw = np.fromfile(path, np.uint8, count=6 * 3073).reshape(6, 3073)
        ims += [r[1:].reshape(3, 32, 32).transpose(1, 2, 0).copy() for r in raw]
    else:
        print(f"note: no {path}: synthetic images only")
    return np.stack(ims)


def run_tool(tmp, name, sev, seed, ims):
    inp, out, drw = (os.path.join(tmp, f) for f in ("in.bin", "out.bin", "draws.bin"))
    ims.transpose(0, 3, 1, 2).tofile(inp)
    r = subprocess.run([TOOL, "apply", name, str(sev), str(seed), inp, out, drw], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{TOOL} apply {name} {sev}: {r.stderr}")
    got = np.fromfile(out, np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    raw, draws, i = np.fromfile(drw, np.uint8), [], 0
    while i < len(raw):
        n = int(raw[i:i + 4].view(np.int32)[0])
        draws.append(raw[i + 4:i + 4 + 4 * n].view(np.float32))
        i += 4 + 4 * n
    return got, draws


def compare_all(tmp, ims):
    for name, (ref, tol, frac, ndraws) in CORRUPTIONS.items():
        worst, ndiff, nval = 0, 0, 0
        for sev in range(1, 6):
            got, draws = run_tool(tmp, name, sev, 3, ims)
            check(len(draws) == len(ims), f"{name}-{sev}: draws for every image")
            for i, im in enumerate(ims):
                d = Draws(draws[i])
                want = np.uint8(ref(im.copy(), sev, d))
                check(d.i == len(d.a), f"{name}-{sev} image {i}: reference used {d.i} of {len(d.a)} draws")
                if ndraws:
                    check(len(d.a) == ndraws(sev), f"{name}-{sev}: {len(d.a)} draws, want {ndraws(sev)}")
                diff = np.abs(got[i].astype(int) - want.astype(int))
                worst, ndiff, nval = max(worst, int(diff.max())), ndiff + int((diff > 0).sum()), nval + diff.size
                check(diff.max() <= tol, f"{name}-{sev} image {i}: max |diff| {diff.max()} > {tol} "
                      f"at {np.unravel_index(diff.argmax(), diff.shape)}")
                if diff.max() > 0:
                    print(f"  {name}-{sev} image {i}: differs by {diff.max()} at",
                          [tuple(int(t) for t in p) for p in np.argwhere(diff > 0)[:4]])
            check(not np.array_equal(got, ims), f"{name}-{sev} leaves every image as it was")
        check(ndiff <= frac * nval, f"{name}: {ndiff} of {nval} values differ (allowed {frac:.3%})")
        print(f"{name:18s} max |diff| {worst}, {ndiff} of {nval} values differ")


def poisson_pvalue(k, lam):
    lo, hi = int(stats.poisson.ppf(1e-3, lam)), int(stats.poisson.ppf(1 - 1e-3, lam))
    obs = [np.sum(k <= lo)] + [np.sum(k == j) for j in range(lo + 1, hi)] + [np.sum(k >= hi)]
    exp = [stats.poisson.cdf(lo, lam)] + [stats.poisson.pmf(j, lam) for j in range(lo + 1, hi)]
    exp = np.array(exp + [1 - sum(exp)]) * len(k)
    return stats.chisquare(obs, exp).pvalue


def check_distributions(tmp, ims):
    """The draws follow their laws: normal (gaussian_noise), uniform (fog), Poisson
    (shot_noise on flat images: lam from 2.6 to 500, both samplers), flip rate
    (impulse_noise)."""
    _, dr = run_tool(tmp, "gaussian_noise", 1, 11, ims)
    p = stats.kstest(np.concatenate(dr), 'norm').pvalue
    check(p > 1e-4, f"gaussian_noise draws vs N(0,1): KS p {p:.2g}")
    _, dr = run_tool(tmp, "fog", 1, 11, ims)
    p = stats.kstest(np.concatenate(dr), 'uniform').pvalue
    check(p > 1e-4, f"fog draws vs U(0,1): KS p {p:.2g}")
    flat = np.stack([np.full((32, 32, 3), v, np.uint8) for v in (255, 255, 255, 13, 13, 13)])
    for sev in range(1, 6):
        c = [500, 250, 100, 75, 50][sev - 1]
        _, dr = run_tool(tmp, "shot_noise", sev, 11, flat)
        for v, ks in ((255, dr[:3]), (13, dr[3:])):
            lam = v / 255. * c
            p = poisson_pvalue(np.concatenate(ks), lam)
            check(p > 1e-4, f"shot_noise counts vs Poisson({lam:.3g}): chi-square p {p:.2g}")
    _, dr = run_tool(tmp, "impulse_noise", 5, 11, ims)
    flips = salts = 0
    for a in dr:
        j = 0
        while j < len(a):
            if a[j] < 0.07:
                flips, salts, j = flips + 1, salts + (a[j + 1] < 0.5), j + 2
            else:
                j += 1
    n = 3072 * len(dr)
    p1, p2 = stats.binomtest(flips, n, 0.07).pvalue, stats.binomtest(int(salts), flips, 0.5).pvalue
    check(p1 > 1e-4 and p2 > 1e-4, f"impulse_noise: {flips} flips of {n} (p {p1:.2g}), {salts} salt (p {p2:.2g})")


def main():
    if not os.path.exists(TOOL):
        print(f"FAIL: {TOOL} not built (make test builds it)")
        return 1
    ims = test_images()
    with tempfile.TemporaryDirectory(prefix="lir_corrupt_c_") as tmp:
        compare_all(tmp, ims)
        check_distributions(tmp, ims)
    print(f"test_corrupt_c.py: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# test_robust.sh: the reproductions of issue 10 ("nothing silently lost or
# poisoned") each end in a clear error and a non-zero exit, under ./lir and (make
# DEBUG=1 test) ./lir-debug: directories and unreadable paths named as such,
# control characters escaped, long names refused rather than cut, bad lists and
# non-finite inputs refused.
. "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1
case $LIR in /*) ;; *) LIR=$OLDPWD/$LIR ;; esac
src=$OLDPWD

printf '[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=2\nsize=3\npad=1\nactivation=relu\n[avgpool]\n[connected]\noutput=3\nactivation=linear\n[softmax]\n' >small.cfg
/usr/bin/python3 - <<'PY' || fail "writing the fixtures"
import struct
floats = (2 + 2 * 3 * 9) + (3 + 3 * 2)
open("w.weights", "wb").write(struct.pack("<iiiQ", 0, 2, 0, 0) + struct.pack(f"<{floats}f", *([0.25] * floats)))
open("x.raw", "wb").write(struct.pack("<192f", *([0.1] * 192)))
open("nan.raw", "wb").write(struct.pack("<192f", *([float("nan")] * 192)))
bad = [0.25] * floats
bad[5] = float("nan")
open("nanw.weights", "wb").write(struct.pack("<iiiQ", 0, 2, 0, 0) + struct.pack(f"<{floats}f", *bad))
# a tiny CIFAR-10: 5 x 40 training and 40 test records
import os, random
random.seed(3)
d = "data/cifar10/cifar-10-batches-bin"
os.makedirs(d)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    with open(f"{d}/{name}", "wb") as f:
        for r in range(40):
            f.write(bytes([r % 10]) + bytes(random.randrange(256) for _ in range(3072)))
PY
export LIR_DATA=$tmp/data
printf '[net]\nbatch=10\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=relu\n[avgpool]\n[connected]\noutput=10\nactivation=linear\n[softmax]\n' >train.cfg
tr() { "$LIR" train train.cfg --epochs 1 --batch 10 --val-size 20 --progress-seconds 1000 "$@"; }
mkdir adir
expect 0 "good fixture" "$LIR" predict small.cfg w.weights --raw x.raw

# issue item 8: a directory where a file is expected is named as such
refuse "cfg is a directory" "adir: is a directory" "$LIR" info adir
refuse "weights is a directory" "adir: is a directory" "$LIR" predict small.cfg adir --raw x.raw
refuse "raw input is a directory" "adir: is a directory" "$LIR" predict small.cfg w.weights --raw adir
refuse "PNG is a directory" "adir: is a directory" "$LIR" predict small.cfg w.weights adir
refuse "JSON config is a directory" "adir: is a directory" "$LIR" train small.cfg --config adir
refuse "sha256 of a directory" "adir: is a directory" "$LIR" data sha256 adir

touch afile
refuse "output dir under a file" "cannot create directory afile/run: Not a directory" \
    tr --outdir afile/run
expect 0 "tiny training runs" tr --outdir run0
[ -f run0/final.weights ] || fail "tiny training wrote no final.weights"

# issue item 2: a gzipped IDX file inflating past its header is refused at once
/usr/bin/python3 - <<'PY' || fail "writing the IDX bomb"
import gzip, os, struct
os.makedirs("data/mnist")
with gzip.open("data/mnist/t10k-images-idx3-ubyte.gz", "wb", 9) as f:
    f.write(struct.pack(">iiii", 0x803, 10000, 28, 28))
    z = bytes(1 << 20)
    for _ in range(32):
        f.write(z)
with gzip.open("data/mnist/t10k-labels-idx1-ubyte.gz", "wb") as f:
    f.write(struct.pack(">ii", 0x801, 10000) + bytes(10000))
PY
refuse "IDX decompression bomb" "goes on past the 7840016 bytes its header promises" \
    "$LIR" data info mnist

# a PNG header claiming 16384 x 16384 pixels is refused before the pixels are allocated
/usr/bin/python3 - <<'PY' || fail "writing the PNG"
import struct, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16384, 16384, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(bytes(16))) + chunk(b"IEND", b"")
open("huge.png", "wb").write(png)
PY
refuse "PNG pixel bomb" "huge.png: bad PNG: image larger than 67108864 pixels" \
    "$LIR" predict small.cfg w.weights huge.png

# issue item 5: control characters from a cfg, flags or paths are escaped
printf '[net]\nwidth=8\nheight=8\nchannels=3\n[\033[2J\033]0;pwned\007]\n' >esc.cfg
refuse "escape in cfg" 'esc.cfg:5: control character 0x1b in' "$LIR" info esc.cfg
has err '\x1b[2J\x1b]0;pwned\x07' "cfg line shown escaped"
grep -q $'\033' err && fail "raw ESC reached stderr"
expect 2 "escape in a flag" "$LIR" info small.cfg $'--\033[31m'
has err "'--\\x1b[31m'" "flag shown escaped"
grep -q $'\033' err && fail "raw ESC reached stderr (flag)"
refuse "escape in a path" '\x1b]0;t\x07.cfg: cannot open' "$LIR" info $'\033]0;t\007.cfg'

# issue item 7: an empty --out list and a non-finite raw input are refused
expect 2 "eval --out ," "$LIR" eval --out ,
has err "empty dataset name" "eval --out ,"
expect 2 "eval --out a,,b" "$LIR" eval --out svhn,,mnist
refuse "all-NaN raw input" "nan.raw: offset 0 (sample 0): value nan is not finite" \
    "$LIR" predict small.cfg w.weights --raw nan.raw
refuse "NaN weights refused at load" "nanw.weights: offset 40: layer 0 (convolutional) array 1" \
    "$LIR" predict small.cfg nanw.weights --raw x.raw

# issue items 3 and 4: memory bombs and overflowing shapes in a cfg are refused
# with file and line before anything is allocated (UBSan checks the arithmetic
# under make DEBUG=1 test)
net32='[net]\nbatch=1\nwidth=32\nheight=32\nchannels=3\n'
bomb() { # name, body, expected message part
    printf "$net32$2" >"$1.cfg"
    refuse "cfg $1" "$1.cfg:$4: $3" "$LIR" info "$1.cfg"
}
bomb filters '[convolutional]\nfilters=268435456\nsize=1\nactivation=relu\n' \
    "[convolutional] output (268435456 x 32 x 32 values) needs 1.0 TiB" 6
bomb output '[connected]\noutput=1000000000\nactivation=linear\n' \
    "[connected] weights (1000000000 x 3072 values) needs 11.2 TiB" 6
bomb intmax '[convolutional]\nfilters=2147483647\nsize=1\nactivation=relu\n' \
    "[convolutional] weights (2147483647 x 3 values) needs 24.0 GiB" 6
bomb size '[convolutional]\nfilters=4\nsize=65536\npad=1\nactivation=relu\n' \
    "[convolutional] weights (4 x 3 x 65536 x 65536 values)" 6
bomb padding '[convolutional]\nfilters=4\nsize=3\npadding=1073741823\nactivation=relu\n' \
    "[convolutional]: output size 2147483676 out of range" 6
bomb poolpad '[maxpool]\nsize=2\nstride=2\npadding=2147483647\n' \
    "[maxpool] argmax (3 x 1073741839 x 1073741839 values) needs 12.0 EiB" 6
printf '[net]\nbatch=1\nwidth=65536\nheight=65536\nchannels=3\n[convolutional]\nfilters=4\nsize=3\nactivation=relu\n' >wide.cfg
refuse "65536x65536 input" "wide.cfg:1: the network input (3 x 65536 x 65536 values) needs 48.0 GiB" \
    "$LIR" info wide.cfg
printf '[net]\nbatch=1\nwidth=46341\nheight=46341\nchannels=1\n[connected]\noutput=10\nactivation=linear\n' >fc.cfg
refuse "46341^2 into [connected]" "fc.cfg:1: the network input (46341 x 46341) would hold 2147488281 values" \
    "$LIR" info fc.cfg --max-memory 64G
{ printf "$net32"'[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=relu\n'
  for i in $(seq 10000); do printf '[route]\nlayers=-1,-1\n'; done; } >route.cfg
refuse "10,000 doubling routes" "route.cfg:46: [route] output (1048576 x 32 x 32 values) needs 4.0 GiB" \
    "$LIR" info route.cfg
refuse "info --batch 2147483647" "resnet18.cfg:5: the network input (2147483647 x 3 x 32 x 32 values)" \
    "$LIR" info "$src/cfg/resnet18.cfg" --batch 2147483647
refuse "small --max-memory" "over its memory budget of 10.0 MiB" \
    "$LIR" info "$src/cfg/resnet18.cfg" --max-memory 10M
expect 0 "resnet18 within the default budget" "$LIR" info "$src/cfg/resnet18.cfg"
has out "memory: 51.4 MiB of buffers for batch 1" "info prints the memory"
expect 2 "bad --max-memory" "$LIR" info "$src/cfg/resnet18.cfg" --max-memory 8X
refuse "train checks the budget" "which takes the network over its memory budget of 40.0 KiB (--max-memory)" \
    tr --max-memory 40K --outdir runm

# issue item 7: the JSON config is strict; classes too few for the labels refused
printf '{"epochs": 2} garbage' >trail.json
refuse "JSON trailing data" "trail.json: byte 14: trailing data after the JSON value" tr --config trail.json
printf '{"epochs": 2, "epochs": 3}' >dup.json
refuse "JSON duplicate key" "dup.json: config key 'epochs' given twice" tr --config dup.json
printf '{"out_dir": "a\\u0000b"}' >nul.json
refuse "JSON \\u0000" "nul.json: byte 14: \\u0000 in a string" tr --config nul.json
printf '{"epochs": 2}\0{}' >nulbyte.json
refuse "JSON NUL byte" "nulbyte.json: byte 13: a NUL byte" tr --config nulbyte.json
printf '{"classes": 3}' >c3.json
refuse "classes 3 on CIFAR-10" "config key 'classes': 3, but the cifar10 train split has labels up to 9" \
    tr --config c3.json --outdir runc3
[ -e runc3/final.weights ] && fail "classes 3: final.weights written"

# issue item 1: parameters, gradients, optimiser state or batch-norm statistics that
# turn non-finite stop the run (the loss stays finite here: ReLU maps NaN to 0; the
# old loop wrote final.weights with inf running variances and exited 0)
printf '[net]\nbatch=10\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=relu\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=relu\n[avgpool]\n[connected]\noutput=10\nactivation=linear\n[softmax]\n' >blowup.cfg
blow() { "$LIR" train blowup.cfg --epochs 8 --batch 10 --val-size 20 --progress-seconds 1000 --lr 100 "$@"; }
refuse "lr 100 blows up" "non-finite values at epoch 1, step" blow --outdir nan0
has err "no checkpoint was written, so there is nothing to resume" "no checkpoint named when none exists"
[ -e nan0/final.weights ] || [ -e nan0/checkpoint.bin ] && fail "NaN run left weights or a checkpoint"
refuse "lr 100 with checkpoints" "the last good checkpoint nan1/checkpoint.bin is kept" \
    blow --outdir nan1 --checkpoint-steps 4
cp nan1/checkpoint.bin good.ckpt
refuse "its checkpoint resumes (and blows up again)" "the last good checkpoint nan1/checkpoint.bin" \
    "$LIR" train blowup.cfg --resume nan1

# issue item 6: checkpoints carry a version and a CRC-32 and are validated field by
# field (the tampered fields below get a correct checksum, so the field checks speak)
ck() { # name, python edit of bytearray b (payload from offset 24), expected message
    /usr/bin/python3 - "$1" "$2" <<'PY' || fail "writing checkpoint $1"
import shutil, struct, sys, zlib
name, edit = sys.argv[1], sys.argv[2]
b = bytearray(open("good.ckpt", "rb").read())
exec(edit)
if "nocrc" not in edit:
    b[12:16] = struct.pack("<I", zlib.crc32(bytes(b[24:])))
shutil.copytree("nan1", f"ck_{name}", dirs_exist_ok=True)
open(f"ck_{name}/checkpoint.bin", "wb").write(b)
PY
    refuse "checkpoint $1" "$3" "$LIR" train blowup.cfg --resume "ck_$1"
}
ck trailing 'b += b"junk"' "the header says"
ck trailing2 'b += b"junk"; b[16:24] = struct.pack("<Q", len(b) - 24)' "payload bytes do not fit this network"
ck flip 'b[-100] ^= 1  # nocrc' "checksum mismatch"
ck epoch 'b[40:44] = struct.pack("<i", 1000000)' "epoch 1000000 outside this run's 0..8"
ck step 'b[32:40] = struct.pack("<q", -7)' "step -7 (optimiser: "
ck nan 'b[-4:] = struct.pack("<f", float("nan"))' "is not finite"
ck version 'b[8:12] = struct.pack("<I", 5)' "format version 5, this lir reads 4"
ck v1 'b[0:8] = b"LIRCKPT1"' "checkpoint format 1 of an older lir (no checksum"
ck v2 'b[0:8] = b"LIRCKPT2"' "checkpoint format 2 of an older lir (no checksum"

# issue item 8: names longer than the buffers are refused as too long, not cut
long=cifar10$(printf '@blur1.0%.0s' $(seq 12))
refuse "long --out name" "name too long" "$LIR" eval --out "$long" --limit 1
refuse "long --in name" "dataset name too long" "$LIR" data info "$long"

finish test_robust

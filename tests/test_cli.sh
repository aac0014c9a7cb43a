#!/usr/bin/env bash
# test_cli.sh: lir's command line: exit codes and usage (unknown command/flag -> 2,
# --help -> 0 with every flag's default), `lir info` on cfg/resnet18.cfg listing
# the 41 hook points, `lir predict` on PNGs written here (against PyTorch on the same
# weights when torch imports) and on the equivalent raw tensors, error messages,
# and a short `lir bench`.
. "$(dirname "$0")/lib.sh"

# --- usage and exit codes ---------------------------------------------------------
expect 2 "no command" "$LIR"
has err "usage: lir <command>" "no command"
expect 2 "unknown command" "$LIR" frobnicate
has err "lir: unknown command 'frobnicate'" "unknown command"
# every other message names its command: "lir <command>: "
expect 2 "eval without --out" "$LIR" eval
has err "lir eval: --out is required" "eval without --out"
expect 2 "data unknown subcommand" "$LIR" data frob
has err "lir data: unknown subcommand 'frob'" "data unknown subcommand"
expect 1 "bench bad batch" "$LIR" bench cfg/resnet18.cfg --batch 0
has err "lir bench: batch sizes" "bench bad batch"
expect 0 "--version" "$LIR" --version
grep -qE '^lir [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" || fail "--version output: $(cat "$tmp/out")"
expect 0 "help" "$LIR" help
cmds=$(awk '/^commands:/ { on = 1; next } on && $1 != "help" && $1 !~ /^--/ { print $1 }' "$tmp/out")
for c in info predict bench; do
    echo "$cmds" | grep -qx "$c" || fail "help does not list $c"
done
for c in $cmds; do
    expect 0 "$c --help" "$LIR" "$c" --help
    has out "usage: lir $c" "$c --help"
    # every flag line documents its default (or that it is required)
    if grep -E '^  --' "$tmp/out" | grep -v -- '--help' | grep -v '(required)$' | grep -vq '(default'; then
        fail "$c --help: a flag without a default: $(grep -E '^  --' "$tmp/out" | grep -v '(default')"
    fi
    expect 0 "help $c" "$LIR" help "$c"
    has out "usage: lir $c" "help $c"
    expect 2 "$c unknown flag" "$LIR" "$c" --no-such-flag
    has err "unknown option '--no-such-flag'" "$c unknown flag"
    has err "usage: lir $c" "$c unknown flag"
done
expect 2 "info without cfg" "$LIR" info
has err "expected a cfg, or --cpu" "info without cfg"
# --- kernels: lir info --cpu, LIR_KERNELS -----------------------------------------
expect 0 "info --cpu" "$LIR" info --cpu
has out "cpu level:" "info --cpu"
has out "bf16 GEMM:" "info --cpu"
expect 0 "info --cpu, generic" env LIR_KERNELS=generic "$LIR" info --cpu
has out "kernels level:  generic" "info --cpu, generic"
has out "conv forward:   im2col + GEMM" "info --cpu, generic"
has out "passes:         the build's baseline" "info --cpu, generic"
expect 2 "bad LIR_KERNELS" env LIR_KERNELS=avx9000 "$LIR" info --cpu
has err "LIR_KERNELS=avx9000: expected generic, avx2, avx512 or avx512bf16" "bad LIR_KERNELS"
expect 0 "info --cpu, LIR_CONV" env LIR_CONV=winograd "$LIR" info --cpu
has out "conv 3x3 /1:    winograd" "info --cpu names LIR_CONV's mode"
expect 2 "bad LIR_CONV" env LIR_CONV=fft "$LIR" info --cpu
has err "LIR_CONV=fft: expected direct, winograd or auto" "bad LIR_CONV names the choices"
expect 2 "bad int" "$LIR" bench cfg/resnet18.cfg --iters abc
has err "--iters: expected an integer, got 'abc'" "bad int"
expect 2 "bad choice" "$LIR" bench cfg/resnet18.cfg --mode fast
has err "expected one of train|infer|both" "bad choice"
expect 2 "missing value" "$LIR" info cfg/resnet18.cfg --classes
has err "--classes needs a value" "missing value"

# --- info ----------------------------------------------------------------------
expect 1 "info missing cfg" "$LIR" info "$tmp/nope.cfg"
has err "lir info: " "info missing cfg"
has err "nope.cfg" "info missing cfg"
expect 0 "info resnet18" "$LIR" info cfg/resnet18.cfg
names="conv1 bn1"
for s in 1 2 3 4; do
    for b in 0 1; do
        for k in 1 2; do names="$names layer$s.$b.conv$k layer$s.$b.bn$k"; done
        if [ $s -gt 1 ] && [ $b -eq 0 ]; then
            names="$names layer$s.0.downsample.0 layer$s.0.downsample.1"
        fi
    done
done
names="$names fc"
[ "$(echo $names | wc -w)" -eq 41 ] || fail "test builds $(echo $names | wc -w) names, not 41"
for n in $names; do
    grep -qE "(^|[[:space:]])${n//./\\.}([[:space:]]|$)" "$tmp/out" || fail "info: point $n not listed"
done
cp "$tmp/out" "$tmp/info10"
expect 0 "info --classes 100" "$LIR" info cfg/resnet18.cfg --classes 100
cmp -s "$tmp/out" "$tmp/info10" && fail "info --classes 100 prints the same as 10 classes"

# --- predict ---------------------------------------------------------------------
if [ ! -x "$PY" ]; then
    echo "SKIP part: predict checks need $PY to write PNGs and weights"
else
cat >"$tmp/tiny.cfg" <<'EOF'
[net]
batch=1
width=32
height=32
channels=3

[convolutional]
filters=4
size=3
stride=2
pad=1
batch_normalize=1
activation=relu

[avgpool]

[connected]
output=10
activation=linear
name=fc

[softmax]
EOF
# Writes tiny.weights (Darknet layout), img0..2.png (32x32 RGB), small.png (16x16),
# raw.bin (the three images normalised with CIFAR-10 mean/std, float32 NCHW) and,
# when torch imports, torch.txt (class, prob, energy of each image by PyTorch).
"$PY" - "$tmp" <<'EOF'
import random, struct, sys, zlib
d = sys.argv[1]
rnd = random.Random(10)  # a seed giving three different classes
def png(path, w, h, pix):  # pix[y][x] = (r, g, b)
    def chunk(t, data):
        return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data))
    raw = b"".join(b"\0" + bytes(v for p in row for v in p) for row in pix)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
imgs = []
for i in range(3):
    # image i is mostly channel i, so the three images land in different classes
    pix = [[tuple(min(255, max(0, (190 if c == i else 60) + rnd.randrange(-60, 61)))
                  for c in range(3)) for x in range(32)] for y in range(32)]
    png(f"{d}/img{i}.png", 32, 32, pix)
    imgs.append(pix)
png(f"{d}/small.png", 16, 16, [[(1, 2, 3)] * 16 for _ in range(16)])
mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
x = [[[[(p[y][x][c] / 255 - mean[c]) / std[c] for x in range(32)] for y in range(32)]
      for c in range(3)] for p in imgs]
with open(f"{d}/raw.bin", "wb") as f:
    for s in x:
        f.write(struct.pack("<3072f", *[v for ch in s for row in ch for v in row]))
bias = [rnd.uniform(-.5, .5) for _ in range(4)]
scale = [rnd.uniform(.5, 1.5) for _ in range(4)]
rmean = [rnd.uniform(-.2, .2) for _ in range(4)]
rvar = [rnd.uniform(.5, 2) for _ in range(4)]
cw = [rnd.gauss(0, .3) for _ in range(4 * 3 * 9)]
fb = [rnd.uniform(-.5, .5) for _ in range(10)]
fw = [rnd.gauss(0, 3) for _ in range(40)]
with open(f"{d}/tiny.weights", "wb") as f:
    f.write(struct.pack("<iiiQ", 0, 2, 0, 0))
    for v in (bias, scale, rmean, rvar, cw, fb, fw):
        f.write(struct.pack(f"<{len(v)}f", *v))
try:
    import torch
except ImportError:
    sys.exit(0)
t = torch.tensor(x, dtype=torch.float32)
a = torch.nn.functional.conv2d(t, torch.tensor(cw).view(4, 3, 3, 3), stride=2, padding=1)
a = torch.nn.functional.batch_norm(a, torch.tensor(rmean), torch.tensor(rvar),
                                   torch.tensor(scale), torch.tensor(bias), False, 0.0, 1e-5)
a = torch.relu(a).mean(dim=(2, 3))
logits = a @ torch.tensor(fw).view(10, 4).T + torch.tensor(fb)
e = -torch.logsumexp(logits, dim=1)
p = torch.softmax(logits, dim=1)
with open(f"{d}/torch.txt", "w") as f:
    for i in range(3):
        k = int(p[i].argmax())
        f.write(f"{k} {float(p[i, k]):.6f} {float(e[i]):.6f}\n")
EOF
[ $? -eq 0 ] || fail "python could not write the predict fixtures"

expect 0 "predict PNGs" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" \
    "$tmp/img0.png" "$tmp/img1.png" "$tmp/img2.png"
cp "$tmp/out" "$tmp/png.txt"
head -1 "$tmp/png.txt" | grep -q $'^input\tclass\tindex\tprob\tenergy$' || fail "predict header"
[ "$(wc -l <"$tmp/png.txt")" -eq 4 ] || fail "predict prints $(wc -l <"$tmp/png.txt") lines, want 4"
[ "$(tail -n +2 "$tmp/png.txt" | cut -f3 | sort -u | wc -l)" -eq 3 ] ||
    fail "predict: the three fixture images should get three different classes"
# the class column names the CIFAR-10 class of the index column
tail -n +2 "$tmp/png.txt" | awk -F'\t' '
    BEGIN { split("airplane automobile bird cat deer dog frog horse ship truck", names, " ") }
    $2 != names[$3 + 1] { bad++; print "    " $0 }
    END { exit bad > 0 }' || fail "predict: class names do not match the indices"
expect 0 "predict --raw" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" --raw "$tmp/raw.bin"
cp "$tmp/out" "$tmp/raw.txt"
expect 0 "predict --raw --n 3" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" \
    --raw "$tmp/raw.bin" --n 3 --batch 2
cmp -s "$tmp/out" "$tmp/raw.txt" || fail "predict --raw: batch 2 differs from batch 3"
# PNG and raw agree: same classes, probabilities and energies within 1e-4
paste <(tail -n +2 "$tmp/png.txt") <(tail -n +2 "$tmp/raw.txt") | awk '
    function abs(v) { return v < 0 ? -v : v }
    $3 != $8 || abs($4 - $9) > 1e-4 || abs($5 - $10) > 1e-4 { bad++; print "    " $0 }
    END { exit bad > 0 }' || fail "predict PNG vs --raw disagree"
if [ -f "$tmp/torch.txt" ]; then
    paste <(tail -n +2 "$tmp/png.txt" | cut -f3-) "$tmp/torch.txt" | awk '
        function abs(v) { return v < 0 ? -v : v }
        $1 != $4 || abs($2 - $5) > 1e-4 || abs($3 - $6) > 1e-4 { bad++; print "    " $0 }
        END { exit bad > 0 }' || fail "predict disagrees with PyTorch on the same weights"
else
    echo "note: torch not importable; predict checked against --raw only"
fi
expect 0 "predict --in cifar100" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" \
    --in cifar100 "$tmp/img0.png"
[ "$(sed -n 2p "$tmp/out" | cut -f5)" != "$(sed -n 2p "$tmp/png.txt" | cut -f5)" ] ||
    fail "--in cifar100 gives the same energy as cifar10"
[ "$(sed -n 2p "$tmp/out" | cut -f2)" = "$(sed -n 2p "$tmp/out" | cut -f3)" ] ||
    fail "a 10-output network under --in cifar100 (100 classes) is labelled by index"
# JPEG input (written by PIL at quality 100): the same class as the PNG
if "$PY" -c "
import sys; from PIL import Image
Image.open(sys.argv[1]).save(sys.argv[2], quality=100)" "$tmp/img0.png" "$tmp/img0.jpg" 2>/dev/null
then
    expect 0 "predict JPEG" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" "$tmp/img0.jpg"
    [ "$(sed -n 2p "$tmp/out" | cut -f2-3)" = "$(sed -n 2p "$tmp/png.txt" | cut -f2-3)" ] ||
        fail "predict: the JPEG of img0 gets another class than the PNG"
else
    echo "note: PIL not importable; JPEG input checked by test_image only"
fi
expect 2 "predict without weights" "$LIR" predict "$tmp/tiny.cfg" "$tmp/img0.png"
has err "img0.png is an image, not a weights file: the weights are missing" "predict without weights"
expect 2 "predict without weights (exit 2)" "$LIR" predict "$tmp/tiny.cfg" "$tmp/img0.png" "$tmp/img1.png"
has err "the weights are missing" "predict without weights, two images"

expect 1 "predict missing PNG" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" "$tmp/nope.png"
has err "lir predict: $tmp/nope.png: cannot open" "predict missing PNG"
expect 1 "predict missing weights" "$LIR" predict "$tmp/tiny.cfg" "$tmp/nope.weights" "$tmp/img0.png"
has err "nope.weights" "predict missing weights"
expect 1 "predict wrong size" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" "$tmp/small.png"
has err "image is 16x16, the network takes 32x32" "predict wrong size"
expect 1 "predict not an image" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" "$tmp/tiny.cfg"
has err "neither a PNG nor a JPEG" "predict not an image"
expect 1 "predict --raw wrong count" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" \
    --raw "$tmp/raw.bin" --n 4
has err "expected 4 samples" "predict --raw wrong count"
head -c 1000 "$tmp/raw.bin" >"$tmp/cut.bin"
expect 1 "predict --raw partial" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" --raw "$tmp/cut.bin"
has err "not a whole number" "predict --raw partial"
expect 2 "predict raw and files" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights" \
    --raw "$tmp/raw.bin" "$tmp/img0.png"
expect 2 "predict nothing" "$LIR" predict "$tmp/tiny.cfg" "$tmp/tiny.weights"

# --- bench -------------------------------------------------------------------------
expect 0 "bench tiny" env -u OMP_WAIT_POLICY "$LIR" bench "$tmp/tiny.cfg" --iters 2 --warmup 1 --batch 4 \
    --infer-batch 8 --threads 1
rows=$(awk '($1 == "train" || $1 == "infer") && $4 > 0 && $10 > 0' "$tmp/out" | wc -l)
[ "$rows" -eq 4 ] || fail "bench printed $rows timing rows, want 4: $(cat "$tmp/out")"
grep -q '^mode *hooks *batch *images/s *min_ms *q1_ms *median_ms *q3_ms *max_ms *cpu_ms *prec$' \
    "$tmp/out" || fail "bench columns: $(grep '^mode' "$tmp/out")"
# the spread: min <= q1 <= median <= q3 <= max, and images/s = batch / median
awk '$1 == "train" || $1 == "infer" {
         if (!($5 <= $6 && $6 <= $7 && $7 <= $8 && $8 <= $9)) { print "spread: " $0; bad = 1 }
         d = 1000 * $3 / $4 - $7; if (d < -0.006 || d > 0.006) { print "images/s: " $0; bad = 1 } }
     END { exit bad }' "$tmp/out" || fail "bench rows inconsistent: $(cat "$tmp/out")"
has out "# load average before: " "bench: the load before"
has out "# load average after: " "bench: the load after"
has out "# cpu_ms: the median CPU time per iteration summed over all of lir's threads" \
    "bench explains cpu_ms"
awk '$1 == "infer" && $2 > 0 { print $2 }' "$tmp/out" | grep -qx 3 ||
    fail "bench: the hooked infer row does not hook the 3 default points of tiny.cfg"
has out "OMP_WAIT_POLICY PASSIVE" "bench: lir picks the passive OpenMP wait policy by default"
expect 0 "bench with a chosen wait policy" env OMP_WAIT_POLICY=active "$LIR" bench "$tmp/tiny.cfg" \
    --iters 1 --warmup 0 --batch 2 --mode infer --hooks none
has out "OMP_WAIT_POLICY active" "bench: a policy the user chose is kept"
expect 0 "bench train only" "$LIR" bench "$tmp/tiny.cfg" --iters 1 --warmup 0 --batch 2 \
    --mode train --hooks none
[ "$(awk '$1 == "train" || $1 == "infer"' "$tmp/out" | wc -l)" -eq 1 ] || fail "bench --mode train --hooks none"
expect 0 "bench both precisions" "$LIR" bench "$tmp/tiny.cfg" --iters 1 --warmup 0 --batch 2 \
    --mode train --hooks none --precision both
[ "$(awk '$1 == "train" { print $NF }' "$tmp/out" | tr '\n' ' ')" = "fp32 bf16 " ] ||
    fail "bench --precision both: want a fp32 and a bf16 row: $(cat "$tmp/out")"
has out "# kernels level" "bench names the kernels"
expect 0 "bench --help" "$LIR" bench --help
has out "cpu_ms (the median CPU time per iteration of all threads" "bench --help explains cpu_ms"
fi

finish test_cli

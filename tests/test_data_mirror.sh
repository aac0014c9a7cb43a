#!/usr/bin/env bash
# test_data_mirror.sh: scripts/get_data.sh end to end with the local mirror
# (LIR_MIRROR), then `lir data info` on what it unpacked: class counts and channel
# means of the mirror's CIFAR-10, MNIST and Fashion-MNIST against published values;
# unavailable sets (SVHN, CIFAR-100) must fail cleanly, and bad files must give a
# message and a non-zero exit. Skips when no mirror is found.
set -u
LIR=${LIR:-./lir}
mirror=
for m in "${LIR_MIRROR:-}" ../shared/data/mirror shared/data/mirror /work/shared/data/mirror; do
    [ -n "$m" ] && [ -f "$m/SHA256SUMS" ] && { mirror=$m; break; }
done
[ -n "$mirror" ] || { echo "SKIP: no data mirror (set LIR_MIRROR; CI has it at ../shared/data/mirror)"; exit 77; }
tmp=$(mktemp -d /tmp/lir_mirror_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

out=$(LIR_MIRROR=$mirror scripts/get_data.sh cifar10 mnist fashionmnist --data "$tmp/data" 2>&1) || bad "get_data.sh failed: $out"
grep -q "NOT the official file.*mirror's SHA256SUMS" <<<"$out" || bad "cifar10 not reported as the mirror's rebuild: $out"
grep -q "t10k-images-idx3-ubyte.gz: md5 9fb629c4189551a2d022fa330f9573f3 matches the official" <<<"$out" || bad "mnist md5 not verified: $out"
# PROVENANCE: the mirror's CIFAR-10 is recorded as such with its sha256; MNIST has the official md5
p=$tmp/data/cifar10/PROVENANCE
grep -qx "source=mirror" "$p" && grep -qx "fetched_from=$mirror" "$p" || bad "cifar10 PROVENANCE source: $(cat "$p")"
sha=$(sha256sum "$mirror/cifar10/cifar-10-binary.tar.gz" | awk '{print $1}')
grep -qx "file=cifar-10-binary.tar.gz sha256=$sha md5=[0-9a-f]* check=mirror-sha256" "$p" || bad "cifar10 PROVENANCE file line: $(cat "$p")"
grep -q "^note=JPEG q75-derived rebuild.*not the official files" "$p" || bad "cifar10 PROVENANCE note: $(cat "$p")"
grep -q "c32a1d4ab5d03f1284b67883e8d87530" "$tmp/data/cifar10/.verified" && bad ".verified claims the official md5 for the mirror's cifar10"
p=$tmp/data/mnist/PROVENANCE
grep -qx "source=official" "$p" && grep -q "^file=t10k-images-idx3-ubyte.gz sha256=[0-9a-f]\{64\} md5=9fb629c4189551a2d022fa330f9573f3 check=official-md5$" "$p" || bad "mnist PROVENANCE: $(cat "$p")"
grep -q "^note=" "$p" && bad "official data has a note: $(cat "$p")"
out=$(LIR_MIRROR=$mirror scripts/get_data.sh mnist --data "$tmp/data" 2>&1) && grep -q already <<<"$out" || bad "second run: $out"

# Unavailable sets: non-zero exit, official URL and mirror layout named.
out=$(LIR_MIRROR=$mirror scripts/get_data.sh svhn cifar100 --data "$tmp/data" 2>&1) && bad "svhn/cifar100 should fail"
grep -q "ufldl.stanford.edu/housenumbers/test_32x32.mat" <<<"$out" || bad "svhn URL missing: $out"
grep -q "cifar-100-binary.tar.gz" <<<"$out" && grep -q "mirror layout" <<<"$out" || bad "cifar100 message: $out"
# A corrupted mirror file is refused.
mkdir -p "$tmp/fake/mnist"
cp "$mirror/SHA256SUMS" "$tmp/fake/"
printf 'not mnist' >"$tmp/fake/mnist/t10k-images-idx3-ubyte.gz"
cp "$mirror/mnist/t10k-labels-idx1-ubyte.gz" "$tmp/fake/mnist/"
out=$(LIR_MIRROR=$tmp/fake scripts/get_data.sh mnist --data "$tmp/d2" 2>&1) && bad "corrupt mirror file accepted: $out"
grep -q "checksum mismatch" <<<"$out" || bad "no checksum message: $out"

# info NAME SPLIT "expected counts" "expected means" tolerance
check_info() {
    local o; o=$("$LIR" data info "$1" --split "$2" --data "$tmp/data" 2>&1) || { bad "lir data info $1 $2: $o"; return; }
    echo "$o"
    local counts; counts=$(awk '$1=="class_counts"{$1=""; print substr($0,2)}' <<<"$o")
    [ "$counts" = "$3" ] || bad "$1/$2 class counts '$counts', want '$3'"
    local means; means=$(awk '$1=="channel_mean_255"{$1=""; print substr($0,2)}' <<<"$o")
    awk -v got="$means" -v want="$4" -v tol="$5" 'BEGIN{n=split(got,g," "); m=split(want,w," ");
        if (n!=m) exit 1; for(i=1;i<=n;i++) if (g[i]-w[i] > tol || w[i]-g[i] > tol) exit 1}' \
        || bad "$1/$2 channel means '$means', want '$4' +- $5"
}
k5="5000 5000 5000 5000 5000 5000 5000 5000 5000 5000"
k1="1000 1000 1000 1000 1000 1000 1000 1000 1000 1000"
check_info cifar10 train "$k5" "125.3 123.0 113.9" 0.3
check_info cifar10 test "$k1" "126.0 123.7 114.9" 0.5
check_info mnist test "980 1135 1032 1010 982 892 958 1028 974 1009" "33.79" 0.1
check_info fashionmnist test "$k1" "73.15" 0.2

# Missing and broken files: a message naming the file, exit status 1.
out=$("$LIR" data info svhn --data "$tmp/data" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "test_32x32.mat" <<<"$out" && grep -q "get_data.sh svhn" <<<"$out" || bad "missing svhn: rc $rc: $out"
mkdir -p "$tmp/broken/cifar10/cifar-10-batches-bin"
head -c 5000 "$tmp/data/cifar10/cifar-10-batches-bin/test_batch.bin" >"$tmp/broken/cifar10/cifar-10-batches-bin/test_batch.bin"
out=$("$LIR" data info cifar10 --data "$tmp/broken" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "test_batch.bin: size 5000 is not a multiple" <<<"$out" || bad "truncated cifar: rc $rc: $out"
exit $fail

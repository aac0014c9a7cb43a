#!/usr/bin/env bash
# test_data_cli.sh: `lir data` on tiny fixture data: info, bench, sha256, usage
# errors (exit 2) and data errors (exit 1 with a message).
set -u
LIR=${LIR:-./lir}
tmp=$(mktemp -d /tmp/lir_cli_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
b=$tmp/cifar10/cifar-10-batches-bin
mkdir -p "$b"
for i in 1 2 3 4 5; do cp tests/fixtures/preproc_cifar.bin "$b/data_batch_$i.bin"; done
cp tests/fixtures/preproc_cifar.bin "$b/test_batch.bin"

out=$("$LIR" data info cifar10 --split train --data "$tmp" 2>&1) || bad "info: $out"
grep -q "15 images, 3x32x32, 10 classes" <<<"$out" && grep -q "^class_counts 0 0 5 5 5 0" <<<"$out" || bad "info output: $out"
out=$(LIR_DATA=$tmp "$LIR" data info cifar10@noise0.2 2>&1) || bad "info via LIR_DATA: $out"
grep -q "dataset cifar10@noise0.2 split test dir $tmp: 3 images" <<<"$out" || bad "LIR_DATA output: $out"
out=$("$LIR" data bench --data "$tmp" --batch 4 --batches 20 2>&1) || bad "bench: $out"
grep -q "loader (shuffle.*75 images in .* images/s" <<<"$out" || bad "bench output: $out"
want=$(sha256sum tests/fixtures/preproc_cifar.bin)
got=$("$LIR" data sha256 tests/fixtures/preproc_cifar.bin) || bad "sha256 failed"
[ "$got" = "$want" ] || bad "sha256: '$got' vs sha256sum '$want'"

"$LIR" data >/dev/null 2>&1; [ $? = 2 ] || bad "no subcommand should exit 2"
"$LIR" data info >/dev/null 2>&1; [ $? = 2 ] || bad "info without a name should exit 2"
"$LIR" data info cifar10 --bogus >/dev/null 2>&1; [ $? = 2 ] || bad "unknown flag should exit 2"
out=$("$LIR" data info tinyimagenet --data "$tmp" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "known: cifar10, cifar100, svhn, mnist, fashionmnist" <<<"$out" || bad "unknown set: rc $rc $out"
out=$("$LIR" data sha256 "$tmp/nope" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "$tmp/nope: cannot open" <<<"$out" || bad "sha256 of a missing file: rc $rc $out"
printf 'x' >>"$b/test_batch.bin"
out=$("$LIR" data info cifar10 --data "$tmp" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "test_batch.bin: size 9220 is not a multiple of the CIFAR-10 record size 3073" <<<"$out" || bad "bad record size: rc $rc $out"
exit $fail

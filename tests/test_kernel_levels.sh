#!/usr/bin/env bash
# test_kernel_levels.sh: the tests of the kernels and of the layers on them run again
# at every kernels level below this CPU's (LIR_KERNELS=generic, avx2, avx512), so the
# fallback paths (OpenBLAS, im2col, emulated bf16) stay tested on a machine whose
# normal run takes the fastest ones; the energy loops, compiled for each level
# (KERNELS_COPIES), give the same bits at every level (test_hook's hash); and a
# residual network's training step, direct and Winograd, fp32 and bf16, gives the
# same bits at generic and avx2, which share their GEMMs (OpenBLAS) and differ in the
# copies of the elementwise and Winograd passes (test_winograd's hash).
# `make test-levels` runs the whole suite per level.
. "$(dirname "$0")/lib.sh"
build=${LIR_BUILD:-build}
cpu=$(env -u LIR_KERNELS "$LIR" info --cpu | awk '/^cpu level:/ { print $3 }')
case $cpu in
    generic) levels="" ;;
    avx2) levels="generic" ;;
    avx512) levels="generic avx2" ;;
    *) levels="generic avx2 avx512" ;;
esac
if [ -z "$levels" ]; then
    echo "SKIP: this CPU runs the generic level only, which the normal run tests"
    exit 77
fi
bits() { grep -m1 '^energy bits' "$tmp/hook"; }
env -u LIR_KERNELS "$build/tests/test_hook" >"$tmp/hook" 2>&1
ref=$(bits)
check
[ -n "$ref" ] || fail "test_hook printed no energy bits"
for level in $levels; do
    expect 0 "info --cpu at $level" env LIR_KERNELS=$level "$LIR" info --cpu
    has out "kernels level:  $level" "LIR_KERNELS=$level is taken"
    [ $level = avx2 ] && has out "passes:         AVX2" "the AVX2 passes at avx2"
    for t in test_gemm_kernel test_layer_gemm test_conv_pack test_bf16 test_bf16_net test_layers \
             test_net test_hook test_winograd; do
        check
        LIR_KERNELS=$level "$build/tests/$t" >"$tmp/out" 2>&1
        rc=$?
        # 77: the test has nothing to check at this level (it printed why)
        if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
            fail "$t at LIR_KERNELS=$level: exit $rc"
            tail -n 5 "$tmp/out" | sed 's/^/    /'
        fi
    done
    check
    LIR_KERNELS=$level "$build/tests/test_hook" >"$tmp/hook" 2>&1
    [ "$(bits)" = "$ref" ] || fail "energies at LIR_KERNELS=$level: $(bits), at the CPU's level: $ref"
done
train_bits() { LIR_KERNELS=$1 "$build/tests/test_winograd" 2>&1 | grep -m1 '^training bits'; }
check
generic=$(train_bits generic)
avx2=$(train_bits avx2)
[ -n "$generic" ] || fail "test_winograd printed no training bits"
check
[ "$generic" = "$avx2" ] || fail "training step: $generic at generic, $avx2 at avx2"
finish test_kernel_levels

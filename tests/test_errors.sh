#!/usr/bin/env bash
# test_errors.sh: lir refuses bad cfg and .weights files through the CLI with a
# message naming file and line (cfg) or the sizes and the layer (weights), exit 1,
# and no crash (the same checks run under ASan with make DEBUG=1 test).
. "$(dirname "$0")/lib.sh"
head5='[net]
batch=2
width=8
height=8
channels=3'
cfg() { printf '%s\n%s\n' "$head5" "$2" >"$tmp/$1.cfg"; }

cfg unknown_section '[dropout]
probability=.5'
refuse "unknown section" "unknown_section.cfg:6: unknown section [dropout]" \
    "$LIR" info "$tmp/unknown_section.cfg"
cfg unknown_key '[convolutional]
filters=4
dilation=2
activation=relu'
refuse "unknown key" "unknown_key.cfg:8: unknown key 'dilation' in [convolutional]" \
    "$LIR" info "$tmp/unknown_key.cfg"
cfg bad_int '[convolutional]
filters=four
activation=relu'
refuse "bad integer" "bad_int.cfg:7: filters: expected an integer, got 'four'" \
    "$LIR" info "$tmp/bad_int.cfg"
cfg bad_float '[hook]
point=conv0
lambda=0.1.2
[convolutional]
filters=4
activation=relu'
refuse "bad number" "bad_float.cfg:8: lambda: expected a number" "$LIR" info "$tmp/bad_float.cfg"
cfg missing_from '[convolutional]
filters=4
activation=relu
[shortcut]
from=-4
activation=relu'
refuse "missing from-layer" "missing_from.cfg:10: from=-4 refers to layer -3, which does not exist" \
    "$LIR" info "$tmp/missing_from.cfg"
cfg shape '[convolutional]
filters=4
activation=relu
[convolutional]
filters=4
stride=2
activation=relu
[shortcut]
from=-2'
refuse "shortcut shapes" "shape.cfg:14: [shortcut] from=-2: layer 0 output is 4x8x8" \
    "$LIR" info "$tmp/shape.cfg"
printf 'batch=1\n' >"$tmp/nosection.cfg"
refuse "option before a section" "nosection.cfg:1: option 'batch=1' before the first [section]" \
    "$LIR" info "$tmp/nosection.cfg"
refuse "missing cfg" "$tmp/none.cfg: cannot open" "$LIR" info "$tmp/none.cfg"
head -c 100 /dev/urandom >"$tmp/binary.cfg"
"$LIR" info "$tmp/binary.cfg" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "binary cfg: exit $rc, want 1"

# weights: a file for 10 classes against 100, truncated, extended
cfg small '[convolutional]
batch_normalize=1
filters=4
size=3
pad=1
activation=relu
[avgpool]
[connected]
output=10
activation=linear
[softmax]'
/usr/bin/python3 - "$tmp" <<'PY' || fail "writing the test weights"
import struct, sys
t = sys.argv[1]
floats = (4 + 12 + 4 * 3 * 9) + (10 + 10 * 4)   # conv (bias, BN x3, W) + fc (b, W)
with open(f"{t}/w.weights", "wb") as f:
    f.write(struct.pack("<iiiQ", 0, 2, 0, 0) + struct.pack(f"<{floats}f", *([0.5] * floats)))
with open(f"{t}/x.raw", "wb") as f:
    f.write(struct.pack("<192f", *([0.1] * 192)))
PY
"$LIR" predict "$tmp/small.cfg" "$tmp/w.weights" --raw "$tmp/x.raw" >"$tmp/out" 2>"$tmp/err" ||
    fail "good weights refused: $(cat "$tmp/err")"
size=$(stat -c %s "$tmp/w.weights")
refuse "wrong classes" "needs exactly $((20 + 4 * (4 + 12 + 108 + 100 + 400)))" \
    "$LIR" predict "$tmp/small.cfg" "$tmp/w.weights" --raw "$tmp/x.raw" --classes 100
head -c $((size - 8)) "$tmp/w.weights" >"$tmp/short.weights"
refuse "truncated weights" "$((size - 8)) bytes, but this cfg needs exactly $size" \
    "$LIR" predict "$tmp/small.cfg" "$tmp/short.weights" --raw "$tmp/x.raw"
grep -qF "layer 2 (connected" "$tmp/err" || fail "truncated weights: layer not named: $(cat "$tmp/err")"
{ cat "$tmp/w.weights"; printf 'abcd'; } >"$tmp/long.weights"
refuse "extended weights" "too long" "$LIR" predict "$tmp/small.cfg" "$tmp/long.weights" --raw "$tmp/x.raw"
refuse "missing weights" "$tmp/none.weights: cannot open" \
    "$LIR" predict "$tmp/small.cfg" "$tmp/none.weights" --raw "$tmp/x.raw"

finish test_errors

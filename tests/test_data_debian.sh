#!/usr/bin/env bash
# test_data_debian.sh: scripts/get_data.sh photos, photos-test, textures and clipart-val
# end to end on fixture .deb packages built here (LIR_DEBS), so it runs offline: every
# path of the real lists (scripts/data-lists) gets a small generated image, the textures
# package a pk3 (zip) with kept and excluded members, the clip art package PNGs with a
# path a MANIFEST cannot hold, one too large for lir, one too small and a link. Checks MANIFEST, PROVENANCE, the packs and
# `lir data info`; a missing package, a missing file, a corrupt image and a photos-test
# file shared with photos each fail with a message and leave nothing half-written; lir
# eval refuses a test set the weights were trained on; tinyimages300k says where to get it.
source tests/lib.sh
command -v dpkg-deb >/dev/null || { echo "SKIP: dpkg-deb not found (not a Debian system)"; exit 77; }
command -v unzip >/dev/null || { echo "SKIP: unzip not found (scripts/install_deps.sh installs it)"; exit 77; }
[ -x "$PY" ] || { echo "SKIP: $PY not found (the fixture images are written with it)"; exit 77; }
debs=$tmp/debs data=$tmp/data
mkdir -p "$debs"

# png PATH W H SEED: a small RGB PNG (written whatever the file's extension says)
cat >"$tmp/png.py" <<'EOF'
import struct, sys, zlib
def png(path, w, h, seed):
    rows = b''.join(b'\0' + bytes(((x * (3 + c) + y * (2 + seed) + seed * 37) % 256)
                    for x in range(w) for c in range(3)) for y in range(h))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                           + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
if sys.argv[1] == 'zip':   # zip OUT: the textures pk3
    import zipfile, io, os
    z = zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED)
    for i, (name, s) in enumerate([('textures/wall/a.jpg', 64), ('textures/wall/a.blend.jpg', 64),
                                   ('textures/sfx/b.jpg', 64), ('textures/wall/small.jpg', 16),
                                   ('env/sky.jpg', 64), ('textures/floor/c.jpeg', 48)]):
        png('/tmp/_lir_member.png', s, s, i); z.write('/tmp/_lir_member.png', name)
    os.remove('/tmp/_lir_member.png')
else:
    png(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
EOF

# deb PACKAGE LIST: a package holding every path the list gives for it (image seed and
# size from the line number, offset by 100 for photos-test: no image is in both sets)
deb() {
    local pkg=$1 root=$tmp/pkg/$1 n=0
    case ${2:-} in *photos-test*) n=100;; esac
    mkdir -p "$root/DEBIAN"
    printf 'Package: %s\nVersion: 1.0-test\nArchitecture: all\nMaintainer: lir tests <t@example.org>\nDescription: fixture\n' "$pkg" >"$root/DEBIAN/control"
    if [ "$pkg" = openarena-081-textures ]; then
        mkdir -p "$root/usr/share/games/openarena/baseoa"
        "$PY" "$tmp/png.py" zip "$root/usr/share/games/openarena/baseoa/pak4-textures.pk3"
    elif [ "$pkg" = openclipart-png ]; then
        local c=$root/usr/share/openclipart/png
        mkdir -p "$c/animals" "$c/signs"
        "$PY" "$tmp/png.py" "$c/animals/cat_01.png" 48 40 1
        "$PY" "$tmp/png.py" "$c/signs/stop+go_01.png" 40 60 2
        "$PY" "$tmp/png.py" "$c/signs/tiny.png" 20 20 3
        "$PY" "$tmp/png.py" "$c/signs/odd..name.png" 40 40 4
        "$PY" "$tmp/png.py" "$c/signs/with space.png" 40 40 5
        # a header of 20000 x 20000 pixels (lir's limit is 16384 a side): left out unread
        printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x4e\x20\0\0\x4e\x20\x08\x02\0\0\0' >"$c/signs/poster.png"
        ln -s ../animals/cat_01.png "$c/signs/cat_link.png"
    else
        while read -r p path; do
            n=$((n + 1))
            [ "$p" = "$pkg" ] || continue
            mkdir -p "$root/$(dirname "$path")"
            "$PY" "$tmp/png.py" "$root/$path" $((70 + n)) 70 "$n"
        done < <(grep -v '^#' "$2")
    fi
    dpkg-deb --root-owner-group --build "$root" "$debs/${pkg}_1.0-test_all.deb" >/dev/null
}
for list in photos photos-test; do
    for p in $(grep -v '^#' "scripts/data-lists/$list.txt" | awk 'NF {print $1}' | sort -u); do
        deb "$p" "scripts/data-lists/$list.txt"
    done
done
deb openarena-081-textures
deb openclipart-png
get() { LIR="$LIR" LIR_DEBS=$debs scripts/get_data.sh "$@" --data "$data"; }

expect 0 "get_data.sh photos photos-test textures from fixture packages" get photos photos-test textures
has out "photos: ready" "photos ready"
has out "disjoint from photos: no shared package, no shared file" "disjointness checked"
n=$(grep -vc '^#' scripts/data-lists/photos.txt)
check; [ "$(wc -l <"$data/photos/MANIFEST")" = "$n" ] || fail "photos MANIFEST: $(wc -l <"$data/photos/MANIFEST") lines, list has $n"
check; (cd "$data/photos" && sha256sum -c --quiet MANIFEST) || fail "photos MANIFEST checksums"
check; [ "$(grep -c '^file=' "$data/photos-test/PROVENANCE")" = "$(grep -vc '^#' scripts/data-lists/photos-test.txt)" ] || fail "photos-test PROVENANCE file lines"
check; grep -qx 'source=debian' "$data/textures/PROVENANCE" && grep -q '^package=openarena-081-textures version=1.0-test deb_sha256=[0-9a-f]\{64\}$' "$data/textures/PROVENANCE" || fail "textures PROVENANCE: $(head -5 "$data/textures/PROVENANCE")"
check; [ "$(awk '{print $2}' "$data/textures/MANIFEST" | tr '\n' ' ')" = "images/openarena-081-textures/textures/floor/c.jpeg images/openarena-081-textures/textures/wall/a.jpg images/openarena-081-textures/textures/wall/small.jpg " ] || fail "textures kept: $(cat "$data/textures/MANIFEST")"
check; ls "$data"/photos/photos256-train.pack "$data"/photos-test/photos256.pack "$data"/textures/textures32.pack >/dev/null || fail "packs built"
check; [ -z "$(ls -a "$data" | grep part)" ] || fail "work folders left: $(ls -a "$data")"
expect 0 "lir data info textures" "$LIR" data info textures --data "$data"
has out "dataset textures split test dir $data: 2 images, 3x32x32" "textures count"
has out "images 2 kept, 1 skipped (shorter side under 32 px)" "small texture skipped"
has out "manifest $data/textures/MANIFEST: sha256 $(sha256sum "$data/textures/MANIFEST" | awk '{print $1}')" "manifest sha256"
expect 0 "lir data info photos-test" "$LIR" data info photos-test --data "$data"
has out "note disjoint from photos (checked" "disjointness stated"
has out "sha256 $(sha256sum "$data/photos-test/photos256.pack" | awk '{print $1}')" "pack sha256"
expect 0 "second run" get photos
has out "already in $data/photos" "already there"
rel=$(realpath --relative-to=. "$tmp")/reldata   # the pk3 is extracted from inside the set's folder
expect 0 "textures into a relative --data path" env LIR="$LIR" LIR_DEBS="$debs" scripts/get_data.sh textures --data "$rel"
check; [ "$(wc -l <"$tmp/reldata/textures/MANIFEST")" = 3 ] || fail "relative --data: textures MANIFEST: $(cat "$tmp/reldata/textures/MANIFEST" 2>&1)"
expect 0 "get_data.sh clipart-val from a fixture package" get clipart-val
has out "openclipart-png: 3 of 6 PNG files kept (left out: 2 for their path, 1 too large)" "clip art files kept"
check; [ "$(awk '{print $2}' "$data/clipart-val/MANIFEST" | tr '\n' ' ')" = "images/openclipart-png/usr/share/openclipart/png/animals/cat_01.png images/openclipart-png/usr/share/openclipart/png/signs/stop+go_01.png images/openclipart-png/usr/share/openclipart/png/signs/tiny.png " ] ||
    fail "clipart-val MANIFEST: $(cat "$data/clipart-val/MANIFEST")"
check; grep -q '^package=openclipart-png version=1.0-test deb_sha256=[0-9a-f]\{64\}$' "$data/clipart-val/PROVENANCE" || fail "clipart-val PROVENANCE: $(head -5 "$data/clipart-val/PROVENANCE")"
expect 0 "lir data info clipart-val" "$LIR" data info clipart-val --data "$data"
has out "images 2 kept, 1 skipped (shorter side under 32 px)" "clip art under 32 px skipped"

# Bad input: nothing half-written.
mv "$debs/openarena-081-textures_1.0-test_all.deb" "$tmp/"
rm -rf "$data/textures"
refuse "missing package" "openarena-081-textures: no $debs/openarena-081-textures_*.deb" get textures
check; [ ! -e "$data/textures" ] && [ ! -e "$data/.textures.part" ] || fail "missing package left files"
rm -rf "$data/photos-test" "$tmp/pkg/palapeli-data/usr/share/palapeli/collection/citrus-fruits.jpg"
dpkg-deb --root-owner-group --build "$tmp/pkg/palapeli-data" "$debs/palapeli-data_1.0-test_all.deb" >/dev/null
refuse "missing file" "palapeli-data: usr/share/palapeli/collection/citrus-fruits.jpg is not in the package" get photos-test
check; [ ! -e "$data/photos-test" ] && [ ! -e "$data/.photos-test.part" ] || fail "missing file left files"
deb palapeli-data scripts/data-lists/photos-test.txt
head -c 200 "$tmp/pkg/palapeli-data/usr/share/palapeli/collection/citrus-fruits.jpg" >"$tmp/cut" && mv "$tmp/cut" "$tmp/pkg/palapeli-data/usr/share/palapeli/collection/citrus-fruits.jpg"
dpkg-deb --root-owner-group --build "$tmp/pkg/palapeli-data" "$debs/palapeli-data_1.0-test_all.deb" >/dev/null
refuse "corrupt image" "citrus-fruits.jpg: bad PNG" get photos-test
check; [ ! -e "$data/photos-test" ] && [ ! -e "$data/.photos-test.part" ] || fail "corrupt image left files"
deb palapeli-data scripts/data-lists/photos-test.txt
cp "$data/photos/images/mate-backgrounds/usr/share/backgrounds/mate/nature/Dune.jpg" "$tmp/pkg/palapeli-data/usr/share/palapeli/collection/citrus-fruits.jpg"
dpkg-deb --root-owner-group --build "$tmp/pkg/palapeli-data" "$debs/palapeli-data_1.0-test_all.deb" >/dev/null
refuse "photos-test sharing a file with photos" "photos-test shares a file with photos" get photos-test
check; [ ! -e "$data/photos-test" ] || fail "shared file left files"

# lir eval: a set named as outlier source in the weights' sidecar is no test set
echo '{"config": {"outliers": "photos:0.7+synthetic:0.3"}}' >"$tmp/net.weights.json"
refuse "eval on the training outlier set" "the network was trained with it as outlier source" \
    "$LIR" eval --weights "$tmp/net.weights" --out svhn,photos --data "$data"
refuse "tinyimages300k" "cannot be downloaded here" get tinyimages300k
finish test_data_debian

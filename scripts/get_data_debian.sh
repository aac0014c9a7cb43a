# get_data_debian.sh: sourced by get_data.sh: the image sets lir takes from Debian
# packages (photos, photos-test, textures, clipart-val) and the sets it cannot download
# (tinyimages300k, dtd).
#   photos       photographs listed in scripts/data-lists/photos.txt (package + path)
#   photos-test  the same from scripts/data-lists/photos-test.txt; its packages and files
#                (by sha256) must be disjoint from photos' (checked here and by lir)
#   textures     JPEG members of openarena-081-textures' pak4-textures.pk3 (a zip) under
#                textures/, except paths matching sfx|skies|blend|glow|flare|_fx|fx_
#                (effects, skyboxes, light masks); lir drops those under 32 px a side
#   clipart-val  every PNG of openclipart-png under usr/share/openclipart/png (public-domain
#                clip art: drawings, icons, symbols); a validation set, in no OOD group
# Each package comes from `apt-get download` (Debian's archive; any user, nothing is
# installed) or, with LIR_DEBS=DIR, from DIR/<package>_*.deb, and is unpacked with
# dpkg-deb -x. The set is assembled in DIR/.<name>.part/<name> and moved into place only
# when complete: DIR/<name>/images/<package>/<path>, MANIFEST ("<sha256>  images/...", read
# by lir), PROVENANCE (source=debian, one package= line per package with version and .deb
# sha256, one file= line per kept file, note=), .verified, and lir's pack of the set (every
# image decoded and resized), built by `lir data info <name>` before the move when the lir
# binary exists (LIR, else ./lir); a set with an unreadable image is not moved in.

lists_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/data-lists
tex_exclude='sfx|skies|blend|glow|flare|_fx|fx_'

# Fetches package $1's .deb into folder $2; prints its path.
fetch_deb() {
    local pkg=$1 dest=$2 f
    if [ -n "${LIR_DEBS:-}" ]; then
        f=$(ls "$LIR_DEBS/${pkg}"_*.deb 2>/dev/null | head -n 1)
        [ -n "$f" ] || { echo "  $pkg: no $LIR_DEBS/${pkg}_*.deb (LIR_DEBS is set)" >&2; return 1; }
        cp "$f" "$dest/" || return 1
    else
        command -v apt-get >/dev/null || { echo "  $pkg: apt-get not found (set LIR_DEBS to a folder of .deb files)" >&2; return 1; }
        if ! (cd "$dest" && apt-get download "$pkg" >/dev/null 2>apt.err); then
            echo "  $pkg: apt-get download failed: $(tail -n 2 "$dest/apt.err") (no network or unknown package? run apt-get update, or set LIR_DEBS to a folder with ${pkg}_*.deb)" >&2
            return 1
        fi
    fi
    ls "$dest/${pkg}"_*.deb | head -n 1
}

# Unpacks the packages named on stdin into $1/root/<pkg>; writes package= lines to $1/packages.
unpack_debs() {
    local work=$1 pkg deb ver
    mkdir -p "$work/debs" "$work/root"
    while read -r pkg; do
        echo "  package $pkg"
        deb=$(fetch_deb "$pkg" "$work/debs") || return 1
        ver=$(dpkg-deb -f "$deb" Version) && dpkg-deb -x "$deb" "$work/root/$pkg" || {
            echo "  $pkg: $deb is not a readable Debian package" >&2; return 1; }
        echo "package=$pkg version=$ver deb_sha256=$(sha256sum "$deb" | awk '{print $1}')" >>"$work/packages"
    done
}

# Copies the listed "<package> <path>" files into work/name/images/<package>/<path>.
copy_listed() { # list work name
    local pkg path
    while read -r pkg path; do
        case $pkg in ''|'#'*) continue;; esac
        if [ ! -f "$2/root/$pkg/$path" ]; then
            echo "  $pkg: $path is not in the package (its list: $1)" >&2; return 1
        fi
        mkdir -p "$2/$3/images/$pkg/$(dirname "$path")"
        cp -L "$2/root/$pkg/$path" "$2/$3/images/$pkg/$path" || return 1
    done <"$1"
}

# The texture members of the pk3 into $1/textures/images/openarena-081-textures/<member>.
copy_textures() {
    local pk3=$1/root/openarena-081-textures/usr/share/games/openarena/baseoa/pak4-textures.pk3
    local out=$1/textures/images/openarena-081-textures
    [ -f "$pk3" ] || { echo "  openarena-081-textures: ${pk3#$1/root/openarena-081-textures/} missing" >&2; return 1; }
    command -v unzip >/dev/null || { echo "  unzip is needed to read the pk3 (apt-get install unzip)" >&2; return 1; }
    pk3=$(realpath "$pk3") # the extraction below runs inside $out: a relative --data path must not break it
    unzip -Z1 "$pk3" >"$1/members" || { echo "  $pk3: not a readable zip archive" >&2; return 1; }
    grep -i '^textures/.*\.jpe\?g$' "$1/members" | grep -v -i -E "$tex_exclude" >"$1/keep"
    [ -s "$1/keep" ] || { echo "  $pk3: no JPEG texture in it" >&2; return 1; }
    mkdir -p "$out"
    # unzip reads the member names from the list file, one a line, taken literally
    tr '\n' '\0' <"$1/keep" | (cd "$out" && xargs -0 unzip -q -o "$pk3") ||
        { echo "  $pk3: cannot extract the textures" >&2; return 1; }
}

# The clip art PNGs (regular files, not the package's links to them) into
# $1/clipart-val/images/openclipart-png/<path in the package>; paths that a MANIFEST
# cannot hold (a "..", characters outside [A-Za-z0-9._/+-]) and images lir refuses as
# too large are left out and counted.
copy_clipart() {
    local pkg=openclipart-png sub=usr/share/openclipart/png
    local from=$1/root/$pkg out=$1/clipart-val/images/$pkg all
    [ -d "$from/$sub" ] || { echo "  $pkg: $sub missing" >&2; return 1; }
    (cd "$from" && find "$sub" -type f -name '*.png' | LC_ALL=C sort) >"$1/found"
    grep -v '\.\.' "$1/found" | grep '^[A-Za-z0-9._/+-]*$' >"$1/named"
    # width and height from the IHDR chunk (bytes 16-23, big-endian): lir refuses images
    # over IMAGE_MAX_SIDE a side or IMAGE_MAX_PIXELS (src/data/data.h); a few clip art
    # files are posters
    local path b w h
    while read -r path; do
        read -ra b < <(od -An -tu1 -j16 -N8 "$from/$path")
        [ ${#b[@]} = 8 ] || continue
        w=$((b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3])) h=$((b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7]))
        [ $w -le 16384 ] && [ $h -le 16384 ] && [ $((w * h)) -le 67108864 ] && echo "$path"
    done <"$1/named" >"$1/keep"
    [ -s "$1/keep" ] || { echo "  $pkg: no PNG under $sub" >&2; return 1; }
    all=$(wc -l <"$1/found")
    echo "  $pkg: $(wc -l <"$1/keep") of $all PNG files kept (left out: $((all - $(wc -l <"$1/named"))) for their path, $(($(wc -l <"$1/named") - $(wc -l <"$1/keep"))) too large)"
    mkdir -p "$out" && out=$(realpath "$out") && # the copy runs inside $from
        (cd "$from" && xargs -d '\n' cp --parents -t "$out") <"$1/keep"
}

# Writes MANIFEST and the file= lines (the package is the path's second part).
write_manifest() { # work name
    local set=$1/$2
    (cd "$set" && find images -type f | LC_ALL=C sort | xargs -d '\n' sha256sum) >"$set/MANIFEST" || return 1
    awk '{rel = substr($0, 67); split(rel, p, "/"); print "file=" rel " sha256=" $1 " package=" p[2]}' "$set/MANIFEST" >"$1/files"
}

# photos-test vs photos: no shared package, no shared file (sha256).
check_disjoint() { # work
    local train=$dir/photos
    [ -f "$train/MANIFEST" ] || { echo "  photos not present in $dir: disjointness is checked again by lir once it is"; return 0; }
    local shared
    shared=$(awk '{print $1}' "$train/MANIFEST" | grep -F -x -f - <(awk '{print $1}' "$1/photos-test/MANIFEST") | head -n 1)
    [ -z "$shared" ] || { echo "  photos-test shares a file with photos (sha256 $shared)" >&2; return 1; }
    shared=$(sed -n 's/^package=\([^ ]*\).*/\1/p' "$train/PROVENANCE" | grep -F -x -f - <(sed -n 's/^package=\([^ ]*\).*/\1/p' "$1/packages") | head -n 1)
    [ -z "$shared" ] || { echo "  photos-test and photos both use package $shared" >&2; return 1; }
    echo "  disjoint from photos: no shared package, no shared file"
}

debian_note() {
    case $1 in
        photos) echo "photographs hand-picked from Debian wallpaper packages (list: scripts/data-lists/photos.txt); lir trains on random crops of them";;
        photos-test) echo "photographs from Debian packages disjoint from photos' (list: scripts/data-lists/photos-test.txt); a Places365 stand-in";;
        textures) echo "JPEG textures of openarena-081-textures (pak4-textures.pk3 textures/, without paths matching $tex_exclude); a DTD stand-in";;
        clipart-val) echo "every PNG clip art of openclipart-png (usr/share/openclipart/png, public domain); a validation set of model selection, in no OOD group";;
    esac
}

# lir reads the assembled set once (building its pack): a bad image stops the set here.
lir_check() { # work name
    local lir=${LIR:-$(dirname "$lists_dir")/../lir}
    if [ ! -x "$lir" ]; then
        echo "  (no lir binary at $lir: lir builds its pack of the set on first use)"
        return 0
    fi
    "$lir" data info "$2" --data "$1" >"$1/info" 2>&1 || { sed 's/^/  /' "$1/info" >&2; return 1; }
    echo "  lir pack built: $(basename "$(ls "$1/$2"/*.pack)")"
}

get_debian_set() { # name
    local name=$1 out=$dir/$1 work=$dir/.$1.part
    if [ -f "$out/.verified" ]; then echo "$name: already in $out (delete that folder to fetch it again)"; return 0; fi
    echo "$name -> $out (from Debian packages)"
    rm -rf "$work" && mkdir -p "$work/$name" || return 1
    local list=$lists_dir/$name.txt ok=0 set=$work/$name
    if [ "$name" = textures ]; then
        echo openarena-081-textures | unpack_debs "$work" && copy_textures "$work" && ok=1
    elif [ "$name" = clipart-val ]; then
        echo openclipart-png | unpack_debs "$work" && copy_clipart "$work" && ok=1
    else
        grep -v '^#' "$list" | awk 'NF {print $1}' | awk '!seen[$0]++' | unpack_debs "$work" &&
            copy_listed "$list" "$work" "$name" && ok=1
    fi
    [ $ok = 1 ] && write_manifest "$work" "$name" || ok=0
    [ $ok = 1 ] && [ "$name" = photos-test ] && { check_disjoint "$work" || ok=0; }
    if [ $ok = 1 ]; then
        {
            echo "# how scripts/get_data.sh obtained the files of $name (format: scripts/get_data_debian.sh header)"
            echo "source=debian"
            echo "fetched_from=${LIR_DEBS:-Debian archive (apt-get download)}"
            cat "$work/packages" "$work/files"
            echo "note=$(debian_note "$name")"
        } >"$set/PROVENANCE"
        awk '{print substr($0, 67) " sha256 " $1}' "$set/MANIFEST" >"$set/.verified"
        echo "  $(grep -c . "$set/MANIFEST") files, $(du -sh "$set/images" | awk '{print $1}')"
        lir_check "$work" "$name" && rm -rf "$out" && mv "$set" "$out" || ok=0
    fi
    rm -rf "$work"
    if [ $ok = 1 ]; then
        echo "$name: ready"
        return 0
    fi
    echo "$name: NOT available (see messages above)" >&2
    return 1
}

# Sets that cannot be downloaded here: say where they come from, accept them when placed.
get_manual_set() { # name
    local name=$1 out=$dir/$1 file
    case $name in
        tinyimages300k) file=$out/300K_random_images.npy
            if [ ! -f "$file" ]; then
                echo "tinyimages300k: cannot be downloaded here. Get 300K_random_images.npy (uint8, shape (300000, 32, 32, 3), about 922 MB), the 300K Random Images of Outlier Exposure (Hendrycks et al. 2019; its README links the file) that OpenOOD also uses, and put it at $file" >&2
                return 1
            fi;;
        dtd) file=$out/dtd/images
            if [ ! -d "$file" ]; then
                echo "dtd: not fetched automatically. Unpack the official dtd-r1.0.1.tar.gz (Describable Textures Dataset, Cimpoi et al. 2014) in $out, giving $file/<class>/*.jpg" >&2
                return 1
            fi;;
    esac
    echo "$name: present in $out"
}

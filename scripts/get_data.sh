#!/usr/bin/env bash
# Fetches datasets for lir into the data directory, verifies them and unpacks them.
# usage: scripts/get_data.sh [NAME...] [--data DIR]
#   NAME: cifar10 cifar100 svhn mnist fashionmnist (default: these five), or
#         photos photos-test textures clipart-val (from Debian packages:
#         scripts/get_data_debian.sh),
#         tinyimages300k dtd (not downloadable here: the script says where to get them)
#   DIR:  default $LIR_DATA, else ./data
# Files come from the official hosts and are checked against the published md5.
# With LIR_MIRROR=DIR they are copied from a local mirror instead (layout
# DIR/<name>/<file>, with DIR/SHA256SUMS listing "<sha256>  <name>/<file>"); a file
# whose md5 is not the official one is accepted only if it matches the mirror's
# SHA256SUMS, and the script says that it is the mirror's copy, not the official file.
# Each ready dataset gets <dir>/<name>/PROVENANCE (read by `lir eval`), lines key=value:
#   source=official|mirror   official: every file has the published md5 (wherever it was
#                            fetched from); mirror: some file was accepted only through
#                            the mirror's SHA256SUMS, so it is not the official file
#   fetched_from=<mirror dir>|official hosts
#   file=<file> sha256=<hex> md5=<hex> check=official-md5|mirror-sha256   (one per file)
#   note=<text>              only for source=mirror: what the mirror's copy is
# .verified lists "<file> md5 <hex>" with the md5 the file actually has.
# Exit status: 0 when every requested dataset is ready, 1 otherwise, 2 on bad usage.
set -uo pipefail

dir=${LIR_DATA:-data}
names=()
while [ $# -gt 0 ]; do
    case $1 in
        --data) [ $# -ge 2 ] || { echo "get_data.sh: --data needs a value" >&2; exit 2; }; dir=$2; shift 2;;
        --data=*) dir=${1#--data=}; shift;;
        --dir|--dir=*) echo "get_data.sh: --dir is now --data (as in lir)" >&2; exit 2;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0;;
        -*) echo "get_data.sh: unknown option $1" >&2; exit 2;;
        *) names+=("$1"); shift;;
    esac
done
[ ${#names[@]} -gt 0 ] || names=(cifar10 cifar100 svhn mnist fashionmnist)

# <name> -> lines of "file url md5"
files_of() {
    local k=https://www.cs.toronto.edu/~kriz s=http://ufldl.stanford.edu/housenumbers
    local m=https://ossci-datasets.s3.amazonaws.com/mnist
    local f=http://fashion-mnist.s3-website.eu-central-1.amazonaws.com
    case $1 in
        cifar10) echo "cifar-10-binary.tar.gz $k/cifar-10-binary.tar.gz c32a1d4ab5d03f1284b67883e8d87530";;
        cifar100) echo "cifar-100-binary.tar.gz $k/cifar-100-binary.tar.gz 03b5dce01913d631647c71ecec9e9cb8";;
        svhn) echo "train_32x32.mat $s/train_32x32.mat e26dedcc434d2e4c54c9b2d4a06d8373"
              echo "test_32x32.mat $s/test_32x32.mat eb5a983be6a315427106f1b164d9cef3"
              echo "extra_32x32.mat $s/extra_32x32.mat a93ce644f1a588dc4d68dda5feec44a7";;
        mnist) echo "train-images-idx3-ubyte.gz $m/train-images-idx3-ubyte.gz f68b3c2dcbeaaa9fbdd348bbdeb94873"
               echo "train-labels-idx1-ubyte.gz $m/train-labels-idx1-ubyte.gz d53e105ee54ea40749a09fcbcd1e9432"
               echo "t10k-images-idx3-ubyte.gz $m/t10k-images-idx3-ubyte.gz 9fb629c4189551a2d022fa330f9573f3"
               echo "t10k-labels-idx1-ubyte.gz $m/t10k-labels-idx1-ubyte.gz ec29112dd5afa0611ce80d1b7f02629c";;
        fashionmnist) echo "train-images-idx3-ubyte.gz $f/train-images-idx3-ubyte.gz 8d4fb7e6c68d591d4c3dfef9ec88bf0d"
                      echo "train-labels-idx1-ubyte.gz $f/train-labels-idx1-ubyte.gz 25c81989df183df01b3e8a0aad5dffbe"
                      echo "t10k-images-idx3-ubyte.gz $f/t10k-images-idx3-ubyte.gz bef4ecab320f06d8554ea6380940ec79"
                      echo "t10k-labels-idx1-ubyte.gz $f/t10k-labels-idx1-ubyte.gz bb300cfdad3c16e7a12a480ee83cd310";;
        *) return 1;;
    esac
}

# Files the method needs for a dataset to count as usable (the rest is optional).
required() {
    case $1 in
        svhn) echo test_32x32.mat;;
        mnist|fashionmnist) echo t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz;;
        *) files_of "$1" | awk '{print $1}';;
    esac
}

download() { # url dest
    if command -v curl >/dev/null; then curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"
    elif command -v wget >/dev/null; then wget -q -O "$2" "$1"
    else echo "  neither curl nor wget is installed" >&2; return 1; fi
}

# Fetches one file into $2 (a temp path); prints how it was verified and sets
# got_md5, got_sha256 and check (official-md5 or mirror-sha256).
fetch_one() { # name file url md5 dest
    local name=$1 file=$2 url=$3 md5=$4 dest=$5 src
    got_md5= got_sha256= check=
    if [ -n "${LIR_MIRROR:-}" ]; then
        src=$LIR_MIRROR/$name/$file
        if [ ! -f "$src" ]; then
            echo "  $file: not in the mirror (expected $src; mirror layout: <mirror>/<name>/<file> plus <mirror>/SHA256SUMS); official URL: $url" >&2
            return 1
        fi
        cp "$src" "$dest" && chmod u+w "$dest" || return 1
    else
        echo "  downloading $url"
        if ! download "$url" "$dest"; then
            echo "  $file: download failed from $url (no network? set LIR_MIRROR to a local mirror laid out as <mirror>/$name/$file with <mirror>/SHA256SUMS)" >&2
            return 1
        fi
    fi
    local got; got=$(md5sum "$dest" | awk '{print $1}')
    got_md5=$got
    got_sha256=$(sha256sum "$dest" | awk '{print $1}')
    if [ "$got" = "$md5" ]; then
        echo "  $file: md5 $got matches the official checksum"
        check=official-md5
        return 0
    fi
    if [ -n "${LIR_MIRROR:-}" ] && [ -f "$LIR_MIRROR/SHA256SUMS" ]; then
        local want sha
        want=$(awk -v f="$name/$file" '$2 == f || $2 == "*" f {print $1}' "$LIR_MIRROR/SHA256SUMS")
        sha=$got_sha256
        if [ -n "$want" ] && [ "$sha" = "$want" ]; then
            check=mirror-sha256
            echo "  $file: NOT the official file (md5 $got, official $md5); accepted because its sha256 matches the mirror's SHA256SUMS"
            [ "$name" = cifar10 ] && echo "  note: this is the mirror's rebuild of CIFAR-10 from a JPEG (quality 75) copy: same images and labels, pixels carry JPEG artefacts"
            return 0
        fi
        echo "  $file: checksum mismatch (md5 $got, official $md5; sha256 $sha, mirror lists ${want:-nothing})" >&2
        return 1
    fi
    echo "  $file: md5 mismatch: got $got, official $md5" >&2
    return 1
}

# Writes <out>/PROVENANCE (format in the header) from the per-file lines in <out>/.provenance.
write_provenance() { # name source out
    local name=$1 source=$2 out=$3
    {
        echo "# how scripts/get_data.sh obtained the files of $name (format: scripts/get_data.sh header)"
        echo "source=$source"
        echo "fetched_from=${LIR_MIRROR:-official hosts}"
        cat "$out/.provenance"
        if [ "$source" = mirror ]; then
            if [ "$name" = cifar10 ]; then
                echo "note=JPEG q75-derived rebuild of CIFAR-10 from the local mirror, not the official files: same images and labels, pixels carry JPEG artefacts"
            else
                echo "note=the local mirror's copy, not the official files (accepted through the mirror's SHA256SUMS)"
            fi
        fi
    } >"$out/PROVENANCE"
    rm -f "$out/.provenance"
}

get_dataset() { # name
    local name=$1 out=$dir/$1 ok=1
    if ! files_of "$name" >/dev/null; then
        echo "get_data.sh: unknown dataset '$name' (known: cifar10 cifar100 svhn mnist fashionmnist photos photos-test textures clipart-val tinyimages300k dtd)" >&2
        return 1
    fi
    mkdir -p "$out" || return 1
    if [ -f "$out/.verified" ]; then echo "$name: already in $out (delete that folder to fetch it again)"; return 0; fi
    echo "$name -> $out"
    local req; req=" $(required "$name" | tr '\n' ' ') " source=official
    rm -f "$out/.files" "$out/.provenance"
    while read -r file url md5; do
        local tmp=$out/$file.part
        if ! fetch_one "$name" "$file" "$url" "$md5" "$tmp"; then
            rm -f "$tmp"
            case $req in *" $file "*) ok=0;; *) echo "  ($file is optional for lir's evaluation)";; esac
            continue
        fi
        case $file in
            *.tar.gz) tar -xzf "$tmp" -C "$out" || { echo "  $file: cannot unpack" >&2; ok=0; }
                      rm -f "$tmp";;
            *) mv "$tmp" "$out/$file";;
        esac
        echo "$file md5 $got_md5" >>"$out/.files"
        echo "file=$file sha256=$got_sha256 md5=$got_md5 check=$check" >>"$out/.provenance"
        [ "$check" = official-md5 ] || source=mirror
    done < <(files_of "$name")
    if [ $ok = 1 ]; then
        write_provenance "$name" "$source" "$out"
        mv "$out/.files" "$out/.verified"
        echo "$name: ready"
        return 0
    fi
    rm -f "$out/.files" "$out/.provenance"
    rmdir "$out" 2>/dev/null
    echo "$name: NOT available (see messages above)" >&2
    return 1
}

source "$(dirname "$0")/get_data_debian.sh"

status=0
for n in "${names[@]}"; do
    case $n in
        photos|photos-test|textures|clipart-val) get_debian_set "$n" || status=1;;
        tinyimages300k|dtd) get_manual_set "$n" || status=1;;
        *) get_dataset "$n" || status=1;;
    esac
done
exit $status

#!/usr/bin/env bash
# Speed on paper for the targets this machine only emulates: the instructions QEMU executes per
# forward pass of mnetc's generated code (neon on aarch64, rvv on riscv64 at VLEN 128 and 256)
# and of tract (tract-onnx 0.23, the same ONNX model and input, its own kernels for the
# architecture), counted by a QEMU plugin (insn/insn_count.c) built against the plugin header of
# the installed QEMU's Debian source. Per forward pass = (count of 3 runs - count of 1 run) / 2,
# so model loading and process start cancel out. Each model is first run once by both engines
# and their outputs compared.
#
# int8 models (labels ending in _int8) are counted for mnetc alone, on neon and on neondot
# (aarch64 built with +dotprod); float models are not counted on neondot, whose float kernels
# are neon's.
#
# Needs what ../../.ci/setup installs, plus a C compiler. Takes about 20 minutes the
# first time (three cross builds of tract). Usage: ./count.sh [MODEL ...] (labels of `count
# --list`; default 0.25_128 0.5_128 cifar10 1.0_128 0.25_128_int8 0.5_128_int8).
set -euo pipefail
cd "$(dirname "$0")"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then models=(0.25_128 0.5_128 cifar10 1.0_128 0.25_128_int8 0.5_128_int8); fi

plugin=target/insn/libinsn_count.so
if [ ! -f "$plugin" ]; then
    mkdir -p target/insn
    # QEMU's plugin header, from the source package of the installed qemu-user, fetched by apt
    # from the machine's own package sources (whatever mirror they name): their deb-src twins,
    # in an apt state of this folder's own (the system's lists and sources stay untouched).
    ./apt-source.sh qemu "$(dpkg-query -W -f='${source:Version}' qemu-user)" target/insn/src
    tar -xJf target/insn/src/qemu_*.orig.tar.xz -C target/insn --strip-components=3 \
        --wildcards '*/include/qemu/qemu-plugin.h'
    cc -O2 -shared -fPIC -I target/insn insn/insn_count.c -o "$plugin"
fi

count() { # runner... -- args: prints the instruction count of one run
    "$@" 2>&1 >/dev/null | sed -n 's/^insn_count: //p'
}

rows=()
for arch in aarch64 aarch64-dotprod riscv64; do
    # The dotprod build is a target directory of its own (other flags rebuild everything).
    flags="" dir=target
    case $arch in
    aarch64) triple=aarch64-unknown-linux-gnu vlens=(0) ;;
    aarch64-dotprod) triple=aarch64-unknown-linux-gnu vlens=(0) flags="-C target-feature=+dotprod" dir=target/dotprod ;;
    riscv64) triple=riscv64gc-unknown-linux-gnu vlens=(128 256) ;;
    esac
    var=CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_RUSTFLAGS
    env "$var=$flags" CARGO_TARGET_DIR="$dir" cargo build --release --quiet --bin count --target "$triple"
    bin=$dir/$triple/release/count
    for vlen in "${vlens[@]}"; do
        case $arch in
        aarch64) qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu) name="aarch64 (neon)" ;;
        aarch64-dotprod) qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu) name="aarch64 (neondot)" ;;
        riscv64)
            qemu=(qemu-riscv64 -L /usr/riscv64-linux-gnu -cpu "rv64,v=true,vlen=$vlen,elen=64,vext_spec=v1.0")
            name="riscv64 (rvv, VLEN $vlen)"
            ;;
        esac
        for m in "${models[@]}"; do
            int8=false
            [[ $m == *_int8 ]] && int8=true
            # neondot's float kernels are neon's: only its int8 code differs.
            [[ $arch == aarch64-dotprod && $int8 == false ]] && continue
            macs=$("${qemu[@]}" "$bin" --list | awk -v m="$m" '$1 == m { print $2 }')
            [ -n "$macs" ] || { echo "no model $m" >&2; exit 2; }
            engines=(mnetc tract)
            # int8 models: mnetc only (their outputs are checked against onnxruntime's bits by
            # the test suite; tract computes QDQ models its own way).
            if $int8; then engines=(mnetc); else "${qemu[@]}" "$bin" --engine check --model "$m" >&2; fi
            per=()
            for engine in "${engines[@]}"; do
                one=$(count "${qemu[@]}" -plugin "$plugin" "$bin" --engine $engine --runs 1 --model "$m")
                three=$(count "${qemu[@]}" -plugin "$plugin" "$bin" --engine $engine --runs 3 --model "$m")
                per+=($(((three - one) / 2)))
            done
            rows+=("$name|$m|$macs|${per[0]}|${per[1]:-0}")
            echo "$name $m: mnetc ${per[0]}, tract ${per[1]:--} instructions per forward pass" >&2
        done
    done
done

echo "| architecture | model | M MACs | mnetc M instructions | tract M instructions | mnetc / MAC | tract / MAC | mnetc / tract |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
json="["
for r in "${rows[@]}"; do
    IFS='|' read -r name m macs a b <<<"$r"
    awk -v n="$name" -v m="$m" -v macs="$macs" -v a="$a" -v b="$b" 'BEGIN {
        if (b == 0) printf "| %s | %s | %.1f | %.1f | - | %.3f | - | - |\n", n, m, macs / 1e6, a / 1e6, a / macs
        else printf "| %s | %s | %.1f | %.1f | %.1f | %.3f | %.3f | %.2f |\n",
            n, m, macs / 1e6, a / 1e6, b / 1e6, a / macs, b / macs, a / b }'
    [ "$b" = 0 ] && b=null
    json+="{\"architecture\":\"$name\",\"model\":\"$m\",\"macs\":$macs,\"mnetc_instructions\":$a,\"tract_instructions\":$b},"
done
echo "${json%,}]" >insn-results.json
echo "written to insn-results.json" >&2

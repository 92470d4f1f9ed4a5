#!/usr/bin/env bash
# GPU check: builds the wgpu benchmark here, packs it with the Vulkan loader into .gpu/, and runs
# it, printing one JSON object (examples/gpu_bench.rs).
#
#   scripts/gpu-check.sh build   here (needs cargo; ~18 min cold on 2 cores): .gpu/gpu_bench.gz,
#                                stripped and gzipped (84 MB → 21 MB: the device tool carries at
#                                most 64 MiB), no target-cpu=native, and .gpu/lib/libvulkan.so.1
#   scripts/gpu-check.sh run     anywhere, no cargo needed: runs the packed binary [ARGS...]
#   scripts/gpu-check.sh         both
#
# On the accelerator machine (no cargo, no network) carry `.gpu` and call `run`. Here, `run` uses
# Mesa's software Vulkan (Debian: mesa-vulkan-drivers) as a functional check; its numbers are
# not GPU numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=.gpu

build() {
    cargo build --release --features wgpu --example gpu_bench
    mkdir -p "$pack/lib"
    cp target/release/examples/gpu_bench "$pack/gpu_bench"
    strip "$pack/gpu_bench"
    gzip -f -6 "$pack/gpu_bench"
    # The Vulkan loader, unpacked from Debian's package (the machine that runs this may lack it).
    if ! ls "$pack"/lib/libvulkan.so.1 >/dev/null 2>&1; then
        tmp=$(mktemp -d)
        (cd "$tmp" && apt-get download libvulkan1 >/dev/null && dpkg -x libvulkan1_*.deb root)
        cp -L "$tmp"/root/usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$pack/lib/"
        rm -rf "$tmp"
    fi
    ls -la "$pack" "$pack/lib" >&2
}

run() {
    [ -f "$pack/gpu_bench.gz" ] || { echo "gpu-check: no $pack/gpu_bench.gz; run '$0 build' first" >&2; exit 2; }
    bin=$(mktemp -d)/gpu_bench
    gunzip -c "$pack/gpu_bench.gz" >"$bin"
    chmod +x "$bin"
    export LD_LIBRARY_PATH="$PWD/$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # NVIDIA containers keep the ICD manifest outside the loader's default search path.
    nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then
        export VK_DRIVER_FILES=$nvidia_icd
    fi
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >&2 || true
    "$bin" --device wgpu "$@"
}

case "${1:-all}" in
    build) build ;;
    run) shift; run "$@" ;;
    all) build; run ;;
    *) echo "usage: $0 [build|run [ARGS...]]" >&2; exit 2 ;;
esac

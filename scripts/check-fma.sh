#!/usr/bin/env bash
# check-fma.sh: builds the Kernels module in release and checks its disassembly: every hot SIMD
# kernel must contain vector FMAs (x86_64: vfmadd/vfnmadd ...ps on ymm or zmm registers;
# aarch64: fmla on .4s vectors) and nothing in Kernels or Model (the streaming model's own
# loops) may call fmaf / fma or the fp16 conversion helpers (__extendhfsf2, __gnu_h2f_ieee). Without a target CPU, Swift turns
# SIMD16<Float>.addingProduct into fmaf calls, ~60x slower (docs/kernels.md, "Build targets").
#
#   scripts/check-fma.sh                     default build (x86-64-v3 on x86_64), .build-kernels
#   ACCOMPANIST_NATIVE=1 scripts/check-fma.sh   build for this CPU (expects zmm on AVX-512),
#                                               scratch path .build-kernels-native
#   SCRATCH=path scripts/check-fma.sh        another scratch path
#   scripts/check-fma.sh --no-build          check what is already built
#
# Exit status 0: all good; 1: a check failed; 2: the build or the tools failed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
[[ "${1:-}" == "--no-build" ]] && build=0
if [[ "${ACCOMPANIST_NATIVE:-}" == "1" ]]; then
    scratch="${SCRATCH:-.build-kernels-native}"
else
    scratch="${SCRATCH:-.build-kernels}"
fi
arch="$(uname -m)"

if (( build )); then
    swift build -c release --scratch-path "$scratch" --target Model >/dev/null \
        || { echo "check-fma: release build of Kernels and Model failed" >&2; exit 2; }
fi
objdir="$scratch/release/Kernels.build"
shopt -s nullglob
objects=("$objdir"/*.o)
model_objects=("$scratch/release/Model.build"/*.o)
(( ${#objects[@]} > 0 )) || { echo "check-fma: no objects in $objdir" >&2; exit 2; }
command -v objdump >/dev/null || { echo "check-fma: objdump not found (binutils)" >&2; exit 2; }

listing="$(mktemp)"
trap 'rm -f "$listing"' EXIT
objdump -dr --no-show-raw-insn "${objects[@]}" "${model_objects[@]}" >"$listing"

# Hot kernels (mangled names of SIMDKernels' static functions; both fp32 and fp16 overloads).
kernels=(gemv gemm attend causalConvStep softmax gelu layerNorm exp)
case "$arch" in
    x86_64)  vec_fma='v(fn)?fm(add|sub)[0-9]+ps.*%[yz]mm'; wide='%zmm' ;;
    aarch64|arm64) vec_fma='fml[as][[:space:]]+v[0-9]+\.4s'; wide='' ;;
    *) echo "check-fma: unknown architecture $arch" >&2; exit 2 ;;
esac

# Per function: vector FMA count, zmm use, forbidden calls.
report="$(awk -v fma="$vec_fma" -v wide="$wide" '
    /^[0-9a-f]+ <.*>:$/ { name = $2; next }
    name == "" { next }
    $0 ~ fma { nfma[name]++ }
    wide != "" && $0 ~ wide { nwide[name]++ }
    /(fmaf|[^a-z_]fma[@>]|__extendhfsf2|__gnu_h2f_ieee|__truncsfhf2)/ && /(call|bl|jmp|R_X86_64_PLT32|R_AARCH64_CALL26)/ { callee = $NF; sub(/[-+]0x[0-9a-f]+$/, "", callee); bad[name, callee]++; badn[name] = 1 }
    { seen[name] = 1 }
    END {
        for (k in bad) { split(k, parts, SUBSEP); calls[parts[1]] = calls[parts[1]] " " parts[2] "x" bad[k] }
        for (n in seen) printf "%s %d %d %s\n", n, nfma[n] + 0, nwide[n] + 0, (n in badn) ? "BAD:" calls[n] : ""
    }
' "$listing")"

status=0
for k in "${kernels[@]}"; do
    pattern="SIMDKernelsO[0-9]+${k}(_|[0-9])"
    lines="$(grep -E "<\\\$s7Kernels11${pattern}" <<<"$report" || true)"
    if [[ -z "$lines" ]]; then
        echo "FAIL $k: symbol not found"; status=1; continue
    fi
    while read -r sym fmas wides rest; do
        variant="fp32"; [[ "$sym" == *Float16* ]] && variant="fp16"
        if (( fmas == 0 )); then
            echo "FAIL $k ($variant): no vector FMA"; status=1
        else
            extra=""; [[ -n "$wide" ]] && extra=", $wides zmm instructions"
            echo "ok   $k ($variant): $fmas vector FMAs$extra"
        fi
    done <<<"$lines"
done
bad="$(grep "BAD:" <<<"$report" || true)"
if [[ -n "$bad" ]]; then
    echo "FAIL library calls to fmaf / fp16 conversion helpers:"; echo "$bad"; status=1
else
    echo "ok   no calls to fmaf or fp16 conversion helpers in Kernels and Model (${#model_objects[@]} Model objects)"
fi
if [[ "${ACCOMPANIST_NATIVE:-}" == "1" && -n "$wide" ]]; then
    if grep -qE '^<\$s7Kernels11SIMDKernelsO4gemv.* [1-9][0-9]* [1-9]' <<<"$report"; then
        echo "ok   native build uses zmm (AVX-512) in gemv"
    else
        echo "note native build: no zmm in gemv (this CPU has no AVX-512?)"
    fi
fi
exit $status

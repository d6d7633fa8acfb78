#!/usr/bin/env bash
# check-aarch64.sh: cross-compiles the Kernels module for aarch64-unknown-linux-gnu (a Raspberry
# Pi's target) at -O and checks its disassembly, then runs every SIMD kernel against its scalar
# twin under qemu-aarch64. There is no aarch64 Swift SDK here, so the aarch64 stdlib and Glibc
# modules are compiled from the toolchain's own (x86_64) textual interfaces, retargeted, against
# Debian's aarch64 glibc headers, and cached per toolchain in .build-aarch64/. Declarations the
# stdlib makes for x86_64 only (Float80) keep their x86_64 form there; Kernels uses none of them.
#
# Checks (docs/kernels.md, "Build targets and the FMA check"):
#   - every hot SIMD kernel (gemv, gemm, attend, causalConvStep: fp32 and fp16 overloads;
#     softmax, gelu, layerNorm, exp) contains NEON vector FMAs (fmla/fmls on .4s), counting the
#     Kernels functions it calls; the fp16 overloads convert with fcvtl (vector), not per element;
#   - nothing in Kernels calls fmaf / fma or the fp16 conversion helpers (__extendhfsf2,
#     __truncsfhf2, __gnu_h2f_ieee, __gnu_f2h_ieee), and the hot kernels call nothing outside
#     Kernels but memset/memcpy/memmove and sqrtf (squareRoot's errno path, NaN input only);
#   - run: SIMD vs scalar twin on random inputs of awkward sizes, fp32 and fp16 storage, with the
#     tolerances of Tests/KernelsTests (Tests/Aarch64/twins.c), as a static executable under
#     qemu-aarch64 -cpu cortex-a72 (the Raspberry Pi 4's core). Emulation says nothing of speed.
# Module Model is not compiled: it imports Foundation, which this toolchain ships only as a
# binary x86_64 module (no interface to retarget).
#
#   scripts/check-aarch64.sh            build what changed, check, run (~1 s when nothing changed,
#                                       ~7 s after a change in Kernels, ~30 s on a clean checkout)
#   scripts/check-aarch64.sh --no-run   build and check the disassembly only
#   AARCH64_SYSROOT=dir                 aarch64 glibc headers (default /usr/aarch64-linux-gnu)
#
# Needs (scripts/setup.sh --system --test): libc6-dev-arm64-cross; for the run also
# gcc-aarch64-linux-gnu and qemu-user. Exit status 0: all good; 1: a check failed; 2: the build
# or the tools failed.
set -euo pipefail
self="$(readlink -f "$0")"
cd "$(dirname "$self")/.."

run=1
for arg in "$@"; do
    case "$arg" in
        --no-run) run=0 ;;
        -h|--help) sed -n '2,29p' "$self"; exit 0 ;;
        *) echo "check-aarch64: unknown option $arg" >&2; exit 2 ;;
    esac
done
die() { echo "check-aarch64: $*" >&2; exit 2; }

frontend="$(command -v swift-frontend || true)"
[[ -z "$frontend" && -x /opt/swift/usr/bin/swift-frontend ]] && frontend=/opt/swift/usr/bin/swift-frontend
[[ -n "$frontend" ]] || die "swift-frontend not found (expected on PATH or in /opt/swift/usr/bin)"
bindir="$(dirname "$(readlink -f "$frontend")")"
resource="$(readlink -f "$bindir/../lib/swift")"
objdump="$bindir/llvm-objdump"
[[ -x "$objdump" ]] || objdump="$(command -v llvm-objdump || true)"
[[ -x "$objdump" ]] || die "llvm-objdump not found next to swift-frontend"
sysroot="${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}"
[[ -f "$sysroot/include/stdio.h" && -f "$sysroot/include/bits/wordsize.h" ]] \
    || die "no aarch64 glibc headers in $sysroot/include (Debian: apt-get install libc6-dev-arm64-cross)"

shopt -s nullglob
swift_if=("$resource"/linux/Swift.swiftmodule/*-unknown-linux-gnu.swiftinterface)
glibc_if=("$resource"/linux/Glibc.swiftmodule/*-unknown-linux-gnu.swiftinterface)
modulemap=("$resource"/linux/*/glibc.modulemap)
(( ${#swift_if[@]} && ${#glibc_if[@]} && ${#modulemap[@]} )) \
    || die "no textual Swift/Glibc interfaces or glibc.modulemap under $resource/linux"
glibc_header="$(dirname "${modulemap[0]}")/SwiftGlibc.h"

# 1. The aarch64 stdlib and Glibc modules, cached per toolchain (version + interfaces + headers).
version="$("$frontend" --version 2>/dev/null | sed -n 's/.*Swift version \([^ ]*\).*/\1/p' | head -1)"
[[ -n "$version" ]] || die "cannot read the Swift version from $frontend --version"
key="$(cat "${swift_if[0]}" "${glibc_if[0]}" "${modulemap[0]}" "$glibc_header" "$sysroot/include/features.h" \
    | sha256sum | cut -c1-12)"
stdlib="$PWD/.build-aarch64/stdlib-$version-$key"
common=(-target aarch64-unknown-linux-gnu -resource-dir "$resource" -sdk "$sysroot"
        -I "$stdlib/modules" -I "$stdlib/include")
if [[ ! -f "$stdlib/complete" ]]; then
    echo "check-aarch64: building the aarch64 stdlib modules from the $version interfaces (~25 s)" >&2
    rm -rf "$stdlib"
    mkdir -p "$stdlib/modules" "$stdlib/include"
    log="$stdlib/build.log"
    retarget='/^\/\/ swift-module-flags:/s/-target [^ ]*/-target aarch64-unknown-linux-gnu/'
    # The interface is the host's: its top-level x86_64-only declarations (Float80) stay; their
    # two bodies that call x86-only C shims (remainder, sqrt of long double) become fatalError.
    sed -e "$retarget" \
        -e 's/self = _stdlib_remainderl(self, other)/fatalError("no Float80 on aarch64")/' \
        -e 's/self = _stdlib_squareRootl(self)/fatalError("no Float80 on aarch64")/' \
        "${swift_if[0]}" >"$stdlib/Swift.swiftinterface"
    sed -e "$retarget" "${glibc_if[0]}" >"$stdlib/Glibc.swiftinterface"
    # SwiftGlibc's module map, found through -I; the toolchain normally overlays it onto the
    # sysroot's include directory, so its one relative textual header is made absolute.
    sed -e "s|textual header \"assert.h\"|textual header \"$sysroot/include/assert.h\"|" \
        -e '/^module CUUID/,/^}/d' "${modulemap[0]}" >"$stdlib/include/module.modulemap"
    cp "$glibc_header" "$stdlib/include/"
    if ! "$frontend" -compile-module-from-interface "$stdlib/Swift.swiftinterface" -module-name Swift \
            -parse-stdlib -O "${common[@]}" -module-cache-path "$stdlib/module-cache" -o "$stdlib/modules/Swift.swiftmodule" >"$log" 2>&1 \
       || ! "$frontend" -compile-module-from-interface "$stdlib/Glibc.swiftinterface" -module-name Glibc \
            -O "${common[@]}" -module-cache-path "$stdlib/module-cache" -o "$stdlib/modules/Glibc.swiftmodule" >>"$log" 2>&1; then
        grep -m 20 'error:' "$log" >&2 || tail -20 "$log" >&2
        die "building the aarch64 stdlib modules failed (log: $log)"
    fi
    # Clang's module cache records absolute paths; each compile below starts a fresh one (~0.3 s).
    rm -rf "$stdlib/module-cache"
    touch "$stdlib/complete"
fi

# 2. Kernels for aarch64 at -O, whole module (as SwiftPM's release build), baseline CPU (as
#    Package.swift on aarch64). The harness: the Kernels sources (without the machine probe,
#    which needs the Swift runtime) plus C entry points, linked with twins.c.
flags=(-parse-as-library -O -swift-version 6 -package-name main -DSWIFT_PACKAGE
       -disable-implicit-concurrency-module-import -disable-implicit-string-processing-module-import
       -disable-implicit-cxx-module-import)
sources=(Sources/Kernels/*.swift)
harness_sources=()
for f in "${sources[@]}"; do [[ "$f" == */Probe.swift ]] || harness_sources+=("$f"); done
obj=.build-aarch64/obj
mkdir -p "$obj"
stamp="$(cat "${sources[@]}" Tests/Aarch64/Entry.swift Tests/Aarch64/twins.c "$self" \
    | { cat; echo "$stdlib ${flags[*]}"; } | sha256sum | cut -c1-16)"
if [[ "$(cat "$obj/stamp" 2>/dev/null)" != "$stamp" || ! -f "$obj/Kernels.lst" || ! -f "$obj/Harness.o" ]]; then
    rm -rf "$obj/stamp" "$obj/module-cache"
    "$frontend" -c "${common[@]}" -module-cache-path "$obj/module-cache" "${flags[@]}" -module-name Kernels "${sources[@]}" \
        -o "$obj/Kernels.o" 2>"$obj/build.log" \
        || { cat "$obj/build.log" >&2; die "compiling Kernels for aarch64 failed"; }
    "$objdump" -dr --no-show-raw-insn "$obj/Kernels.o" >"$obj/Kernels.lst" || die "llvm-objdump failed"
    # -function-sections: lets the linker drop what the entry points do not reach.
    "$frontend" -c "${common[@]}" -module-cache-path "$obj/module-cache" "${flags[@]}" -function-sections -module-name Kernels \
        "${harness_sources[@]}" Tests/Aarch64/Entry.swift -o "$obj/Harness.o" 2>"$obj/build.log" \
        || { cat "$obj/build.log" >&2; die "compiling the aarch64 test harness failed"; }
    echo "$stamp" >"$obj/stamp"
fi
grep -q 'file format elf64-littleaarch64' "$obj/Kernels.lst" || die "$obj/Kernels.o is not an aarch64 object"

# 3. The disassembly: per function, NEON FMAs, vector fp16 conversions, calls (resolved to the
#    Kernels functions they reach, transitively, or to external symbols).
kernels=(gemv gemm attend causalConvStep softmax gelu layerNorm exp)
fp16_kernels=" gemv gemm attend causalConvStep "
report="$(awk -v kernels="${kernels[*]}" '
    function norm(h) { sub(/^0x/, "", h); sub(/^0+/, "", h); return h == "" ? "0" : h }
    function fname(line,   n) { n = line; sub(/^[0-9a-f]+ </, "", n); sub(/>:$/, "", n); return n }
    FNR == NR {
        if ($0 ~ /^Disassembly of section /) { sec = $0; sub(/^Disassembly of section /, "", sec); sub(/:$/, "", sec) }
        else if ($0 ~ /^[0-9a-f]+ <.*>:$/) { n = fname($0); at[sec SUBSEP norm($1)] = n; isfn[n] = 1 }
        next
    }
    /^[0-9a-f]+ <.*>:$/ { name = fname($0); order[++nf] = name; next }
    name == "" { next }
    /fml[as][[:space:]]+v[0-9]+\.4s/ { nfma[name]++ }
    /fcvtl2?[[:space:]]+v[0-9]+\.4s/ { ncvt[name]++ }
    /R_AARCH64_(CALL|JUMP)26/ {
        t = $NF
        if (t ~ /^\.text[-+]0x/) { off = t; sub(/^\.text[-+]/, "", off); t = at[".text" SUBSEP norm(off)]; if (t == "") t = $NF }
        else { sub(/[-+]0x[0-9a-f]+$/, "", t); sub(/^\.text\./, "", t) }
        if (t in isfn) calls[name] = calls[name] " " t; else ext[name] = ext[name] " " t
        next
    }
    /\t(bl|b)\t0x[0-9a-f]+ </ {                      # branches resolved by the assembler
        t = $0; sub(/.*</, "", t); sub(/>.*/, "", t); sub(/[-+]0x[0-9a-f]+$/, "", t)
        if (t != name && (t in isfn)) calls[name] = calls[name] " " t
    }
    END {
        nk = split(kernels, ks, " ")
        for (i = 1; i <= nf; i++) {
            f = order[i]
            m = split(ext[f], es, " ")
            for (j = 1; j <= m; j++)
                if (es[j] ~ /^(fmaf|fma|fmal|__extendhfsf2|__truncsfhf2|__gnu_h2f_ieee|__gnu_f2h_ieee)$/)
                    print "BAD", es[j], f
            for (k = 1; k <= nk; k++) {
                if (f !~ ("^\\$s7Kernels11SIMDKernelsO[0-9]+" ks[k] "(_|[0-9])")) continue
                # Closure over the Kernels functions f reaches.
                delete seen; q[1] = f; seen[f] = 1; qn = 1; fm = 0; cv = 0; xs = ""
                for (h = 1; h <= qn; h++) {
                    g = q[h]; fm += nfma[g]; cv += ncvt[g]
                    m2 = split(ext[g], e2, " "); for (j = 1; j <= m2; j++) if (index(" " xs " ", " " e2[j] " ") == 0) xs = xs " " e2[j]
                    m2 = split(calls[g], c2, " "); for (j = 1; j <= m2; j++) if (!(c2[j] in seen)) { seen[c2[j]] = 1; q[++qn] = c2[j] }
                }
                print "KERNEL", ks[k], (f ~ /Float16/ ? "fp16" : "fp32"), fm, nfma[f] + 0, cv, qn - 1, f, "calls:" xs
            }
        }
    }
' "$obj/Kernels.lst" "$obj/Kernels.lst")" || die "analysing the disassembly failed"

[[ -n "${CHECK_AARCH64_REPORT:-}" ]] && echo "$report" >&2
status=0
allowed=" memset memcpy memmove sqrtf "
for k in "${kernels[@]}"; do
    lines="$(grep -E "^KERNEL $k " <<<"$report" || true)"
    if [[ -z "$lines" ]]; then echo "FAIL $k: symbol not found"; status=1; continue; fi
    if [[ "$fp16_kernels" == *" $k "* ]] && ! grep -q "^KERNEL $k fp16 " <<<"$lines"; then
        echo "FAIL $k: no fp16 (Float16) overload found"; status=1
    fi
    while read -r _ _ variant total own cvt ncallees sym rest; do
        extra=""
        (( total > own )) && extra=" ($own in the kernel, $((total - own)) in the $ncallees Kernels function(s) it calls)"
        if (( total == 0 )); then
            echo "FAIL $k ($variant): no NEON vector FMA (fmla .4s)"; status=1
        elif [[ "$variant" == fp16 ]] && (( cvt == 0 )); then
            echo "FAIL $k ($variant): $total fmla .4s but no fcvtl: fp16 loads converted element by element"; status=1
        else
            [[ "$variant" == fp16 ]] && extra=", $cvt fcvtl$extra"
            echo "ok   $k ($variant): $total fmla .4s$extra"
        fi
        bad=(); for c in ${rest#calls:}; do [[ "$allowed" == *" $c "* ]] || bad+=("$c"); done
        if (( ${#bad[@]} )); then
            more=""; (( ${#bad[@]} > 5 )) && more=" ... ($(( ${#bad[@]} - 5 )) more)"
            echo "FAIL $k ($variant) calls outside Kernels: ${bad[*]:0:5}$more"; status=1
        fi
    done <<<"$lines"
done
bad="$(grep "^BAD " <<<"$report" | sort | uniq -c || true)"
if [[ -n "$bad" ]]; then
    echo "FAIL library calls to fmaf / fp16 conversion helpers (count, callee, caller):"; echo "$bad"; status=1
else
    echo "ok   no calls to fmaf or fp16 conversion helpers in Kernels; outside Kernels the hot kernels call at most:${allowed% }"
fi

# 4. Run the SIMD kernels against their scalar twins on (emulated) aarch64.
if (( run )); then
    cc="$(command -v aarch64-linux-gnu-gcc || true)"
    qemu="$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)"
    [[ -n "$cc" && -n "$qemu" ]] || die "aarch64-linux-gnu-gcc or qemu-aarch64 missing (Debian: gcc-aarch64-linux-gnu qemu-user), or use --no-run"
    "$cc" -O1 -Wall -Wextra -static -o "$obj/twins" Tests/Aarch64/twins.c "$obj/Harness.o" -lm \
        -Wl,--gc-sections 2>"$obj/link.log" || { cat "$obj/link.log" >&2; die "linking the aarch64 test failed"; }
    # The harness is a separate compile (with the entry points): its SIMD kernels should carry the
    # same FMAs as the object checked above.
    fmla_counts() {
        "$objdump" -d --no-show-raw-insn "$1" | awk '
            /^[0-9a-f]+ <.*>:$/ { name = $2; sub(/Tf4[a-z]*_n>:$/, ">:", name); next }
            name ~ /SIMDKernelsO/ && /fml[as][[:space:]]+v[0-9]+\.4s/ { n[name]++ }
            END { for (k in n) print n[k], k }' | sort -k2
    }
    checked="$(fmla_counts "$obj/Kernels.o")"
    if [[ -n "$checked" && "$checked" == "$(fmla_counts "$obj/Harness.o")" ]]; then
        echo "ok   the test harness's SIMD kernels carry the same fmla counts as the object checked above"
    else
        echo "note the test harness's SIMD kernels differ in fmla counts from the object checked above"
    fi
    rc=0
    "$qemu" -cpu cortex-a72 "$obj/twins" || rc=$?
    if (( rc == 1 )); then status=1; elif (( rc != 0 )); then die "the aarch64 test crashed (exit $rc)"; fi
fi
exit $status

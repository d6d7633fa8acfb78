// SIMD kernels vs their scalar twins on aarch64, for scripts/check-aarch64.sh: random inputs of
// awkward sizes, fp32 and fp16 storage, the tolerances of Tests/KernelsTests (norm-wise relative
// error < 1e-5 for sums; point-wise < 1e-5, exp < 1e-6). Linked statically with the Kernels
// module compiled for aarch64 (Tests/Aarch64/Entry.swift) and run under qemu-aarch64.
// Prints one line per kernel and variant; exit status 0 when every case is within tolerance.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

// Five data symbols of the Swift runtime (libswiftCore) that the Kernels object's metadata records
// point at: the nominal type descriptors of Float and Float16 (conformance records of
// KernelElement), Equatable's protocol descriptor and its == requirement (AttentionStats:
// Equatable), the empty tuple's value witness table (metadata of the empty enums SIMDKernels and
// ScalarKernels). There is no aarch64 Swift runtime here, and nothing but the runtime reads these
// records, so they are defined on a 64 KiB page that main() makes inaccessible: a read faults.
__asm__(".section .bss.acc_swift_runtime_data,\"aw\",%nobits\n"
        ".balign 65536\n"
        ".globl acc_swift_runtime_data\n"
        "acc_swift_runtime_data:\n"
        ".globl \"$sSfMn\"\n\"$sSfMn\":\n"
        ".globl \"$ss7Float16VMn\"\n\"$ss7Float16VMn\":\n"
        ".globl \"$sSQMp\"\n\"$sSQMp\":\n"
        ".globl \"$sSQ2eeoiySbx_xtFZTq\"\n\"$sSQ2eeoiySbx_xtFZTq\":\n"
        ".globl \"$sytWV\"\n\"$sytWV\":\n"
        ".zero 65536\n"
        ".previous\n");
extern char acc_swift_runtime_data[65536];

void acc_round_f16(const float *src, void *dst, long n);
void acc_pack(int f16, const float *src, long rows, long cols, void *dst);
void acc_gemv(int simd, int f16, const void *w, const float *x, const float *bias,
              const float *residual, float *y, long rows, long cols);
void acc_gemm(int simd, int f16, const void *w, const float *x, const float *bias,
              const float *residual, float *y, long n, long rows, long cols);
void acc_attend(int simd, int f16, const float *q, const void *keys, const void *values,
                long capacity, long newest, long count, float scale, float slope, float *scores,
                float *out, long dim, float *stats);
void acc_conv(int simd, int f16, const float *ring, long newest, const void *filter, long taps,
              const float *bias, float *y, long width, long channels);
void acc_layer_norm(int simd, const float *x, const float *gamma, const float *beta, float *y,
                    long n, float eps);
void acc_pointwise(int simd, int which, const float *x, float *y, long n);

static const long sizes[] = {1, 15, 16, 17, 64, 255, 1023};
enum { NSIZES = sizeof sizes / sizeof sizes[0] };

static uint64_t rng_state = 0x5eed;
static uint64_t next_u64(void) {            // SplitMix64, as Tests/KernelsTests
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next_u64() >> 40) * 0x1p-24); }
static float *rnd(long n, float lo, float hi) {
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (long i = 0; i < n; i++) p[i] = uniform(lo, hi);
    return p;
}
static float *zeros(long n) { return calloc((size_t)(n > 0 ? n : 1), sizeof(float)); }

// max |a - b| / max |b|; NaN anywhere gives infinity.
static double norm_err(const float *a, const float *b, long n) {
    double num = 0, den = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (isnan(d) || isnan(a[i])) return INFINITY;
        if (d > num) num = d;
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return den == 0 ? num : num / den;
}
// max |a - b| / (|b| + 1e-30)
static double point_err(const float *a, const float *b, long n) {
    double worst = 0;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (fabs(b[i]) + 1e-30);
        if (isnan(e)) return INFINITY;
        if (e > worst) worst = e;
    }
    return worst;
}

static int failures = 0;
struct tally { const char *name; long cases; double worst; double limit; };
static void note(struct tally *t, double err, const char *what) {
    t->cases++;
    if (err > t->worst) t->worst = err;
    if (!(err < t->limit)) {
        failures++;
        if (failures <= 20) fprintf(stderr, "FAIL %s %s: error %.3g (limit %.0e)\n", t->name, what, err, t->limit);
    }
}
static void report(const struct tally *t) {
    printf("%s %-24s %4ld cases, worst %.2e (limit %.0e)\n", t->worst < t->limit ? "ok  " : "FAIL",
           t->name, t->cases, t->worst, t->limit);
}

static void test_gemv_gemm(int f16) {
    struct tally tv = {f16 ? "gemv fp16" : "gemv fp32", 0, 0, 1e-5};
    struct tally tm = {f16 ? "gemm fp16" : "gemm fp32", 0, 0, 1e-5};
    char what[96];
    for (int a = 0; a < NSIZES; a++)
        for (int b = 0; b < NSIZES; b++) {
            long rows = sizes[a], cols = sizes[b];
            if (rows * cols > 300000) continue;            // the scalar twin is slow under qemu
            long packed = (rows + 15) / 16 * cols * 16;
            float *w = rnd(rows * cols, -1, 1);
            void *wp = malloc((size_t)packed * (f16 ? 2 : 4));
            acc_pack(f16, w, rows, cols, wp);
            float *bias = rnd(rows, -1, 1), *res = rnd(rows, -1, 1);
            // gemv: with bias and residual, then plain.
            float *x = rnd(cols, -1, 1), *ys = zeros(rows), *yr = zeros(rows);
            for (int variant = 0; variant < 2; variant++) {
                const float *bb = variant ? NULL : bias, *rr = variant ? NULL : res;
                acc_gemv(1, f16, wp, x, bb, rr, ys, rows, cols);
                acc_gemv(0, f16, wp, x, bb, rr, yr, rows, cols);
                snprintf(what, sizeof what, "%ldx%ld%s", rows, cols, variant ? "" : " +bias +residual");
                note(&tv, norm_err(ys, yr, rows), what);
            }
            // gemm: n rows of X, 1...9 (the 4-row passes and the remainder).
            for (long n = 1; n <= 9; n += 4) {
                float *xm = rnd(n * cols, -1, 1), *rm = rnd(n * rows, -1, 1);
                float *yms = zeros(n * rows), *ymr = zeros(n * rows);
                acc_gemm(1, f16, wp, xm, bias, rm, yms, n, rows, cols);
                acc_gemm(0, f16, wp, xm, bias, rm, ymr, n, rows, cols);
                snprintf(what, sizeof what, "n %ld %ldx%ld", n, rows, cols);
                note(&tm, norm_err(yms, ymr, n * rows), what);
                free(xm); free(rm); free(yms); free(ymr);
            }
            free(w); free(wp); free(bias); free(res); free(x); free(ys); free(yr);
        }
    report(&tv);
    report(&tm);
}

static void test_attend(int f16) {
    struct tally t = {f16 ? "attend fp16" : "attend fp32", 0, 0, 1e-5};
    static const long dims[] = {1, 15, 16, 17, 33, 64};
    static const long caps[] = {16, 48, 256};
    char what[128];
    for (int di = 0; di < 6; di++)
        for (int ci = 0; ci < 3; ci++) {
            long dim = dims[di], cap = caps[ci];
            float *k = zeros(cap * dim), *v = rnd(cap * dim, -1, 1);
            for (long s = 0; s < cap; s++)
                for (long d = 0; d < dim; d++) k[((s / 16) * dim + d) * 16 + s % 16] = uniform(-2, 2);
            void *kp = k, *vp = v;
            if (f16) {
                kp = malloc((size_t)(cap * dim) * 2); vp = malloc((size_t)(cap * dim) * 2);
                acc_round_f16(k, kp, cap * dim); acc_round_f16(v, vp, cap * dim);
            }
            float *q = rnd(dim, -1, 1), *ss = zeros(cap), *sr = zeros(cap), *os = zeros(dim), *orr = zeros(dim);
            float sts[2], str[2];
            for (int trial = 0; trial < 8; trial++) {
                long newest = (long)(next_u64() % (uint64_t)cap);
                long count = trial == 0 ? cap : trial == 1 ? 1 : 1 + (long)(next_u64() % (uint64_t)cap);
                float slope = trial % 2 ? 0.0f : 0.125f;
                acc_attend(1, f16, q, kp, vp, cap, newest, count, 1.0f / sqrtf((float)dim), slope, ss, os, dim, sts);
                acc_attend(0, f16, q, kp, vp, cap, newest, count, 1.0f / sqrtf((float)dim), slope, sr, orr, dim, str);
                snprintf(what, sizeof what, "dim %ld cap %ld newest %ld count %ld slope %g", dim, cap, newest, count, slope);
                note(&t, norm_err(os, orr, dim), what);
            }
            if (f16) { free(kp); free(vp); }
            free(k); free(v); free(q); free(ss); free(sr); free(os); free(orr);
        }
    report(&t);
}

static void test_conv(int f16) {
    struct tally t = {f16 ? "causalConvStep fp16" : "causalConvStep fp32", 0, 0, 1e-5};
    static const long widths[] = {1, 5, 16};
    char what[96];
    for (int a = 0; a < NSIZES; a++)
        for (int b = 0; b < 3; b++) {
            long ch = sizes[a], width = widths[b];
            float *ring = rnd(width * ch, -1, 1), *h = rnd(width * ch, -1, 1), *bias = rnd(ch, -1, 1);
            void *hp = h;
            if (f16) { hp = malloc((size_t)(width * ch) * 2); acc_round_f16(h, hp, width * ch); }
            float *ys = zeros(ch), *yr = zeros(ch);
            for (long taps = 1; taps <= width; taps += (width > 4 ? 3 : 1)) {
                long newest = (long)(next_u64() % (uint64_t)width);
                acc_conv(1, f16, ring, newest, hp, taps, taps % 2 ? bias : NULL, ys, width, ch);
                acc_conv(0, f16, ring, newest, hp, taps, taps % 2 ? bias : NULL, yr, width, ch);
                snprintf(what, sizeof what, "C %ld W %ld taps %ld newest %ld", ch, width, taps, newest);
                note(&t, norm_err(ys, yr, ch), what);
            }
            if (f16) free(hp);
            free(ring); free(h); free(bias); free(ys); free(yr);
        }
    report(&t);
}

static void test_elementwise(void) {
    struct tally tl = {"layerNorm", 0, 0, 1e-5}, tg = {"gelu", 0, 0, 1e-5};
    struct tally tsm = {"softmax", 0, 0, 1e-5}, te = {"exp", 0, 0, 1e-6};
    char what[64];
    for (int a = 0; a < NSIZES; a++) {
        long n = sizes[a];
        float *ys = zeros(n), *yr = zeros(n);
        float *x = rnd(n, -3, 5), *g = rnd(n, 0.5f, 1.5f), *b = rnd(n, -1, 1);
        for (int withBeta = 0; withBeta < 2; withBeta++) {
            acc_layer_norm(1, x, g, withBeta ? b : NULL, ys, n, 1e-5f);
            acc_layer_norm(0, x, g, withBeta ? b : NULL, yr, n, 1e-5f);
            snprintf(what, sizeof what, "n %ld", n);
            note(&tl, norm_err(ys, yr, n), what);
        }
        free(x);
        x = rnd(n, -12, 12);
        acc_pointwise(1, 0, x, ys, n); acc_pointwise(0, 0, x, yr, n);
        note(&tg, point_err(ys, yr, n), what);
        free(x);
        for (int spread = 1; spread <= 30; spread += 29) {
            x = rnd(n, (float)-spread, (float)spread);
            acc_pointwise(1, 1, x, ys, n); acc_pointwise(0, 1, x, yr, n);
            snprintf(what, sizeof what, "n %ld spread %d", n, spread);
            note(&tsm, point_err(ys, yr, n), what);
            free(x);
        }
        x = rnd(n, -87, 88);
        acc_pointwise(1, 2, x, ys, n); acc_pointwise(0, 2, x, yr, n);
        snprintf(what, sizeof what, "n %ld", n);
        note(&te, point_err(ys, yr, n), what);
        free(x); free(g); free(b); free(ys); free(yr);
    }
    report(&tl); report(&tg); report(&tsm); report(&te);
}

int main(void) {
    if (mprotect(acc_swift_runtime_data, 65536, PROT_NONE) != 0) { perror("mprotect"); return 2; }
    for (int f16 = 0; f16 < 2; f16++) {
        test_gemv_gemm(f16);
        test_attend(f16);
        test_conv(f16);
    }
    test_elementwise();
    printf("%s SIMD vs scalar twins on aarch64: %d case(s) out of tolerance\n", failures ? "FAIL" : "ok  ", failures);
    return failures ? 1 : 0;
}

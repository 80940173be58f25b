// Run-time dispatch: the CPU's features are read once, and every public kernel calls through the
// table of the widest path they allow (or the one `zoo_isa_select` forces).
#include "CKernels.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define ZOO_X86 1
#endif
#if defined(__linux__) && defined(__aarch64__)
#include <sys/auxv.h>
#endif

// a·b + c in one rounding wherever the path has FMA.
#pragma clang fp contract(fast)

typedef struct {
    void (*gemm)(const zoo_gemm_call *);
    void (*pack)(int, long, long, long, long, const float *, long, long, float *);
    long tile_rows, tile_columns, depth_block;
    void (*activation_forward)(zoo_activation, const float *, float *, long);
    void (*activation_backward)(zoo_activation, const float *, const float *, float *, long);
    float (*sum)(const float *, long);
    float (*max)(const float *, long);
    float (*dot)(const float *, const float *, long);
    float (*squared_deviations)(const float *, long, float);
    float (*centered_dot)(const float *, const float *, long, float);
    void (*layer_norm_row)(const float *, float *, long, const float *, const float *, float, float *, float *);
    void (*softmax_row)(const float *, float *, long);
    void (*scale_shift_activation)(const float *, float *, long, float, float, zoo_activation);
    void (*adamw_update)(float *, float *, float *, const float *, long, const zoo_adamw *);
    void (*max_pool_plane)(const zoo_plane_geometry *, const float *, float *, float *);
    void (*depthwise_plane)(const zoo_plane_geometry *, const float *, const float *, float, float, zoo_activation, float *,
                            float *);
    void (*depthwise_channels)(const zoo_plane_geometry *, long, const float *, const float *, const float *, const float *,
                               zoo_activation, float *, float *);
    void (*depthwise_rows)(const zoo_plane_geometry *, long, const float *, long, const float *, const float *,
                           const float *, zoo_activation, float *, long);
    void (*depthwise_flat)(const zoo_plane_geometry *, long, const float *, long, const float *, const float *,
                           const float *, zoo_activation, float *, long);
    void (*conv_direct)(const zoo_plane_geometry *, long, const float *, const zoo_packed_matrix *, long,
                        const float *, const float *, zoo_activation, long, long, float *);
    long vector_width;
    void (*winograd_input)(const zoo_winograd_geometry *, const float *, long, long, float *, long);
    void (*winograd_output)(const zoo_winograd_geometry *, const float *, long, long, long, float, float, const float *,
                            zoo_activation, float *);
    void (*winograd_filter_row)(const float *const *, const float *, const float *, long, float *const *);
} zoo_kernel_table;

/// A zero-padded plane with each row's columns split by stride phase: padded column x lives at
/// row · row_stride + (x mod s) · phase_width + x / s, so a stride-s tap reads consecutive floats.
typedef struct { long rows, row_stride, phase_width; } zoo_padded_layout;

/// Padded columns a plane kernel reads: from the left padding to the last tap of the last output.
static long padded_columns(const zoo_plane_geometry *g) {
    return (g->out_width - 1) * g->stride_w + (g->kernel_width - 1) * g->dilation_w + 1;
}

/// Padded rows that `out_rows` consecutive output rows read: from the first's top tap to the last's bottom tap.
static long padded_rows(const zoo_plane_geometry *g, long out_rows) {
    return (out_rows - 1) * g->stride_h + (g->kernel_height - 1) * g->dilation_h + 1;
}

static zoo_padded_layout padded_layout(const zoo_plane_geometry *g) {
    long width = padded_columns(g);
    long phase_width = (width + g->stride_w - 1) / g->stride_w;
    zoo_padded_layout layout = {padded_rows(g, g->out_height), g->stride_w * phase_width, phase_width};
    return layout;
}

/// Output rows `depthwise_channels` computes at a time: their padded input rows, a vector per pixel, about 64 KB,
/// so that they stay in a core's L2 cache between the transposes and the taps.
static long depthwise_band_rows(const zoo_plane_geometry *g, long vec) {
    const long row = padded_columns(g) * vec, reach = padded_rows(g, 1);
    long rows = ((1 << 14) / row - reach) / g->stride_h + 1;
    if (rows < 1) rows = 1;
    return rows < g->out_height ? rows : g->out_height;
}

/// Floats of one band of padded input rows, a vector of `vec` channels per pixel.
static long depthwise_band_floats(const zoo_plane_geometry *g, long vec) {
    return padded_rows(g, depthwise_band_rows(g, vec)) * padded_columns(g) * vec;
}

static void fill(float *values, float value, long count) {
    if (value == 0) memset(values, 0, (size_t)count * sizeof(float));
    else for (long i = 0; i < count; i++) values[i] = value;
}

/// Splits `count` pairs of floats into their first and second members (each path's vector shuffles: this
/// file's own code is built for the baseline only).
typedef void (*zoo_split_pairs)(const float *pairs, long count, float *first, float *second);

static zoo_padded_layout fill_phase_padded(const zoo_plane_geometry *g, const float *input, float *scratch, float padding,
                                           zoo_split_pairs split_pairs) {
    zoo_padded_layout layout = padded_layout(g);
    const long s = g->stride_w, padded_width = padded_columns(g);
    const long count = layout.rows * layout.row_stride + 64;
    const long first_row = g->pad_top > 0 ? g->pad_top : 0;
    const long end_row = g->pad_top + g->height < layout.rows ? g->pad_top + g->height : layout.rows;
    if (s == 1 && first_row < end_row && count > 4096) {
        // Only what the copy below leaves: the rows above and below the image, each row's two ends, the slack
        // (a small plane is cleared whole instead: one call costs less than three per row).
        const long left = g->pad_left > 0 ? g->pad_left : 0;
        const long right = g->width + g->pad_left < padded_width ? g->width + g->pad_left : padded_width;
        fill(scratch, padding, first_row * layout.row_stride);
        for (long py = first_row; py < end_row; py++) {
            float *row = scratch + py * layout.row_stride;
            fill(row, padding, left);
            if (right > left) fill(row + right, padding, layout.row_stride - right);
            else fill(row + left, padding, layout.row_stride - left);
        }
        fill(scratch + end_row * layout.row_stride, padding, count - end_row * layout.row_stride);
    } else {
        fill(scratch, padding, count);
    }
    for (long y = 0; y < g->height; y++) {
        long py = y + g->pad_top;
        if (py < 0) continue;
        if (py >= layout.rows) break;
        float *row = scratch + py * layout.row_stride;
        const float *src = input + y * g->width;
        long first = g->pad_left < 0 ? -g->pad_left : 0;
        long end = g->width < padded_width - g->pad_left ? g->width : padded_width - g->pad_left;
        if (s == 1) {
            if (end > first) memcpy(row + first + g->pad_left, src + first, (size_t)(end - first) * sizeof(float));
        } else if (s == 2) {
            // Even and odd padded columns.
            long x = first;
            if (x < end && (x + g->pad_left) % 2) {
                row[layout.phase_width + (x + g->pad_left) / 2] = src[x];
                x++;
            }
            float *even = row + (x + g->pad_left) / 2, *odd = even + layout.phase_width;
            const long pairs = end > x ? (end - x) / 2 : 0;
            split_pairs(src + x, pairs, even, odd);
            if (x + 2 * pairs < end) even[pairs] = src[x + 2 * pairs];
        } else {
            // One strided copy per phase (no division or branch per element).
            for (long phase = 0; phase < s; phase++) {
                long px = first + g->pad_left;
                px += ((phase - px) % s + s) % s;
                float *dst = row + phase * layout.phase_width + px / s;
                for (long x = px - g->pad_left; x < end; x += s) *dst++ = src[x];
            }
        }
    }
    return layout;
}

static void tap_offsets(const zoo_plane_geometry *g, zoo_padded_layout layout, long *offsets) {
    for (long i = 0; i < g->kernel_height; i++) {
        for (long j = 0; j < g->kernel_width; j++) {
            long tap = j * g->dilation_w;
            offsets[i * g->kernel_width + j] = i * g->dilation_h * layout.row_stride
                + (tap % g->stride_w) * layout.phase_width + tap / g->stride_w;
        }
    }
}

/// The derivatives that have no vector form (libm's tanh).
static float zoo_scalar_derivative(zoo_activation activation, float x) {
    if (activation == ZOO_ACT_TANH) {
        float t = tanhf(x);
        return 1 - t * t;
    }
    const float k = 0.7978845608028654f;  // GELU, tanh approximation
    float t = tanhf(k * (x + 0.044715f * x * x * x));
    return 0.5f * (1 + t) + 0.5f * x * (1 - t * t) * k * (1 + 3 * 0.044715f * x * x);
}

// Tiles: MR × NV accumulators plus NV B vectors and one broadcast fit the register file (32 zmm,
// 16 ymm, 16 xmm; SSE2 also needs a temporary per product, having no FMA). MC keeps an A block in L2,
// NC a B block in L3; KC = 512 measured best on Zen 4 (1024³: 99 GFLOP/s a core on AVX-512 and AVX2, 38 on SSE2).
#ifdef ZOO_X86
#define ISA avx512
#define ISA_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#define VEC 16
#define GEMM_MR 12
#define GEMM_NV 2
#define GEMM_KC 512
#define GEMM_MC 192
#define GEMM_NC 4096
#include "kernels_template.h"

#define ISA avx2
#define ISA_TARGET __attribute__((target("avx2,fma")))
#define VEC 8
#define GEMM_MR 6
#define GEMM_NV 2
#define GEMM_KC 512
#define GEMM_MC 192
#define GEMM_NC 4096
#include "kernels_template.h"
#endif

// SSE2 on x86-64, NEON on aarch64 (both part of the base architecture), plain C elsewhere.
#define ISA baseline
#define ISA_TARGET
#define VEC 4
#define GEMM_MR 5
#define GEMM_NV 2
#define GEMM_KC 512
#define GEMM_MC 120
#define GEMM_NC 4096
#include "kernels_template.h"

// MARK: - CPU features

static zoo_isa detect(void) {
#ifdef ZOO_X86
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return ZOO_ISA_BASELINE;
    const int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    if (!(fma && osxsave && avx)) return ZOO_ISA_BASELINE;
    // Which register states the OS saves on a context switch: XMM|YMM (bits 1, 2), opmask|ZMM (5, 6, 7).
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 0x6) != 0x6) return ZOO_ISA_BASELINE;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return ZOO_ISA_BASELINE;
    const int avx2 = (ebx >> 5) & 1;
    const int avx512 = ((ebx >> 16) & 1) && ((ebx >> 17) & 1) && ((ebx >> 30) & 1) && ((ebx >> 31) & 1);  // F, DQ, BW, VL
    if (avx512 && (xcr0_low & 0xE6) == 0xE6) return ZOO_ISA_AVX512;
    return avx2 ? ZOO_ISA_AVX2 : ZOO_ISA_BASELINE;
#else
    return ZOO_ISA_BASELINE;
#endif
}

static const zoo_kernel_table *table_for(zoo_isa isa) {
#ifdef ZOO_X86
    if (isa == ZOO_ISA_AVX512) return &kernels_avx512;
    if (isa == ZOO_ISA_AVX2) return &kernels_avx2;
#endif
    (void)isa;
    return &kernels_baseline;
}

static zoo_isa detected;
static _Atomic(const zoo_kernel_table *) active_table;
static _Atomic int active_isa;
static pthread_once_t detection = PTHREAD_ONCE_INIT;

// ZOO_ISA=avx512|avx2|baseline forces a narrower path; a path the CPU lacks is refused with one line.
static zoo_isa requested_path(zoo_isa widest) {
    const char *name = getenv("ZOO_ISA");
    if (!name || !*name) return widest;
    for (int isa = ZOO_ISA_BASELINE; isa <= ZOO_ISA_AVX512; isa++) {
        if (strcmp(name, isa == ZOO_ISA_AVX512 ? "avx512" : isa == ZOO_ISA_AVX2 ? "avx2" : "baseline") != 0) continue;
        if (isa <= (int)widest) return (zoo_isa)isa;
        fprintf(stderr, "zoo: ZOO_ISA=%s needs instructions this CPU lacks; using %s\n", name, zoo_isa_name(widest));
        return widest;
    }
    fprintf(stderr, "zoo: ZOO_ISA=%s is not a path (avx512, avx2 or baseline); using %s\n", name, zoo_isa_name(widest));
    return widest;
}

static void detect_once(void) {
    detected = detect();
    zoo_isa path = requested_path(detected);
    atomic_store(&active_isa, path);
    atomic_store(&active_table, table_for(path));
}

static void initialise(void) { pthread_once(&detection, detect_once); }

static inline const zoo_kernel_table *kernels(void) {
    const zoo_kernel_table *table = atomic_load_explicit(&active_table, memory_order_relaxed);
    if (__builtin_expect(table == NULL, 0)) { initialise(); table = atomic_load(&active_table); }
    return table;
}

zoo_isa zoo_isa_detected(void) { initialise(); return detected; }
zoo_isa zoo_isa_active(void) { initialise(); return (zoo_isa)atomic_load(&active_isa); }

int zoo_isa_select(zoo_isa isa) {
    initialise();
    if (isa < ZOO_ISA_BASELINE || isa > detected) return 0;
    atomic_store(&active_isa, isa);
    atomic_store(&active_table, table_for(isa));
    return 1;
}

const char *zoo_isa_name(zoo_isa isa) {
    switch (isa) {
    case ZOO_ISA_AVX512: return "avx512";
    case ZOO_ISA_AVX2: return "avx2";
    default:
#if defined(__aarch64__)
        return "baseline (NEON)";
#elif defined(ZOO_X86)
        return "baseline (SSE2)";
#else
        return "baseline (C)";
#endif
    }
}

const char *zoo_cpu_model(void) {
    static char model[96];
#ifdef ZOO_X86
    if (model[0] == 0) {
        unsigned words[12] = {0}, top = __get_cpuid_max(0x80000000, NULL);
        if (top >= 0x80000004) {
            for (unsigned leaf = 0; leaf < 3; leaf++)
                __get_cpuid(0x80000002 + leaf, &words[4 * leaf], &words[4 * leaf + 1], &words[4 * leaf + 2], &words[4 * leaf + 3]);
            memcpy(model, words, 48);
            model[48] = 0;
        }
        // The brand string is padded with spaces on some CPUs.
        char *start = model;
        while (*start == ' ') start++;
        memmove(model, start, strlen(start) + 1);
        for (long i = (long)strlen(model) - 1; i >= 0 && model[i] == ' '; i--) model[i] = 0;
        // Virtual machines often show a bare "AMD EPYC": the family and model say which generation.
        unsigned eax, ebx, ecx, edx;
        if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
            unsigned family = (eax >> 8) & 0xF, model_number = (eax >> 4) & 0xF;
            if (family == 0xF) family += (eax >> 20) & 0xFF;
            if (family >= 6) model_number |= ((eax >> 16) & 0xF) << 4;
            size_t used = strlen(model);
            snprintf(model + used, sizeof model - used, "%sfamily %u model %u", used ? ", " : "", family, model_number);
        }
    }
    if (model[0] == 0) strcpy(model, "x86-64");
#elif defined(__aarch64__)
    if (model[0] == 0) strcpy(model, "aarch64");
#else
    if (model[0] == 0) strcpy(model, "unknown CPU");
#endif
    return model;
}

// MARK: - Public kernels

static _Thread_local int gemm_stays_on_thread;
int zoo_gemm_stays_on_thread(void) { return gemm_stays_on_thread; }
void zoo_set_gemm_stays_on_thread(int stays) { gemm_stays_on_thread = stays; }

void zoo_gemm(const zoo_gemm_call *call) {
    if (call->m <= 0 || call->n <= 0 || call->k <= 0) return;
    kernels()->gemm(call);
}

void zoo_gemm_tile(long *rows, long *columns) {
    const zoo_kernel_table *table = kernels();
    *rows = table->tile_rows;
    *columns = table->tile_columns;
}

long zoo_vector_width(void) { return kernels()->vector_width; }

long zoo_gemm_depth_block(void) { return kernels()->depth_block; }

size_t zoo_packed_count(int side, long outer, long depth) {
    const zoo_kernel_table *table = kernels();
    long tile = side == 0 ? table->tile_rows : table->tile_columns;
    return (size_t)((outer + tile - 1) / tile * tile) * (size_t)(depth > 0 ? depth : 1);
}

zoo_packed_matrix zoo_pack(int side, long outer, long depth, long first, long count, const float *source,
                           long outer_stride, long depth_stride, float *storage) {
    const zoo_kernel_table *table = kernels();
    table->pack(side, outer, depth, first, count, source, outer_stride, depth_stride, storage);
    zoo_packed_matrix packed = {storage, side == 0 ? outer : depth, side == 0 ? depth : outer, depth, side,
                                zoo_isa_active()};
    return packed;
}

void zoo_unpack(const zoo_packed_matrix *packed, float *destination, long outer_stride, long depth_stride) {
    const zoo_kernel_table *table = table_for(packed->isa);
    long outer = packed->side == 0 ? packed->rows : packed->columns, depth = packed->depth;
    long tile = packed->side == 0 ? table->tile_rows : table->tile_columns;
    long padded = (outer + tile - 1) / tile * tile;
    for (long pc = 0; pc < depth; pc += table->depth_block) {
        long kc = depth - pc < table->depth_block ? depth - pc : table->depth_block;
        const float *block = packed->data + pc * padded;
        for (long o = 0; o < outer; o++)
            for (long p = 0; p < kc; p++)
                destination[o * outer_stride + (pc + p) * depth_stride] = block[o / tile * tile * kc + p * tile + o % tile];
    }
}

void zoo_activation_forward(zoo_activation activation, const float *input, float *output, long count) {
    if (activation == ZOO_ACT_IDENTITY) {
        if (input != output) memmove(output, input, (size_t)count * sizeof(float));
        return;
    }
    kernels()->activation_forward(activation, input, output, count);
}

void zoo_activation_backward(zoo_activation activation, const float *input, const float *output_grad,
                             float *input_grad, long count) {
    kernels()->activation_backward(activation, input, output_grad, input_grad, count);
}

float zoo_sum(const float *values, long count) { return kernels()->sum(values, count); }
float zoo_max(const float *values, long count) { return kernels()->max(values, count); }
float zoo_dot(const float *a, const float *b, long count) { return kernels()->dot(a, b, count); }
float zoo_squared_deviations(const float *values, long count, float mean) {
    return kernels()->squared_deviations(values, count, mean);
}

float zoo_centered_dot(const float *a, const float *b, long count, float mean) {
    return kernels()->centered_dot(a, b, count, mean);
}
void zoo_softmax_row(const float *x, float *y, long count) { kernels()->softmax_row(x, y, count); }
void zoo_scale_shift_activation(const float *input, float *output, long count, float scale, float shift,
                                zoo_activation activation) {
    kernels()->scale_shift_activation(input, output, count, scale, shift, activation);
}
size_t zoo_depthwise_scratch_count(const zoo_plane_geometry *g) {
    zoo_padded_layout layout = padded_layout(g);
    return (size_t)(layout.rows * layout.row_stride) + 64;  // slack: the last vector of a row may read past it
}

void zoo_depthwise_plane(const zoo_plane_geometry *g, const float *input, const float *weight, float scale, float shift,
                         zoo_activation activation, float *output, float *scratch) {
    const zoo_kernel_table *table = kernels();
#ifdef ZOO_X86
    // 16-lane vectors leave much of a row of 7, 14 or 28 outputs idle: such planes take the 8-lane path, whose
    // padded layout is the same (Zen 4, one process: MobileNetV2's depthwise convs at 28² and below 1.15–1.3×
    // faster on it; at 56² even, at 112² 16 lanes win).
    if (table == &kernels_avx512 && g->out_width <= 28) table = &kernels_avx2;
#endif
    table->depthwise_plane(g, input, weight, scale, shift, activation, output, scratch);
}

long zoo_depthwise_channel_block(void) { return kernels()->vector_width; }

size_t zoo_depthwise_channels_scratch_count(const zoo_plane_geometry *g) {
    // The padded band, then the output band (never larger): a vector per pixel.
    return (size_t)(2 * depthwise_band_floats(g, kernels()->vector_width));
}

void zoo_depthwise_channels(const zoo_plane_geometry *g, long channels, const float *input, const float *weight,
                            const float *scale, const float *shift, zoo_activation activation, float *output,
                            float *scratch) {
    kernels()->depthwise_channels(g, channels, input, weight, scale, shift, activation, output, scratch);
}

void zoo_depthwise_rows(const zoo_plane_geometry *g, long channels, const float *input, long in_stride,
                        const float *weight, const float *scale, const float *shift, zoo_activation activation,
                        float *output, long out_stride) {
    kernels()->depthwise_rows(g, channels, input, in_stride, weight, scale, shift, activation, output, out_stride);
}

void zoo_depthwise_flat(const zoo_plane_geometry *g, long channels, const float *input, long in_stride,
                        const float *weight, const float *scale, const float *shift, zoo_activation activation,
                        float *output, long out_stride) {
    kernels()->depthwise_flat(g, channels, input, in_stride, weight, scale, shift, activation, output, out_stride);
}

void zoo_conv_direct(const zoo_plane_geometry *g, long channels, const float *input, const zoo_packed_matrix *weights,
                     long out_channels, const float *scale, const float *shift, zoo_activation activation, long first,
                     long count, float *output) {
    table_for(weights->isa)->conv_direct(g, channels, input, weights, out_channels, scale, shift, activation, first,
                                         count, output);
}

void zoo_max_pool_plane(const zoo_plane_geometry *g, const float *input, float *output, float *scratch) {
    kernels()->max_pool_plane(g, input, output, scratch);
}

void zoo_winograd_input(const zoo_winograd_geometry *g, const float *plane, long first, long count, float *out,
                        long xi_stride) {
    kernels()->winograd_input(g, plane, first, count, out, xi_stride);
}

void zoo_winograd_output(const zoo_winograd_geometry *g, const float *in, long first, long count, long xi_stride,
                         float scale, float shift, const float *residual, zoo_activation activation, float *out) {
    kernels()->winograd_output(g, in, first, count, xi_stride, scale, shift, residual, activation, out);
}

void zoo_winograd_filter_row(const float *const *taps, const float *row, const float *transform, long count,
                             float *const *out) {
    kernels()->winograd_filter_row(taps, row, transform, count, out);
}

void zoo_adamw_update(float *w, float *m, float *v, const float *g, long count, const zoo_adamw *h) {
    kernels()->adamw_update(w, m, v, g, count, h);
}

void zoo_layer_norm_row(const float *x, float *y, long count, const float *weight, const float *bias, float epsilon,
                        float *mean, float *inv_std) {
    kernels()->layer_norm_row(x, y, count, weight, bias, epsilon, mean, inv_std);
}

// One instruction-set variant of every kernel. `kernels.c` includes this file once per path, with
//   ISA          the name suffix (avx512, avx2, baseline)
//   ISA_TARGET   the function attribute that lets the compiler use that path's instructions
//   VEC          floats per vector register
//   GEMM_MR, GEMM_NV, GEMM_KC, GEMM_MC, GEMM_NC   the GEMM's register tile (MR rows × NV vectors) and cache blocks
// Vectors are the compiler's generic vector types, so one source serves SSE2, AVX2, AVX-512 and NEON.

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define NAME(x) CAT(x, ISA)
#define V NAME(vf)
#define VI NAME(vi)
#define VU NAME(vfu)
#define GEMM_NR (VEC * GEMM_NV)
// Depths up to GEMM_SHALLOW run each row panel along GEMM_SHALLOW_CHUNK floats of B panels (see `gemm`).
#define GEMM_SHALLOW 128
#define GEMM_SHALLOW_CHUNK 16384
#define KERNEL static ISA_TARGET
#define INLINE static inline __attribute__((always_inline)) ISA_TARGET
#define UNROLL _Pragma("clang loop unroll(full)")
// The even and the odd lanes of two vectors side by side.
// A vector moved up a lane, the lane before it (the last of the vector before) coming in first; and down a lane,
// the next vector's first lane coming in last.
#if VEC == 16
#define EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#define UP_A_LANE 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30
#define DOWN_A_LANE 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#elif VEC == 8
#define EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14
#define ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15
#define UP_A_LANE 7, 8, 9, 10, 11, 12, 13, 14
#define DOWN_A_LANE 1, 2, 3, 4, 5, 6, 7, 8
#else
#define EVEN_LANES 0, 2, 4, 6
#define ODD_LANES 1, 3, 5, 7
#define UP_A_LANE 3, 4, 5, 6
#define DOWN_A_LANE 1, 2, 3, 4
#endif
// The first and the second halves of two vectors, interleaved lane by lane (`transpose`; VEC 8 has its own).
#if VEC == 16
#define LOW_INTERLEAVE 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define HIGH_INTERLEAVE 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#elif VEC == 4
#define LOW_INTERLEAVE 0, 4, 1, 5
#define HIGH_INTERLEAVE 2, 6, 3, 7
#endif

typedef float V __attribute__((vector_size(VEC * 4)));
typedef int VI __attribute__((vector_size(VEC * 4)));
typedef float VU __attribute__((vector_size(VEC * 4), aligned(4), may_alias));

// Ones times x: a multiplication by 1 folds away, so this is a plain broadcast (0 + x would not fold: −0).
INLINE V NAME(splat)(float x) { return ((V){0} + 1.0f) * x; }
INLINE V NAME(load)(const float *p) { return *(const VU *)p; }
INLINE void NAME(store)(float *p, V v) { *(VU *)p = v; }
/// The first `lanes` values of p (< VEC), zeros after.
INLINE V NAME(load_partial)(const float *p, long lanes) {
    float buffer[VEC] = {0};
    for (long i = 0; i < lanes; i++) buffer[i] = p[i];
    return NAME(load)(buffer);
}
INLINE void NAME(store_partial)(float *p, V v, long lanes) {
    for (long i = 0; i < lanes; i++) p[i] = v[i];
}
/// The lanes of p whose bit is set in `mask`, zeros in the others; the other lanes' memory is not read (it may
/// lie outside the plane).
INLINE V NAME(load_masked)(const float *p, unsigned mask) {
#if VEC == 16 && defined(ZOO_X86)
    return (V)_mm512_maskz_loadu_ps((__mmask16)mask, p);
#else
    if (mask == (1u << VEC) - 1) return NAME(load)(p);
#if VEC == 8 && defined(ZOO_X86)
    const VI shifts = {31, 30, 29, 28, 27, 26, 25, 24};  // lane l's bit to its sign, which vmaskmovps reads
    return (V)_mm256_maskload_ps(p, (__m256i)(((VI){0} + (int)mask) << shifts));
#else
    V v = {0};
    for (int l = 0; l < VEC; l++)
        if (mask >> l & 1) v[l] = p[l];
    return v;
#endif
#endif
}
/// Stores the first `lanes` values of v (≤ VEC).
INLINE void NAME(store_first)(float *p, V v, long lanes) {
#if VEC == 16 && defined(ZOO_X86)
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << lanes) - 1), (__m512)v);
#else
    if (lanes == VEC) NAME(store)(p, v); else NAME(store_partial)(p, v, lanes);
#endif
}
/// mask ? a : b, lane by lane (mask lanes are all ones or all zeros, as comparisons give).
INLINE V NAME(select)(VI mask, V a, V b) { return (V)(((VI)a & mask) | ((VI)b & ~mask)); }
/// The larger of a and b lane by lane, a NaN in b winning, as in torch's max pooling (one in a stays).
INLINE V NAME(larger)(V a, V b) { return NAME(select)((b > a) | (b != b), b, a); }
/// Clamps without touching NaN (a NaN input stays NaN, as in PyTorch).
INLINE V NAME(clamp)(V x, float low, float high) {
    x = NAME(select)(x < low, NAME(splat)(low), x);
    return NAME(select)(x > high, NAME(splat)(high), x);
}
INLINE float NAME(horizontal_sum)(V v) {
    float s = 0;
    UNROLL for (int i = 0; i < VEC; i++) s += v[i];
    return s;
}

// exp within 2 ulp (Cephes expf polynomial); 2ⁿ is built in the exponent bits.
INLINE V NAME(exp)(V x) {
    x = NAME(clamp)(x, -87.3f, 88.3f);
    // Adding 1.5·2²³ rounds to the nearest integer and leaves it in the low mantissa bits.
    V shifted = x * 1.442695040888963f + 12582912.0f;
    V n = shifted - 12582912.0f;
    V r = x - n * 0.693359375f + n * 2.12194440e-4f;
    V p = NAME(splat)(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    V y = p * r * r + r + 1.0f;
    VI bits = (((VI)shifted - 0x4B400000) + 127) << 23;
    return y * (V)bits;
}

// erf within 4e-7 absolute (Abramowitz & Stegun 7.1.26).
INLINE V NAME(erf)(V x) {
    VI negative = x < 0;
    V a = NAME(select)(negative, -x, x);
    V t = 1.0f / (a * 0.3275911f + 1.0f);
    V poly = NAME(splat)(1.061405429f);
    poly = poly * t - 1.453152027f;
    poly = poly * t + 1.421413741f;
    poly = poly * t - 0.284496736f;
    poly = poly * t + 0.254829592f;
    V magnitude = 1.0f - poly * t * NAME(exp)(-(a * a));
    return NAME(select)(negative, -magnitude, magnitude);
}

INLINE V NAME(activate)(zoo_activation activation, V x) {
    switch (activation) {
    case ZOO_ACT_IDENTITY: return x;
    case ZOO_ACT_RELU: return NAME(select)(x < 0, NAME(splat)(0), x);
    case ZOO_ACT_RELU6: return NAME(clamp)(x, 0, 6);
    case ZOO_ACT_GELU: return 0.5f * x * (1.0f + NAME(erf)(x * 0.70710678118654752f));
    case ZOO_ACT_GELU_TANH: {
        V inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
        return x - x / (NAME(exp)(2.0f * inner) + 1.0f);  // 0.5·x·(1 + tanh(inner))
    }
    case ZOO_ACT_SILU: return x / (1.0f + NAME(exp)(-x));
    case ZOO_ACT_SIGMOID: return 1.0f / (1.0f + NAME(exp)(-x));
    case ZOO_ACT_HARD_SWISH: return x * NAME(clamp)(x + 3.0f, 0, 6) / 6.0f;
    case ZOO_ACT_HARD_SIGMOID: return NAME(clamp)(x + 3.0f, 0, 6) / 6.0f;
    case ZOO_ACT_TANH:
        UNROLL for (int i = 0; i < VEC; i++) x[i] = tanhf(x[i]);  // libm: exact near zero
        return x;
    }
    return x;
}

/// f'(x) with PyTorch's conventions at the kinks.
INLINE V NAME(derivative)(zoo_activation activation, V x) {
    V zero = NAME(splat)(0), one = NAME(splat)(1);
    switch (activation) {
    case ZOO_ACT_IDENTITY: return one;
    case ZOO_ACT_RELU: return NAME(select)(x > 0, one, zero);
    case ZOO_ACT_RELU6: return NAME(select)((x > 0) & (x < 6), one, zero);
    case ZOO_ACT_GELU: {
        V cdf = 0.5f * (1.0f + NAME(erf)(x * 0.70710678118654752f));
        return cdf + x * 0.3989422804014327f * NAME(exp)(-0.5f * x * x);
    }
    case ZOO_ACT_SILU: {
        V s = 1.0f / (1.0f + NAME(exp)(-x));
        return s * (1.0f + x * (1.0f - s));
    }
    case ZOO_ACT_SIGMOID: {
        V s = 1.0f / (1.0f + NAME(exp)(-x));
        return s * (1.0f - s);
    }
    case ZOO_ACT_HARD_SWISH:
        return NAME(select)(x < -3.0f, zero, NAME(select)(x <= 3.0f, x / 3.0f + 0.5f, one));
    case ZOO_ACT_HARD_SIGMOID:
        return NAME(select)((x > -3.0f) & (x < 3.0f), NAME(splat)(1.0f / 6), zero);
    case ZOO_ACT_GELU_TANH:
    case ZOO_ACT_TANH:
        UNROLL for (int i = 0; i < VEC; i++) x[i] = zoo_scalar_derivative(activation, x[i]);
        return x;
    }
    return x;
}

/// A buffer of at least `count` floats, 64-byte aligned, kept in `slot` for the thread's next call (NULL when out
/// of memory).
static float *NAME(aligned_buffer)(float **slot, size_t *capacity, size_t count) {
    if (*capacity < count) {
        free(*slot);
        *slot = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
        *capacity = *slot ? count : 0;
    }
    return *slot;
}

// MARK: - Pointwise and row kernels

KERNEL void NAME(activation_forward)(zoo_activation activation, const float *input, float *output, long count) {
    long i = 0;
    for (; i + VEC <= count; i += VEC) NAME(store)(output + i, NAME(activate)(activation, NAME(load)(input + i)));
    // The tail through a zero-padded vector, so every element uses the same formula.
    if (i < count) NAME(store_partial)(output + i, NAME(activate)(activation, NAME(load_partial)(input + i, count - i)), count - i);
}

KERNEL void NAME(activation_backward)(zoo_activation activation, const float *input, const float *output_grad,
                                      float *input_grad, long count) {
    long i = 0;
    for (; i + VEC <= count; i += VEC) {
        V slope = NAME(derivative)(activation, NAME(load)(input + i));
        NAME(store)(input_grad + i, NAME(load)(input_grad + i) + NAME(load)(output_grad + i) * slope);
    }
    if (i < count) {
        long lanes = count - i;
        V slope = NAME(derivative)(activation, NAME(load_partial)(input + i, lanes));
        V sum = NAME(load_partial)(input_grad + i, lanes) + NAME(load_partial)(output_grad + i, lanes) * slope;
        NAME(store_partial)(input_grad + i, sum, lanes);
    }
}

KERNEL void NAME(scale_shift_activation)(const float *input, float *output, long count, float scale, float shift,
                                         zoo_activation activation) {
    long i = 0;
    for (; i + VEC <= count; i += VEC)
        NAME(store)(output + i, NAME(activate)(activation, NAME(load)(input + i) * scale + shift));
    if (i < count) {
        V x = NAME(load_partial)(input + i, count - i) * scale + shift;
        NAME(store_partial)(output + i, NAME(activate)(activation, x), count - i);
    }
}

// Reductions keep four vectors of partial results: one accumulator is a serial dependency chain.
KERNEL float NAME(sum)(const float *values, long count) {
    V s0 = NAME(splat)(0), s1 = s0, s2 = s0, s3 = s0;
    long i = 0;
    for (; i + 4 * VEC <= count; i += 4 * VEC) {
        s0 += NAME(load)(values + i); s1 += NAME(load)(values + i + VEC);
        s2 += NAME(load)(values + i + 2 * VEC); s3 += NAME(load)(values + i + 3 * VEC);
    }
    for (; i + VEC <= count; i += VEC) s0 += NAME(load)(values + i);
    float result = NAME(horizontal_sum)((s0 + s1) + (s2 + s3));
    for (; i < count; i++) result += values[i];
    return result;
}

KERNEL float NAME(dot)(const float *a, const float *b, long count) {
    V s0 = NAME(splat)(0), s1 = s0, s2 = s0, s3 = s0;
    long i = 0;
    for (; i + 4 * VEC <= count; i += 4 * VEC) {
        s0 += NAME(load)(a + i) * NAME(load)(b + i);
        s1 += NAME(load)(a + i + VEC) * NAME(load)(b + i + VEC);
        s2 += NAME(load)(a + i + 2 * VEC) * NAME(load)(b + i + 2 * VEC);
        s3 += NAME(load)(a + i + 3 * VEC) * NAME(load)(b + i + 3 * VEC);
    }
    for (; i + VEC <= count; i += VEC) s0 += NAME(load)(a + i) * NAME(load)(b + i);
    float result = NAME(horizontal_sum)((s0 + s1) + (s2 + s3));
    for (; i < count; i++) result += a[i] * b[i];
    return result;
}

KERNEL float NAME(centered_dot)(const float *a, const float *b, long count, float mean) {
    V s0 = NAME(splat)(0), s1 = s0;
    long i = 0;
    for (; i + 2 * VEC <= count; i += 2 * VEC) {
        s0 += NAME(load)(a + i) * (NAME(load)(b + i) - mean);
        s1 += NAME(load)(a + i + VEC) * (NAME(load)(b + i + VEC) - mean);
    }
    for (; i + VEC <= count; i += VEC) s0 += NAME(load)(a + i) * (NAME(load)(b + i) - mean);
    float result = NAME(horizontal_sum)(s0 + s1);
    for (; i < count; i++) result += a[i] * (b[i] - mean);
    return result;
}

KERNEL float NAME(squared_deviations)(const float *values, long count, float mean) {
    V s0 = NAME(splat)(0), s1 = s0;
    long i = 0;
    for (; i + 2 * VEC <= count; i += 2 * VEC) {
        V d0 = NAME(load)(values + i) - mean, d1 = NAME(load)(values + i + VEC) - mean;
        s0 += d0 * d0; s1 += d1 * d1;
    }
    for (; i + VEC <= count; i += VEC) { V d = NAME(load)(values + i) - mean; s0 += d * d; }
    float result = NAME(horizontal_sum)(s0 + s1);
    for (; i < count; i++) { float d = values[i] - mean; result += d * d; }
    return result;
}

KERNEL void NAME(layer_norm_row)(const float *x, float *y, long count, const float *weight, const float *bias,
                                 float epsilon, float *mean_out, float *inv_std_out) {
    const float mean = NAME(sum)(x, count) / count;
    const float inv_std = 1 / __builtin_sqrtf(NAME(squared_deviations)(x, count, mean) / count + epsilon);
    *mean_out = mean;
    *inv_std_out = inv_std;
    long i = 0;
    for (; i + VEC <= count; i += VEC) {
        V v = (NAME(load)(x + i) - mean) * inv_std;
        if (weight) v *= NAME(load)(weight + i);
        if (bias) v += NAME(load)(bias + i);
        NAME(store)(y + i, v);
    }
    for (; i < count; i++) y[i] = (x[i] - mean) * inv_std * (weight ? weight[i] : 1) + (bias ? bias[i] : 0);
}

KERNEL float NAME(max)(const float *values, long count) {
    V lanes = NAME(splat)(-INFINITY);
    long i = 0;
    for (; i + VEC <= count; i += VEC) {
        V v = NAME(load)(values + i);
        lanes = NAME(select)(v > lanes, v, lanes);
    }
    float result = -INFINITY;
    UNROLL for (int l = 0; l < VEC; l++) result = lanes[l] > result ? lanes[l] : result;
    for (; i < count; i++) result = values[i] > result ? values[i] : result;
    return result;
}

KERNEL void NAME(softmax_row)(const float *x, float *y, long count) {
    float maximum = NAME(max)(x, count);
    if (maximum == -INFINITY) maximum = 0;  // a fully masked row: keep the shift finite
    V total = NAME(splat)(0);
    long i = 0;
    for (; i + VEC <= count; i += VEC) {
        V e = NAME(exp)(NAME(load)(x + i) - maximum);
        total += e;
        NAME(store)(y + i, e);
    }
    float sum = NAME(horizontal_sum)(total);
    if (i < count) {
        V e = NAME(exp)(NAME(load_partial)(x + i, count - i) - maximum);
        for (long l = 0; l < count - i; l++) sum += e[l];
        NAME(store_partial)(y + i, e, count - i);
    }
    float scale = 1 / sum;
    for (i = 0; i + VEC <= count; i += VEC) NAME(store)(y + i, NAME(load)(y + i) * scale);
    for (; i < count; i++) y[i] *= scale;
}

/// `zoo_split_pairs` (stride-2 plane copies) in this path's vectors.
KERNEL void NAME(split_pairs)(const float *pairs, long count, float *first, float *second) {
    long i = 0;
    for (; i + VEC <= count; i += VEC) {
        V a = NAME(load)(pairs + 2 * i), b = NAME(load)(pairs + 2 * i + VEC);
        NAME(store)(first + i, __builtin_shufflevector(a, b, EVEN_LANES));
        NAME(store)(second + i, __builtin_shufflevector(a, b, ODD_LANES));
    }
    for (; i < count; i++) {
        first[i] = pairs[2 * i];
        second[i] = pairs[2 * i + 1];
    }
}

KERNEL void NAME(depthwise_plane)(const zoo_plane_geometry *g, const float *input, const float *weight, float scale,
                                  float shift, zoo_activation activation, float *output, float *scratch) {
    const zoo_padded_layout layout = fill_phase_padded(g, input, scratch, 0, NAME(split_pairs));
    const long taps = g->kernel_height * g->kernel_width, out_w = g->out_width;
    long offsets[taps];  // where each tap reads, relative to the output row's first input row
    tap_offsets(g, layout, offsets);
    // Tiles of R rows × C vectors of outputs: R·C independent FMA chains per tap, so that they do not wait on
    // the FMA's latency (one chain would): two rows at a time, four when a row is one vector.
    const long row_step = g->stride_h * layout.row_stride, vectors = (out_w + VEC - 1) / VEC;
    const long tile_rows = vectors == 1 ? 4 : 2;
#define DEPTHWISE_TILE(R, C) do { \
    V acc[R][C]; \
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < C; v++) acc[r][v] = NAME(splat)(0); \
    for (long t = 0; t < taps; t++) { \
        const float w = weight[t]; \
        UNROLL for (int r = 0; r < R; r++) { \
            const float *src = rows + r * row_step + offsets[t] + ox; \
            UNROLL for (int v = 0; v < C; v++) acc[r][v] += w * NAME(load)(src + v * VEC); \
        } \
    } \
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < C; v++) { \
        V y = NAME(activate)(activation, acc[r][v] * scale + shift); \
        float *dst = output + (oy + r) * out_w + ox + v * VEC; \
        long lanes = out_w - ox - v * VEC; \
        if (lanes >= VEC) NAME(store)(dst, y); else NAME(store_partial)(dst, y, lanes); \
    } \
} while (0)
// R rows, four vectors at a time, then the last one to four (the last may be partial).
#define DEPTHWISE_ROWS(R) do { \
    for (; ox + 4 * VEC <= out_w; ox += 4 * VEC) DEPTHWISE_TILE(R, 4); \
    switch ((out_w - ox + VEC - 1) / VEC) { \
    case 4: DEPTHWISE_TILE(R, 4); break; \
    case 3: DEPTHWISE_TILE(R, 3); break; \
    case 2: DEPTHWISE_TILE(R, 2); break; \
    case 1: DEPTHWISE_TILE(R, 1); break; \
    } \
} while (0)
    for (long oy = 0; oy < g->out_height; oy += tile_rows) {
        const long rows_here = g->out_height - oy < tile_rows ? g->out_height - oy : tile_rows;
        const float *rows = scratch + oy * row_step;  // lanes past a row read the next row or the scratch's slack
        long ox = 0;
        if (vectors == 1) {
            switch (rows_here) {
            case 4: DEPTHWISE_TILE(4, 1); break;
            case 3: DEPTHWISE_TILE(3, 1); break;
            case 2: DEPTHWISE_TILE(2, 1); break;
            default: DEPTHWISE_TILE(1, 1);
            }
        } else if (rows_here == 2) {
            DEPTHWISE_ROWS(2);
        } else {
            DEPTHWISE_ROWS(1);
        }
    }
#undef DEPTHWISE_ROWS
#undef DEPTHWISE_TILE
}

/// VEC × VEC floats transposed in registers (rows[i][j] ↔ rows[j][i]).
INLINE void NAME(transpose)(V rows[VEC]) {
#if VEC == 8
    // Within 128-bit halves first (cheap everywhere), across them last: a cross-half shuffle costs several µops on
    // some AVX2 CPUs (Zen 1, Zen 2), and this needs four of them instead of one per shuffle.
    V pairs[8], quads[8];
    UNROLL for (int i = 0; i < 8; i += 2) {
        pairs[i] = __builtin_shufflevector(rows[i], rows[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        pairs[i + 1] = __builtin_shufflevector(rows[i], rows[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    UNROLL for (int i = 0; i < 8; i += 4) UNROLL for (int h = 0; h < 2; h++) {
        quads[i + 2 * h] = __builtin_shufflevector(pairs[i + h], pairs[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        quads[i + 2 * h + 1] = __builtin_shufflevector(pairs[i + h], pairs[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    UNROLL for (int i = 0; i < 4; i++) {
        rows[i] = __builtin_shufflevector(quads[i], quads[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        rows[i + 4] = __builtin_shufflevector(quads[i], quads[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
#else
    // Each round of perfect shuffles rotates the bits of an element's (row, column) index by one, so log2(VEC)
    // rounds swap row and column.
    UNROLL for (int round = 1; round < VEC; round *= 2) {
        V shuffled[VEC];
        UNROLL for (int i = 0; i < VEC / 2; i++) {
            shuffled[2 * i] = __builtin_shufflevector(rows[i], rows[i + VEC / 2], LOW_INTERLEAVE);
            shuffled[2 * i + 1] = __builtin_shufflevector(rows[i], rows[i + VEC / 2], HIGH_INTERLEAVE);
        }
        UNROLL for (int i = 0; i < VEC; i++) rows[i] = shuffled[i];
    }
#endif
}

KERNEL void NAME(depthwise_channels)(const zoo_plane_geometry *g, long channels, const float *input, const float *weight,
                                     const float *scale, const float *shift, zoo_activation activation, float *output,
                                     float *scratch) {
    const long taps = g->kernel_height * g->kernel_width, in_size = g->height * g->width;
    const long out_w = g->out_width, out_size = g->out_height * out_w;
    const long columns = padded_columns(g), band = depthwise_band_rows(g, VEC);
    const long sh = g->stride_h, sw = g->stride_w, dh = g->dilation_h, dw = g->dilation_w;
    // The filters, scales and shifts of the block's channels, a vector per tap (lanes past `channels` idle).
    float filters[taps * VEC], factors[VEC] = {0}, offsets[VEC] = {0};
    for (long t = 0; t < taps; t++)
        for (long c = 0; c < VEC; c++) filters[t * VEC + c] = c < channels ? weight[c * taps + t] : 0;
    for (long c = 0; c < channels; c++) {
        factors[c] = scale ? scale[c] : 1;
        offsets[c] = shift ? shift[c] : 0;
    }
    const V factor = NAME(load)(factors), offset = NAME(load)(offsets);
    float *padded = scratch, *out_band = scratch + depthwise_band_floats(g, VEC);
    // Zeros where a band reads outside the image: whole rows above and below it, each row's two ends.
    const long left = g->pad_left > 0 ? (g->pad_left < columns ? g->pad_left : columns) : 0;
    const long right = g->pad_left + g->width < columns ? g->pad_left + g->width : columns;
    for (long oy0 = 0; oy0 < g->out_height; oy0 += band) {
        const long rows = g->out_height - oy0 < band ? g->out_height - oy0 : band;
        const long top = oy0 * sh - g->pad_top;  // the image row of the band's first padded row
        const long band_rows = padded_rows(g, rows);
        for (long r = 0; r < band_rows; r++) {
            float *row = padded + r * columns * VEC;
            if (top + r < 0 || top + r >= g->height) {
                memset(row, 0, (size_t)(columns * VEC) * sizeof(float));
                continue;
            }
            memset(row, 0, (size_t)(left * VEC) * sizeof(float));
            if (right < columns) memset(row + right * VEC, 0, (size_t)((columns - right) * VEC) * sizeof(float));
        }
        // The image rows the band reads, VEC pixels of every channel at a time, transposed to a vector per pixel.
        // The last VEC overlap the ones before rather than run short (unless the rows hold fewer).
        const long first = top > 0 ? top : 0, end = top + band_rows < g->height ? top + band_rows : g->height;
        const long begin = first * g->width, stop = end * g->width;
        for (long p = begin; p < stop; p += VEC) {
            const long at = stop - p >= VEC || stop - begin < VEC ? p : stop - VEC;
            const long pixels = stop - at < VEC ? stop - at : VEC;
            V v[VEC];
            UNROLL for (int c = 0; c < VEC; c++) {
                const float *src = input + c * in_size + at;
                v[c] = c >= channels ? NAME(splat)(0) : pixels == VEC ? NAME(load)(src) : NAME(load_partial)(src, pixels);
            }
            NAME(transpose)(v);
            long y = at / g->width, x = at % g->width;
            UNROLL for (int k = 0; k < VEC; k++) {
                const long column = x + g->pad_left;
                if (k < pixels && column >= 0 && column < columns)
                    NAME(store)(padded + ((y - top) * columns + column) * VEC, v[k]);
                if (++x == g->width) x = 0, y++;
            }
        }
        // 8 output pixels of the band at a time (the last 8 may repeat some): 8 independent FMA chains per tap.
        const long count = rows * out_w;
        for (long q = 0; q < count; q += 8) {
            const float *source[8];
            long pixel[8], r = q / out_w, x = q % out_w;  // the row and column of pixel q + k as k goes
            UNROLL for (int k = 0; k < 8; k++) {
                pixel[k] = q + k < count ? q + k : count - 1;
                source[k] = padded + (r * sh * columns + x * sw) * VEC;
                if (q + k + 1 < count && ++x == out_w) x = 0, r++;
            }
            V acc[8];
            UNROLL for (int k = 0; k < 8; k++) acc[k] = NAME(splat)(0);
            for (long i = 0; i < g->kernel_height; i++)
                for (long j = 0; j < g->kernel_width; j++) {
                    const long tap = (i * dh * columns + j * dw) * VEC;
                    const V w = NAME(load)(filters + (i * g->kernel_width + j) * VEC);
                    UNROLL for (int k = 0; k < 8; k++) acc[k] += w * NAME(load)(source[k] + tap);
                }
            UNROLL for (int k = 0; k < 8; k++)
                NAME(store)(out_band + pixel[k] * VEC, NAME(activate)(activation, acc[k] * factor + offset));
        }
        // Back to planes: VEC pixels of the band at a time, transposed to a vector per channel (the last VEC
        // overlapping, as above).
        for (long q = 0; q < count; q += VEC) {
            const long at = count - q >= VEC || count < VEC ? q : count - VEC;
            const long pixels = count - at < VEC ? count - at : VEC;
            V v[VEC];
            UNROLL for (int k = 0; k < VEC; k++) v[k] = k < pixels ? NAME(load)(out_band + (at + k) * VEC) : NAME(splat)(0);
            NAME(transpose)(v);
            float *dst = output + oy0 * out_w + at;
            UNROLL for (int c = 0; c < VEC; c++) {
                if (c >= channels) break;
                if (pixels == VEC) NAME(store)(dst + c * out_size, v[c]);
                else NAME(store_partial)(dst + c * out_size, v[c], pixels);
            }
        }
    }
}

/// Masks for reading, through each of a filter's kw tap columns, the input columns output vectors 0 ..< vectors
/// read at stride s (1 or 2): tap column j of vector v reads s·VEC consecutive floats from input column
/// s·v·VEC + j − pad_left (the even ones count at stride 2), and masks[(j·vectors + v)·s + h] keeps the lanes of
/// the h-th vector of them that lie inside the row.
static void NAME(tap_masks)(const zoo_plane_geometry *g, long kw, long vectors, unsigned *masks) {
    const long s = g->stride_w;
    for (long j = 0; j < kw; j++)
        for (long v = 0; v < vectors; v++)
            for (long h = 0; h < s; h++) {
                unsigned mask = 0;
                for (long l = 0; l < VEC; l++) {
                    const long column = s * v * VEC + j - g->pad_left + h * VEC + l;
                    if (column >= 0 && column < g->width) mask |= 1u << l;
                }
                masks[(j * vectors + v) * s + h] = mask;
            }
}
/// Masks for reading a row of `width` floats from its start a pair of vectors at a time, pairs −1 ..< pairs − 1:
/// masks[2·v + 2 + h] keeps the lanes of pair v's h-th vector that lie inside the row (none for pair −1).
static void NAME(pair_masks)(long width, long pairs, unsigned *masks) {
    for (long i = 0; i < 2 * pairs; i++) {
        const long lanes = i < 2 ? 0 : width - (i - 2) * VEC;
        masks[i] = lanes <= 0 ? 0 : lanes >= VEC ? (1u << VEC) - 1 : (1u << lanes) - 1;
    }
}
/// The input columns output vector v reads through tap column j at stride S, from `at` (the row's start + j −
/// pad_left), with `masks` and `vectors` as `tap_masks` made them; lanes outside the row are zeros and not read.
#define LOAD_TAP(S, at, j, v) ((S) == 1 \
    ? NAME(load_masked)((at) + (v) * VEC, masks[(j) * vectors + (v)]) \
    : __builtin_shufflevector(NAME(load_masked)((at) + 2 * (v) * VEC, masks[((j) * vectors + (v)) * 2]), \
                              NAME(load_masked)((at) + 2 * (v) * VEC + VEC, masks[((j) * vectors + (v)) * 2 + 1]), \
                              EVEN_LANES))

KERNEL void NAME(depthwise_rows)(const zoo_plane_geometry *g, long channels, const float *input, long in_stride,
                                 const float *weight, const float *scale, const float *shift,
                                 zoo_activation activation, float *output, long out_stride) {
    const long k = g->kernel_height, height = g->height, width = g->width;
    const long out_h = g->out_height, out_w = g->out_width, vectors = (out_w + VEC - 1) / VEC;
    unsigned masks[k * vectors * g->stride_w];
    NAME(tap_masks)(g, k, vectors, masks);
    // Vectors of a row at a time: as many accumulators (for 4 rows) as the filter's taps leave registers for.
    const long nx = VEC == 16 && vectors >= 4 && k == 3 ? 4 : vectors >= 2 ? 2 : 1;
    // The 4 × NX tile of accumulators, scaled, shifted and activated, to the output (the last vector part full).
#define DEPTHWISE_STORE(NX) do { \
    UNROLL for (int r = 0; r < 4; r++) UNROLL for (int x = 0; x < NX; x++) { \
        const long lanes = out_w - (v0 + x) * VEC; \
        NAME(store_first)(out + (y0 + r) * out_w + (v0 + x) * VEC, \
                          NAME(activate)(activation, acc[r][x] * factor + offset), lanes < VEC ? lanes : VEC); \
    } \
} while (0)
    // 4 output rows × NX vectors: each input row's vectors are loaded once per tap column for all the output rows
    // they feed (rows outside the image are skipped: padding adds nothing).
#define DEPTHWISE_TILE(K, S, NX) do { \
    V acc[4][NX]; \
    UNROLL for (int r = 0; r < 4; r++) UNROLL for (int x = 0; x < NX; x++) acc[r][x] = NAME(splat)(0); \
    UNROLL for (int q = 0; q < 3 * S + K; q++) { \
        const long row = y0 * S - g->pad_top + q; \
        if (row < 0 || row >= height) continue; \
        const float *src = plane + row * width - g->pad_left; \
        UNROLL for (int j = 0; j < K; j++) UNROLL for (int x = 0; x < NX; x++) { \
            const V v = LOAD_TAP(S, src + j, j, v0 + x); \
            UNROLL for (int r = 0; r < 4; r++) { \
                const int i = q - r * S; \
                if (i >= 0 && i < K) acc[r][x] += w[i * K + j] * v; \
            } \
        } \
    } \
    DEPTHWISE_STORE(NX); \
} while (0)
    // A plane's tiles, each TILE(K, A, NX); the last ones overlap the ones before rather than run short.
#define DEPTHWISE_PLANE(TILE, K, A, NX) do { \
    V w[K * K]; \
    UNROLL for (int t = 0; t < K * K; t++) w[t] = NAME(splat)(weight[c * K * K + t]); \
    for (long y = 0; y < out_h; y += 4) { \
        const long y0 = y + 4 <= out_h ? y : out_h - 4; \
        for (long v = 0; v < vectors; v += NX) { \
            const long v0 = v + NX <= vectors ? v : vectors - NX; \
            TILE(K, A, NX); \
        } \
    } \
} while (0)
#define DEPTHWISE_WIDTHS(K, S) do { \
    if (VEC == 16 && nx == 4) DEPTHWISE_PLANE(DEPTHWISE_TILE, K, S, 4); \
    else if (nx == 2) DEPTHWISE_PLANE(DEPTHWISE_TILE, K, S, 2); \
    else DEPTHWISE_PLANE(DEPTHWISE_TILE, K, S, 1); \
} while (0)
    // Stride 2 with the usual paddings (K/2, or one less as TensorFlow's "same" pads even inputs): each input row
    // is read once, a pair of vectors at a time split into even and odd columns, instead of a pair per tap column.
    // Tap column j reads input column 2·x + d (d = j − P), the even or odd vector (d's parity) moved by ⌊d/2⌋ ∈
    // {−1, 0, 1} lanes, its neighbour filling the lane: NX + 2 vectors of each, vectors v0 − 1 ..< v0 + NX + 1.
    unsigned pair_masks[2 * (vectors + 2)];
    NAME(pair_masks)(width, vectors + 2, pair_masks);
#define SPLIT_TAP(X, D, x) ((D) >= 2 ? __builtin_shufflevector(X[(x) + 1], X[(x) + 2], DOWN_A_LANE) \
                          : (D) >= 0 ? X[(x) + 1] : __builtin_shufflevector(X[x], X[(x) + 1], UP_A_LANE))
#define DEPTHWISE_TILE_SPLIT(K, P, NX) do { \
    V acc[4][NX]; \
    UNROLL for (int r = 0; r < 4; r++) UNROLL for (int x = 0; x < NX; x++) acc[r][x] = NAME(splat)(0); \
    UNROLL for (int q = 0; q < 6 + K; q++) { \
        const long row = y0 * 2 - g->pad_top + q; \
        if (row < 0 || row >= height) continue; \
        const float *src = plane + row * width; \
        V even[NX + 2], odd[NX + 2]; \
        UNROLL for (int x = 0; x < NX + 2; x++) { \
            const long v = v0 + x - 1; \
            const V a = NAME(load_masked)(src + 2 * v * VEC, pair_masks[2 * v + 2]); \
            const V b = NAME(load_masked)(src + 2 * v * VEC + VEC, pair_masks[2 * v + 3]); \
            even[x] = __builtin_shufflevector(a, b, EVEN_LANES); \
            odd[x] = __builtin_shufflevector(a, b, ODD_LANES); \
        } \
        UNROLL for (int j = 0; j < K; j++) UNROLL for (int x = 0; x < NX; x++) { \
            const int d = j - (P); \
            const V v = (d & 1) ? SPLIT_TAP(odd, d - 1, x) : SPLIT_TAP(even, d, x); \
            UNROLL for (int r = 0; r < 4; r++) { \
                const int i = q - r * 2; \
                if (i >= 0 && i < K) acc[r][x] += w[i * K + j] * v; \
            } \
        } \
    } \
    DEPTHWISE_STORE(NX); \
} while (0)
#define DEPTHWISE_SPLIT_WIDTHS(K, P) do { \
    if (nx >= 2) DEPTHWISE_PLANE(DEPTHWISE_TILE_SPLIT, K, P, 2); \
    else DEPTHWISE_PLANE(DEPTHWISE_TILE_SPLIT, K, P, 1); \
} while (0)
    const long p = g->pad_left;
    for (long c = 0; c < channels; c++) {
        const float *plane = input + c * in_stride;
        const float factor = scale ? scale[c] : 1, offset = shift ? shift[c] : 0;
        float *out = output + c * out_stride;
        if (g->stride_w == 1) {
            if (k == 3) DEPTHWISE_WIDTHS(3, 1);
            else DEPTHWISE_WIDTHS(5, 1);
        } else if (k == 3 && p == 1) DEPTHWISE_SPLIT_WIDTHS(3, 1);
        else if (k == 3 && p == 0) DEPTHWISE_SPLIT_WIDTHS(3, 0);
        else if (k == 5 && p == 2) DEPTHWISE_SPLIT_WIDTHS(5, 2);
        else if (k == 5 && p == 1) DEPTHWISE_SPLIT_WIDTHS(5, 1);
        else if (k == 3) DEPTHWISE_WIDTHS(3, 2);
        else DEPTHWISE_WIDTHS(5, 2);
    }
#undef DEPTHWISE_SPLIT_WIDTHS
#undef DEPTHWISE_TILE_SPLIT
#undef SPLIT_TAP
#undef DEPTHWISE_WIDTHS
#undef DEPTHWISE_PLANE
#undef DEPTHWISE_TILE
#undef DEPTHWISE_STORE
}

KERNEL void NAME(depthwise_flat)(const zoo_plane_geometry *g, long channels, const float *input, long in_stride,
                                 const float *weight, const float *scale, const float *shift,
                                 zoo_activation activation, float *output, long out_stride) {
    const long kh = g->kernel_height, kw = g->kernel_width, taps = kh * kw, width = g->width;
    const long pixels = g->out_height * width, vectors = (pixels + VEC - 1) / VEC;
    // Output pixel q reads input pixel q + offsets[t] through tap t; masks[t·vectors + v] keeps the lanes of
    // vector v whose pixel is an output and whose input lies inside the plane.
    long offsets[taps];
    unsigned masks[taps * vectors];
    for (long i = 0; i < kh; i++)
        for (long j = 0; j < kw; j++) {
            const long t = i * kw + j, dy = i * g->dilation_h - g->pad_top, dx = j * g->dilation_w - g->pad_left;
            offsets[t] = dy * width + dx;
            for (long v = 0; v < vectors; v++) {
                unsigned mask = 0;
                for (long l = 0, q = v * VEC; l < VEC; l++, q++) {
                    const long y = q / width + dy, x = q % width + dx;
                    if (q < pixels && y >= 0 && y < g->height && x >= 0 && x < width) mask |= 1u << l;
                }
                masks[t * vectors + v] = mask;
            }
        }
    // NX vectors at a time (the last NX overlap the ones before rather than run short), each tap's a masked load;
    // T taps, a constant where the filter is 3×3 (the loops unroll: 960 channels at 7² 30.5 → 28 µs), else `taps`.
#define DEPTHWISE_FLAT(T, NX) do { \
    for (long c = 0; c < channels; c++) { \
        const float *plane = input + c * in_stride, *w = weight + c * (T); \
        const float factor = scale ? scale[c] : 1, offset = shift ? shift[c] : 0; \
        for (long v = 0; v < vectors; v += NX) { \
            const long v0 = v + NX <= vectors ? v : vectors - NX; \
            const unsigned *m = masks + v0; \
            V acc[NX]; \
            UNROLL for (int x = 0; x < NX; x++) acc[x] = NAME(splat)(0); \
            for (long t = 0; t < (T); t++) { \
                const V wt = NAME(splat)(w[t]); \
                const float *src = plane + offsets[t] + v0 * VEC; \
                UNROLL for (int x = 0; x < NX; x++) acc[x] += wt * NAME(load_masked)(src + x * VEC, m[t * vectors + x]); \
            } \
            UNROLL for (int x = 0; x < NX; x++) { \
                const long lanes = pixels - (v0 + x) * VEC; \
                NAME(store_first)(output + c * out_stride + (v0 + x) * VEC, \
                                  NAME(activate)(activation, acc[x] * factor + offset), lanes < VEC ? lanes : VEC); \
            } \
        } \
    } \
} while (0)
#define DEPTHWISE_FLAT_WIDTHS(T) do { \
    if (vectors >= 4) DEPTHWISE_FLAT(T, 4); \
    else if (vectors >= 2) DEPTHWISE_FLAT(T, 2); \
    else DEPTHWISE_FLAT(T, 1); \
} while (0)
    if (taps == 9) DEPTHWISE_FLAT_WIDTHS(9);
    else DEPTHWISE_FLAT_WIDTHS(taps);
#undef DEPTHWISE_FLAT_WIDTHS
#undef DEPTHWISE_FLAT
}

KERNEL void NAME(conv_direct)(const zoo_plane_geometry *g, long channels, const float *input,
                              const zoo_packed_matrix *weights, long out_channels, const float *scale,
                              const float *shift, zoo_activation activation, long first, long count, float *output) {
    static _Thread_local float *row_buffer;
    static _Thread_local size_t row_capacity;
    const long kh = g->kernel_height, kw = g->kernel_width, s = g->stride_w, height = g->height, width = g->width;
    const long out_w = g->out_width, in_plane = height * width, out_plane = g->out_height * out_w;
    const long vectors = (out_w + VEC - 1) / VEC, depth = weights->depth;
    // The input rows an output row reads, zero-padded and split by column phase: phase p's element x is input
    // column s·x + p − pad_left, so tap column j of output column x is phase j mod s at x + j / s — one plain load,
    // where reading the row itself took masks and, at stride 2, two loads and a shuffle, again for every panel
    // of output channels (Zen 4, one thread: MobileNetV2's 3×3 stem 290 → 255 µs, ResNet's 7×7 2.9 → 2.1 ms).
    const long phase = vectors * VEC + (kw - 1) / s, split = s * phase;
    float *rows = NAME(aligned_buffer)(&row_buffer, &row_capacity, (size_t)(channels * kh + 1) * split);
    if (!rows) abort();  // out of memory for a few rows: nothing sane left to do
    float *padded = rows + channels * kh * split;
    // R output channels (of a GEMM_MR-row panel of the packed weights: tap d's are at panel + d·GEMM_MR) × NX
    // vectors of one output row; each tap's input vectors are loaded once for all R channels.
#define DIRECT_TILE(S, R, NX) do { \
    V acc[R][NX]; \
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int x = 0; x < NX; x++) acc[r][x] = NAME(splat)(0); \
    for (long c = 0; c < channels; c++) \
        for (long i = 0; i < kh; i++) { \
            const long row = y * S - g->pad_top + i; \
            if (row < 0 || row >= height) continue; \
            const float *phases = rows + (c * kh + row % kh) * split + v0 * VEC; \
            const float *taps = panel + (c * kh + i) * kw * GEMM_MR; \
            for (long j = 0; j < kw; j++) { \
                V in[NX]; \
                UNROLL for (int x = 0; x < NX; x++) in[x] = NAME(load)(phases + j % S * phase + j / S + x * VEC); \
                UNROLL for (int r = 0; r < R; r++) { \
                    const V w = NAME(splat)(taps[j * GEMM_MR + r]); \
                    UNROLL for (int x = 0; x < NX; x++) acc[r][x] += w * in[x]; \
                } \
            } \
        } \
    UNROLL for (int r = 0; r < R; r++) { \
        const long o = o0 + r; \
        if (o >= out_channels) break; \
        const float factor = scale ? scale[o] : 1, offset = shift ? shift[o] : 0; \
        UNROLL for (int x = 0; x < NX; x++) { \
            const long lanes = out_w - (v0 + x) * VEC; \
            NAME(store_first)(output + o * out_plane + y * out_w + (v0 + x) * VEC, \
                              NAME(activate)(activation, acc[r][x] * factor + offset), lanes < VEC ? lanes : VEC); \
        } \
    } \
} while (0)
    // A panel's last rows past the output channels are zeros: the smallest tile that covers the rest.
#define DIRECT_ROWS(S, NX) do { \
    const long left = out_channels - o0; \
    if (GEMM_MR > 8 && left <= 8 && left > 4) DIRECT_TILE(S, 8, NX); \
    else if (GEMM_MR > 4 && left <= 4) DIRECT_TILE(S, 4, NX); \
    else DIRECT_TILE(S, GEMM_MR, NX); \
} while (0)
#define DIRECT_ROW(S) do { \
    long v0 = 0; \
    for (; v0 + 2 <= vectors; v0 += 2) DIRECT_ROWS(S, 2); \
    if (v0 < vectors) DIRECT_ROWS(S, 1); \
} while (0)
    const long pad = g->pad_left < split ? g->pad_left : split;
    const long copied = width < split - pad ? width : split - pad;
    long prepared = 0;  // input rows below this one are in `rows`, row r of channel c at (c·kh + r mod kh)·split
    for (long y = first; y < first + count; y++) {
        const long top = y * s - g->pad_top;
        for (long row = top > prepared ? top : prepared; row < top + kh && row < height; row++) {
            if (row < 0) continue;
            for (long c = 0; c < channels; c++) {
                float *phases = rows + (c * kh + row % kh) * split, *dst = s == 1 ? phases : padded;
                memset(dst, 0, pad * sizeof(float));
                memcpy(dst + pad, input + c * in_plane + row * width, copied * sizeof(float));
                memset(dst + pad + copied, 0, (split - pad - copied) * sizeof(float));
                if (s == 2) NAME(split_pairs)(padded, phase, phases, phases + phase);
            }
        }
        prepared = top + kh;
        for (long o0 = 0; o0 < out_channels; o0 += GEMM_MR) {
            const float *panel = weights->data + o0 * depth;
            if (s == 1) DIRECT_ROW(1); else DIRECT_ROW(2);
        }
    }
#undef DIRECT_ROW
#undef DIRECT_ROWS
#undef DIRECT_TILE
}
#undef LOAD_TAP

/// `max_pool_plane` for 3×3 windows of stride 2 with one column of padding on the left or none (ResNet's and
/// DenseNet's stems): as `depthwise_rows` at stride 2, each row a pair of vectors at a time split into its even
/// and odd columns, the columns outside the row −∞ instead of a padded copy of the plane.
INLINE void NAME(max_pool_split)(const zoo_plane_geometry *g, const float *input, float *output) {
    const long width = g->width, out_w = g->out_width, vectors = (out_w + VEC - 1) / VEC, pairs = vectors + 2;
    // fills[…] holds −∞ in the lanes `masks` leaves out.
    unsigned masks[2 * pairs];
    NAME(pair_masks)(width, pairs, masks);
    V fills[2 * pairs];
    for (long i = 0; i < 2 * pairs; i++)
        for (int l = 0; l < VEC; l++) fills[i][l] = masks[i] >> l & 1 ? 0 : -INFINITY;
    // Full vectors (the row's inside) load plainly; the others masked, −∞ filled in.
#define PAIR(v, h) (masks[2 * (v) + 2 + (h)] == (1u << VEC) - 1 ? NAME(load)(src + (2 * (v) + (h)) * VEC) \
    : NAME(select)(fills[2 * (v) + 2 + (h)] == 0, \
                   NAME(load_masked)(src + (2 * (v) + (h)) * VEC, masks[2 * (v) + 2 + (h)]), fills[2 * (v) + 2 + (h)]))
    V best[vectors];
    for (long oy = 0; oy < g->out_height; oy++) {
        for (long v = 0; v < vectors; v++) best[v] = NAME(splat)(-INFINITY);
        for (long i = 0; i < 3; i++) {
            const long row = oy * 2 - g->pad_top + i;
            if (row < 0 || row >= g->height) continue;
            const float *src = input + row * width;
            // Along the row, each pair split once: its odd columns serve the next vector too (padding 1), the next
            // pair's even ones this vector (none).
            V before = NAME(splat)(-INFINITY), a = PAIR(0, 0), b = PAIR(0, 1);
            V even = __builtin_shufflevector(a, b, EVEN_LANES), odd = __builtin_shufflevector(a, b, ODD_LANES);
            for (long v = 0; v < vectors; v++) {
                a = PAIR(v + 1, 0);
                b = PAIR(v + 1, 1);
                const V next_even = __builtin_shufflevector(a, b, EVEN_LANES);
                const V next_odd = __builtin_shufflevector(a, b, ODD_LANES);
                // The third column: odd column ox − 1 (padding 1) or even column ox + 1 (none).
                const V third = g->pad_left == 1 ? __builtin_shufflevector(before, odd, UP_A_LANE)
                                                 : __builtin_shufflevector(even, next_even, DOWN_A_LANE);
                best[v] = NAME(larger)(NAME(larger)(NAME(larger)(best[v], even), odd), third);
                before = odd;
                even = next_even;
                odd = next_odd;
            }
        }
        for (long v = 0; v < vectors; v++) {
            const long lanes = out_w - v * VEC;
            NAME(store_first)(output + oy * out_w + v * VEC, best[v], lanes < VEC ? lanes : VEC);
        }
    }
#undef PAIR
}

KERNEL void NAME(max_pool_plane)(const zoo_plane_geometry *g, const float *input, float *output, float *scratch) {
    if (g->kernel_height == 3 && g->kernel_width == 3 && g->stride_h == 2 && g->stride_w == 2 && g->dilation_h == 1
        && g->dilation_w == 1 && (g->pad_left == 0 || g->pad_left == 1)) {
        NAME(max_pool_split)(g, input, output);
        return;
    }
    const zoo_padded_layout layout = fill_phase_padded(g, input, scratch, -INFINITY, NAME(split_pairs));
    const long taps = g->kernel_height * g->kernel_width, out_w = g->out_width;
    long offsets[taps];
    tap_offsets(g, layout, offsets);
    for (long oy = 0; oy < g->out_height; oy++) {
        const float *rows = scratch + oy * g->stride_h * layout.row_stride;
        for (long ox = 0; ox < out_w; ox += VEC) {
            V best = NAME(splat)(-INFINITY);
            for (long t = 0; t < taps; t++) {
                V v = NAME(load)(rows + offsets[t] + ox);
                best = NAME(larger)(best, v);
            }
            long lanes = out_w - ox < VEC ? out_w - ox : VEC;
            if (lanes == VEC) NAME(store)(output + oy * out_w + ox, best); else NAME(store_partial)(output + oy * out_w + ox, best, lanes);
        }
    }
}

// MARK: - Winograd F(4×4, 3×3)

/// Bᵀ x for six values of a 6×6 input tile (a column, then a row).
INLINE void NAME(winograd_bt)(const V x[6], V y[6]) {
    y[0] = 4 * x[0] - 5 * x[2] + x[4];
    y[1] = x[3] + x[4] - 4 * (x[1] + x[2]);
    y[2] = 4 * (x[1] - x[2]) + x[4] - x[3];
    y[3] = 2 * (x[3] - x[1]) + x[4] - x[2];
    y[4] = 2 * (x[1] - x[3]) + x[4] - x[2];
    y[5] = 4 * x[1] - 5 * x[3] + x[5];
}

/// Aᵀ m for six values of a 6×6 product tile, giving four outputs.
INLINE void NAME(winograd_at)(const V m[6], V y[4]) {
    V sum12 = m[1] + m[2], difference12 = m[1] - m[2], sum34 = m[3] + m[4], difference34 = m[3] - m[4];
    y[0] = m[0] + sum12 + sum34;
    y[1] = difference12 + 2 * difference34;
    y[2] = sum12 + 4 * sum34;
    y[3] = difference12 + 8 * difference34 + m[5];
}

// One lane per tile, VEC tiles at a time; a tile's values are gathered lane by lane (tiles overlap by two
// columns, so no plain vector load holds them), and tiles that cross the plane's edge are read from a
// zero-padded copy.
KERNEL void NAME(winograd_input)(const zoo_winograd_geometry *g, const float *plane, long first, long count, float *out,
                                 long xi_stride) {
    const long tiles = first + count;
    for (long t0 = first; t0 < tiles; t0 += VEC) {
        const float *base[VEC];
        long row_stride[VEC];
        float edge[VEC][36];
        for (int l = 0; l < VEC; l++) {
            long t = t0 + l < tiles ? t0 + l : tiles - 1;  // lanes past the end repeat the last tile, not stored
            long y0 = t / g->tiles_w * 4 - g->pad_top, x0 = t % g->tiles_w * 4 - g->pad_left;
            if (y0 >= 0 && x0 >= 0 && y0 + 6 <= g->height && x0 + 6 <= g->width) {
                base[l] = plane + y0 * g->width + x0;
                row_stride[l] = g->width;
                continue;
            }
            for (long r = 0; r < 6; r++)
                for (long c = 0; c < 6; c++) {
                    long y = y0 + r, x = x0 + c;
                    edge[l][r * 6 + c] = y >= 0 && y < g->height && x >= 0 && x < g->width ? plane[y * g->width + x] : 0;
                }
            base[l] = edge[l];
            row_stride[l] = 6;
        }
        V rows[6][6];  // Bᵀ d
        UNROLL for (int c = 0; c < 6; c++) {
            V column[6], transformed[6];
            UNROLL for (int r = 0; r < 6; r++) UNROLL for (int l = 0; l < VEC; l++) column[r][l] = base[l][r * row_stride[l] + c];
            NAME(winograd_bt)(column, transformed);
            UNROLL for (int r = 0; r < 6; r++) rows[r][c] = transformed[r];
        }
        const long lanes = tiles - t0 < VEC ? tiles - t0 : VEC;
        UNROLL for (int r = 0; r < 6; r++) {
            V transformed[6];  // (Bᵀ d) B, row r
            NAME(winograd_bt)(rows[r], transformed);
            UNROLL for (int k = 0; k < 6; k++) {
                float *dst = out + (r * 6 + k) * xi_stride + (t0 - first);
                if (lanes == VEC) NAME(store)(dst, transformed[k]); else NAME(store_partial)(dst, transformed[k], lanes);
            }
        }
    }
}

KERNEL void NAME(winograd_output)(const zoo_winograd_geometry *g, const float *in, long first, long count, long xi_stride,
                                  float scale, float shift, const float *residual, zoo_activation activation, float *out) {
    const long tiles = first + count, out_h = g->out_height, out_w = g->out_width;
    for (long t0 = first; t0 < tiles; t0 += VEC) {
        const long lanes = tiles - t0 < VEC ? tiles - t0 : VEC;
        V columns[4][6];  // Aᵀ m
        UNROLL for (int k = 0; k < 6; k++) {
            V column[6], transformed[4];
            UNROLL for (int r = 0; r < 6; r++) {
                const float *src = in + (r * 6 + k) * xi_stride + (t0 - first);
                column[r] = lanes == VEC ? NAME(load)(src) : NAME(load_partial)(src, lanes);
            }
            NAME(winograd_at)(column, transformed);
            UNROLL for (int i = 0; i < 4; i++) columns[i][k] = transformed[i];
        }
        V y[4][4];  // (Aᵀ m) A, then the epilogue
        UNROLL for (int i = 0; i < 4; i++) NAME(winograd_at)(columns[i], y[i]);
        long origin[VEC], rows[VEC], width[VEC];  // each tile's first output and how much of it lies in the plane
        for (long l = 0; l < lanes; l++) {
            long t = t0 + l, oy = t / g->tiles_w * 4, ox = t % g->tiles_w * 4;
            origin[l] = oy * out_w + ox;
            rows[l] = out_h - oy < 4 ? out_h - oy : 4;
            width[l] = out_w - ox < 4 ? out_w - ox : 4;
        }
        UNROLL for (int i = 0; i < 4; i++) UNROLL for (int j = 0; j < 4; j++) {
            V v = y[i][j] * scale + shift;
            if (residual) {
                V r = NAME(splat)(0);
                for (long l = 0; l < lanes; l++)
                    if (i < rows[l] && j < width[l]) r[l] = residual[origin[l] + i * out_w + j];
                v += r;
            }
            y[i][j] = NAME(activate)(activation, v);
        }
        for (long l = 0; l < lanes; l++)
            for (long i = 0; i < rows[l]; i++)
                for (long j = 0; j < width[l]; j++) out[origin[l] + i * out_w + j] = y[i][j][l];
    }
}

/// Row r of the transformed filters' six points from the filters' taps, all packed alike (see
/// `zoo_winograd_filter_row`): partial[j] = Σ_i row[i] · taps[3i + j] (zero weights skipped), out[c] =
/// Σ_j transform[c][j] · partial[j], over `count` floats.
KERNEL void NAME(winograd_filter_row)(const float *const *taps, const float *row, const float *transform, long count,
                                      float *const *out) {
    // The row's weights on the taps' rows i (the first and last rows of G weigh one tap row only).
    const float *used[3][3];
    float weights[3];
    int n = 0;
    for (int i = 0; i < 3; i++)
        if (row[i] != 0) {
            for (int j = 0; j < 3; j++) used[n][j] = taps[3 * i + j];
            weights[n++] = row[i];
        }
    long k = 0;
    for (; k + VEC <= count; k += VEC) {
        V partial[3];
        UNROLL for (int j = 0; j < 3; j++) {
            partial[j] = NAME(splat)(0);
            for (int t = 0; t < n; t++) partial[j] += NAME(splat)(weights[t]) * NAME(load)(used[t][j] + k);
        }
        UNROLL for (int c = 0; c < 6; c++) {
            V sum = NAME(splat)(transform[3 * c]) * partial[0];
            UNROLL for (int j = 1; j < 3; j++) sum += NAME(splat)(transform[3 * c + j]) * partial[j];
            NAME(store)(out[c] + k, sum);
        }
    }
    for (; k < count; k++) {
        float partial[3];
        for (int j = 0; j < 3; j++) {
            partial[j] = 0;
            for (int t = 0; t < n; t++) partial[j] += weights[t] * used[t][j][k];
        }
        for (int c = 0; c < 6; c++)
            out[c][k] = transform[3 * c] * partial[0] + transform[3 * c + 1] * partial[1] + transform[3 * c + 2] * partial[2];
    }
}

KERNEL void NAME(adamw_update)(float *w, float *m, float *v, const float *g, long count, const zoo_adamw *h) {
    long i = 0;
    for (; i + VEC <= count; i += VEC) {
        V gi = NAME(load)(g + i);
        V mi = NAME(load)(m + i) * h->beta1 + (1 - h->beta1) * gi;
        V vi = NAME(load)(v + i) * h->beta2 + (1 - h->beta2) * gi * gi;
        V wi = NAME(load)(w + i) * h->decay;
        NAME(store)(m + i, mi);
        NAME(store)(v + i, vi);
        NAME(store)(w + i, wi - h->step_size * mi / (__builtin_elementwise_sqrt(vi) / h->root_correction2 + h->epsilon));
    }
    for (; i < count; i++) {
        m[i] = h->beta1 * m[i] + (1 - h->beta1) * g[i];
        v[i] = h->beta2 * v[i] + (1 - h->beta2) * g[i] * g[i];
        w[i] = w[i] * h->decay - h->step_size * m[i] / (__builtin_sqrtf(v[i]) / h->root_correction2 + h->epsilon);
    }
}

// MARK: - GEMM

typedef float NAME(v4) __attribute__((vector_size(16), aligned(4), may_alias));

/// out[p · ld + i] = src[i · stride + p] for i < rows, p < depth: rows that lie along depth, written across.
/// Four rows by four depths at a time through a 4×4 register transpose (SSE / NEON shuffles on every path),
/// instead of one scalar store per value.
INLINE void NAME(transpose_rows)(long rows, long depth, const float *src, long stride, float *out, long ld) {
    typedef NAME(v4) V4;
    long i = 0;
    for (; i + 4 <= rows; i += 4) {
        const float *s0 = src + i * stride, *s1 = s0 + stride, *s2 = s1 + stride, *s3 = s2 + stride;
        long p = 0;
        for (; p + 4 <= depth; p += 4) {
            V4 r0 = *(const V4 *)(s0 + p), r1 = *(const V4 *)(s1 + p), r2 = *(const V4 *)(s2 + p), r3 = *(const V4 *)(s3 + p);
            V4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
            V4 t2 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
            float *o = out + p * ld + i;
            *(V4 *)o = __builtin_shufflevector(t0, t1, 0, 1, 4, 5);
            *(V4 *)(o + ld) = __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
            *(V4 *)(o + 2 * ld) = __builtin_shufflevector(t2, t3, 0, 1, 4, 5);
            *(V4 *)(o + 3 * ld) = __builtin_shufflevector(t2, t3, 2, 3, 6, 7);
        }
        for (; p < depth; p++) {
            out[p * ld + i] = s0[p]; out[p * ld + i + 1] = s1[p]; out[p * ld + i + 2] = s2[p]; out[p * ld + i + 3] = s3[p];
        }
    }
    if (i + 2 <= rows) {  // two rows left (the AVX2 tile has six): pairs of values
        typedef float V2 __attribute__((vector_size(8), aligned(4), may_alias));
        const float *s0 = src + i * stride, *s1 = s0 + stride;
        long p = 0;
        for (; p + 4 <= depth; p += 4) {
            V4 r0 = *(const V4 *)(s0 + p), r1 = *(const V4 *)(s1 + p);
            float *o = out + p * ld + i;
            *(V2 *)o = __builtin_shufflevector(r0, r1, 0, 4);
            *(V2 *)(o + ld) = __builtin_shufflevector(r0, r1, 1, 5);
            *(V2 *)(o + 2 * ld) = __builtin_shufflevector(r0, r1, 2, 6);
            *(V2 *)(o + 3 * ld) = __builtin_shufflevector(r0, r1, 3, 7);
        }
        for (; p < depth; p++) { out[p * ld + i] = s0[p]; out[p * ld + i + 1] = s1[p]; }
        i += 2;
    }
    for (; i < rows; i++)
        for (long p = 0; p < depth; p++) out[p * ld + i] = src[i * stride + p];
}

/// Packs an MC×KC block of op(A) into MR-row panels, each KC×MR (zero rows past the edge).
KERNEL void NAME(pack_a)(long rows, long depth, const float *a, long row_stride, long depth_stride, float *out) {
    for (long i0 = 0; i0 < rows; i0 += GEMM_MR, out += GEMM_MR * depth) {
        long panel = rows - i0 < GEMM_MR ? rows - i0 : GEMM_MR;
        if (depth_stride == 1) {
            NAME(transpose_rows)(panel, depth, a + i0 * row_stride, row_stride, out, GEMM_MR);
            for (long i = panel; i < GEMM_MR; i++)
                for (long p = 0; p < depth; p++) out[p * GEMM_MR + i] = 0;
        } else if (row_stride == 1 && panel == GEMM_MR) {  // A stored transposed: each panel row is a plain copy
            for (long p = 0; p < depth; p++) {
                const float *src = a + i0 + p * depth_stride;
                UNROLL for (int i = 0; i < GEMM_MR; i++) out[p * GEMM_MR + i] = src[i];
            }
        } else {
            for (long p = 0; p < depth; p++)
                for (long i = 0; i < GEMM_MR; i++)
                    out[p * GEMM_MR + i] = i < panel ? a[(i0 + i) * row_stride + p * depth_stride] : 0;
        }
    }
}

/// Packs a KC×NC block of op(B) into NR-column panels, each KC×NR (zero columns past the edge).
KERNEL void NAME(pack_b)(long columns, long depth, const float *b, long depth_stride, long column_stride, float *out) {
    for (long j0 = 0; j0 < columns; j0 += GEMM_NR, out += GEMM_NR * depth) {
        long panel = columns - j0 < GEMM_NR ? columns - j0 : GEMM_NR;
        if (column_stride == 1 && panel == GEMM_NR) {
            for (long p = 0; p < depth; p++) {
                const float *src = b + p * depth_stride + j0;
                UNROLL for (int v = 0; v < GEMM_NV; v++) NAME(store)(out + p * GEMM_NR + v * VEC, NAME(load)(src + v * VEC));
            }
        } else if (depth_stride == 1) {
            NAME(transpose_rows)(panel, depth, b + j0 * column_stride, column_stride, out, GEMM_NR);
            for (long j = panel; j < GEMM_NR; j++)
                for (long p = 0; p < depth; p++) out[p * GEMM_NR + j] = 0;
        } else {
            for (long p = 0; p < depth; p++)
                for (long j = 0; j < GEMM_NR; j++)
                    out[p * GEMM_NR + j] = j < panel ? b[p * depth_stride + (j0 + j) * column_stride] : 0;
        }
    }
}

/// Finishes `lanes` values of one C row at column `column`: beta·C, then the epilogue (`e`, a copy held by the
/// caller, with `activation` in place of its own), then the store.
INLINE void NAME(finish)(V v, float *dst, long lanes, float beta, const zoo_epilogue *e, const zoo_activation activation,
                         long row, long column) {
    int full = lanes >= VEC;
    if (beta != 0) v += beta * (full ? NAME(load)(dst) : NAME(load_partial)(dst, lanes));
    if (e) {
        if (e->row_scale) v *= e->row_scale[row];
        if (e->row_shift) v += e->row_shift[row];
        if (e->column_shift) {
            const float *shift = e->column_shift + column;
            v += full ? NAME(load)(shift) : NAME(load_partial)(shift, lanes);
        }
        if (e->residual) {
            const float *residual = e->residual + row * e->residual_stride + column;
            v += full ? NAME(load)(residual) : NAME(load_partial)(residual, lanes);
        }
        v = NAME(activate)(activation, v);
    }
    if (full) NAME(store)(dst, v); else NAME(store_partial)(dst, v, lanes);
}

// Vectors of an A panel's MR rows; the few-columns tile below takes up to GEMM_FEW_COLUMNS columns where that
// costs fewer products per depth step than a vector of columns (MR).
#define GEMM_ROW_VECTORS ((GEMM_MR + VEC - 1) / VEC)
#define GEMM_FEW_COLUMNS (4 * GEMM_ROW_VECTORS < GEMM_MR ? 4 : (GEMM_MR - 1) / GEMM_ROW_VECTORS)

/// One depth step of a few-columns tile: C columns (`columns` ≤ GEMM_FEW_COLUMNS of them, B's at `b`) with the
/// accumulators along A's rows, a vector of MR rows per column.
INLINE void NAME(few_columns_step)(V acc[GEMM_FEW_COLUMNS][GEMM_ROW_VECTORS], const float *a, const float *b,
                                   int last_step, long columns) {
    V av[GEMM_ROW_VECTORS];
    UNROLL for (int v = 0; v < GEMM_ROW_VECTORS; v++) {
        // A vector reaching past the panel's MR rows reads the next step's; the last step must not.
        const long lanes = GEMM_MR - v * VEC;
        av[v] = lanes >= VEC || !last_step ? NAME(load)(a + v * VEC) : NAME(load_partial)(a + v * VEC, lanes);
    }
    UNROLL for (int j = 0; j < GEMM_FEW_COLUMNS; j++) {
        if (j >= columns) break;
        const V bj = NAME(splat)(b[j]);
        UNROLL for (int v = 0; v < GEMM_ROW_VECTORS; v++) acc[j][v] += av[v] * bj;
    }
}

/// Stores a few-columns tile: back to rows of C, finished as the other tiles finish theirs.
INLINE void NAME(few_columns_finish)(V acc[GEMM_FEW_COLUMNS][GEMM_ROW_VECTORS], float *c, long ldc, long rows,
                                     long columns, float alpha, float beta, const zoo_epilogue *e, long row,
                                     long column) {
    float tile[GEMM_FEW_COLUMNS][GEMM_ROW_VECTORS * VEC];
    UNROLL for (int j = 0; j < GEMM_FEW_COLUMNS; j++) UNROLL for (int v = 0; v < GEMM_ROW_VECTORS; v++)
        NAME(store)(tile[j] + v * VEC, acc[j][v]);
    const zoo_activation activation = e ? e->activation : ZOO_ACT_IDENTITY;
    for (long i = 0; i < rows; i++) {
        float values[VEC] = {0};
        for (long j = 0; j < columns; j++) values[j] = tile[j][i];
        NAME(finish)(NAME(load)(values) * alpha, c + i * ldc, columns, beta, e, activation, row + i, column);
    }
}

/// C tile (rows × columns ≤ mr × nv·VEC, at `row`, `column` of the whole C) = alpha · Apanel · Bpanel, finished;
/// `mr` ≤ MR rows of the panel are computed. `mr`, `nv` and `activation` are constants at each call, so the loops
/// unroll, the accumulators stay in registers and the activation's code appears without the others'. With
/// `with_few`, the tile also takes the `few` columns after its vectors along, as `micro_kernel_few_columns` would.
INLINE void NAME(micro_tile)(const int mr, const int nv, const zoo_activation activation, const int with_few,
                             long few, long depth, const float *restrict a, const float *restrict b, long b_stride,
                             float *c, long ldc, long rows, long columns, float alpha, float beta,
                             const zoo_epilogue *epilogue, long row, long column) {
    V acc[GEMM_MR][GEMM_NV], few_acc[GEMM_FEW_COLUMNS][GEMM_ROW_VECTORS];
    UNROLL for (int i = 0; i < mr; i++) UNROLL for (int j = 0; j < nv; j++) acc[i][j] = NAME(splat)(0);
    if (with_few)
        UNROLL for (int j = 0; j < GEMM_FEW_COLUMNS; j++) UNROLL for (int v = 0; v < GEMM_ROW_VECTORS; v++)
            few_acc[j][v] = NAME(splat)(0);
    // B read where it lies (`direct_b`): each depth step is another row of the operand, many streams at once
    // that the hardware prefetcher does not follow, so the row's next four panels are asked for ahead.
    const int prefetch = b_stride != GEMM_NR;
    for (long p = 0; p < depth; p++, a += GEMM_MR, b += b_stride) {
        if (prefetch) {
            __builtin_prefetch(b + 4 * GEMM_NR);
            __builtin_prefetch(b + 4 * GEMM_NR + 16);
        }
        V bv[GEMM_NV];
        UNROLL for (int j = 0; j < nv; j++) bv[j] = NAME(load)(b + j * VEC);
        UNROLL for (int i = 0; i < mr; i++) {
            V ai = NAME(splat)(a[i]);
            UNROLL for (int j = 0; j < nv; j++) acc[i][j] += ai * bv[j];
        }
        if (with_few) NAME(few_columns_step)(few_acc, a, b + nv * VEC, p + 1 == depth, few);
    }
    // A local copy: C's stores (through may_alias vectors) would otherwise make every field a reload.
    zoo_epilogue local;
    if (epilogue) local = *epilogue;
    const zoo_epilogue *e = epilogue ? &local : NULL;
    // Constant indices only (full unroll), so the accumulators never leave the registers.
    UNROLL for (int i = 0; i < mr; i++) {
        if (i < rows) {
            UNROLL for (int j = 0; j < nv; j++) {
                long lanes = columns - j * VEC;
                if (lanes > 0)
                    NAME(finish)(acc[i][j] * alpha, c + i * ldc + j * VEC, lanes, beta, e, activation, row + i,
                                 column + j * VEC);
            }
        }
    }
    if (with_few)
        NAME(few_columns_finish)(few_acc, c + nv * VEC, ldc, rows, few, alpha, beta, e, row, column + nv * VEC);
}

/// `micro_tile` compiled for the activations convolutions and MLPs end with, and once for any other; a panel's last
/// few rows (16 output channels are 12 + 4 on AVX-512) get a tile of 4 or 8 rows, not MR rows mostly of padding.
#define MICRO_TILE_ROWS(mr, nv, activation) \
    NAME(micro_tile)(mr, nv, activation, with_few, few, depth, a, b, b_stride, c, ldc, rows, columns, alpha, beta, \
                     epilogue, row, column)
#define MICRO_TILE(nv, activation) do { \
    if (GEMM_MR > 4 && rows <= 4) MICRO_TILE_ROWS(GEMM_MR > 4 ? 4 : GEMM_MR, nv, activation); \
    else if (GEMM_MR > 8 && rows <= 8) MICRO_TILE_ROWS(GEMM_MR > 8 ? 8 : GEMM_MR, nv, activation); \
    else MICRO_TILE_ROWS(GEMM_MR, nv, activation); \
} while (0)
#define MICRO_TILE_FOR_EACH_ACTIVATION(nv) do { \
    zoo_activation activation_ = epilogue ? epilogue->activation : ZOO_ACT_IDENTITY; \
    switch (activation_) { \
    case ZOO_ACT_IDENTITY: MICRO_TILE(nv, ZOO_ACT_IDENTITY); break; \
    case ZOO_ACT_RELU: MICRO_TILE(nv, ZOO_ACT_RELU); break; \
    case ZOO_ACT_RELU6: MICRO_TILE(nv, ZOO_ACT_RELU6); break; \
    case ZOO_ACT_SILU: MICRO_TILE(nv, ZOO_ACT_SILU); break; \
    case ZOO_ACT_GELU: MICRO_TILE(nv, ZOO_ACT_GELU); break; \
    default: MICRO_TILE(nv, activation_); \
    } \
} while (0)

/// The full MR × NR tile.
KERNEL void NAME(micro_kernel)(long depth, const float *restrict a, const float *restrict b, long b_stride, float *c, long ldc,
                               long rows, long columns, float alpha, float beta, const zoo_epilogue *epilogue,
                               long row, long column) {
    const int with_few = 0;
    const long few = 0;
    MICRO_TILE_FOR_EACH_ACTIVATION(GEMM_NV);
}

/// One vector of columns: the last panel of a C whose width is not a multiple of NR (a 7×7 map's 49
/// positions are 3·16 + 1 on AVX-512), which the full tile would compute mostly on padding; with the few columns
/// after it (`few` > 0: the 1 of 49), which alone would make a tile of one dependent chain of FMAs per column
/// (49 columns took 1.16× the time of 48 so on Zen 4, one thread).
KERNEL void NAME(micro_kernel_narrow)(long depth, const float *restrict a, const float *restrict b, long b_stride, float *c,
                                      long ldc, long rows, long columns, long few, float alpha, float beta,
                                      const zoo_epilogue *epilogue, long row, long column) {
    if (few > 0) {
        const int with_few = 1;
        MICRO_TILE_FOR_EACH_ACTIVATION(1);
    } else {
        const int with_few = 0;
        MICRO_TILE_FOR_EACH_ACTIVATION(1);
    }
}
#undef MICRO_TILE_FOR_EACH_ACTIVATION
#undef MICRO_TILE
#undef MICRO_TILE_ROWS

/// C tile of rows × columns (≤ GEMM_FEW_COLUMNS) with the accumulators along A's rows, a vector of MR rows per
/// column: the last few columns of a C whose width is just past a multiple of the vector (49 = 6·8 + 1), which a
/// vector of columns would compute mostly on padding.
KERNEL void NAME(micro_kernel_few_columns)(long depth, const float *restrict a, const float *restrict b, long b_stride,
                                           float *c, long ldc, long rows, long columns, float alpha, float beta,
                                           const zoo_epilogue *epilogue, long row, long column) {
    V acc[GEMM_FEW_COLUMNS][GEMM_ROW_VECTORS];
    UNROLL for (int j = 0; j < GEMM_FEW_COLUMNS; j++) UNROLL for (int v = 0; v < GEMM_ROW_VECTORS; v++)
        acc[j][v] = NAME(splat)(0);
    for (long p = 0; p < depth; p++, a += GEMM_MR, b += b_stride)
        NAME(few_columns_step)(acc, a, b, p + 1 == depth, columns);
    zoo_epilogue local;
    if (epilogue) local = *epilogue;
    NAME(few_columns_finish)(acc, c, ldc, rows, columns, alpha, beta, epilogue ? &local : NULL, row, column);
}

KERNEL void NAME(gemm)(const zoo_gemm_call *call) {
    // Packing buffers live as long as the thread: the zoo's pool threads call the GEMM thousands of times.
    static _Thread_local float *a_buffer, *b_buffer;
    static _Thread_local size_t a_capacity, b_capacity;
    const zoo_packed_matrix *packed = call->packed;
    const int packed_a = packed && packed->side == 0, packed_b = packed && packed->side == 1;
    float *a_block = packed_a ? NULL : NAME(aligned_buffer)(&a_buffer, &a_capacity, (size_t)GEMM_MC * GEMM_KC);
    float *b_block = packed_b ? NULL : NAME(aligned_buffer)(&b_buffer, &b_capacity, (size_t)GEMM_KC * GEMM_NC);
    if ((!packed_a && !a_block) || (!packed_b && !b_block)) abort();  // out of memory for 5 MB: nothing sane left to do
    const long m = call->m, n = call->n, k = call->k;
    for (long jc = 0; jc < n; jc += GEMM_NC) {
        long nc = n - jc < GEMM_NC ? n - jc : GEMM_NC;
        for (long pc = 0; pc < k; pc += GEMM_KC) {
            long kc = k - pc < GEMM_KC ? k - pc : GEMM_KC;
            const float *b_panels;
            // With few rows of A, each B panel is read by only a few micro-kernel calls: they read B where it
            // lies instead of copying it first (only a ragged last panel is packed).
            const int direct_b = !packed_b && call->b_col == 1 && m <= 12 * GEMM_MR;
            if (direct_b) {
                long full = nc / GEMM_NR * GEMM_NR;
                if (full < nc) NAME(pack_b)(nc - full, kc, call->b + pc * call->b_row + jc + full, call->b_row, 1, b_block);
                b_panels = b_block;
            } else if (packed_b) {
                long padded = (packed->columns + GEMM_NR - 1) / GEMM_NR * GEMM_NR;
                b_panels = packed->data + pc * padded + (call->packed_offset + jc) * kc;
            } else {
                NAME(pack_b)(nc, kc, call->b + pc * call->b_row + jc * call->b_col, call->b_row, call->b_col, b_block);
                b_panels = b_block;
            }
            float beta = pc == 0 ? call->beta : 1;
            const zoo_epilogue *epilogue = pc + kc == k ? call->epilogue : NULL;
            for (long ic = 0; ic < m; ic += GEMM_MC) {
                long mc = m - ic < GEMM_MC ? m - ic : GEMM_MC;
                const float *a_panels;
                long a_step = kc;  // from one panel of A to the next
                if (packed_a) {
                    long padded = (packed->rows + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
                    if (packed->panel_depth) a_step = packed->panel_depth;
                    a_panels = packed->data + pc * padded + (call->packed_offset + ic) * a_step;
                } else {
                    NAME(pack_a)(mc, kc, call->a + ic * call->a_row + pc * call->a_col, call->a_row, call->a_col, a_block);
                    a_panels = a_block;
                }
                // In a shallow product (a 1×1 conv of few channels) C and a residual cost as much as the products:
                // each row panel runs along a chunk of B panels (64 KB, in cache), so that C is written a few rows
                // at a time in long runs, not a tile's width of each of MC rows at a time (Zen 1: 64→256 at 56²
                // with a residual 9–16 % faster, 128→512 at 28² 5–12 %; deeper products gained nothing).
                const long chunk = kc <= GEMM_SHALLOW ? GEMM_SHALLOW_CHUNK / kc / GEMM_NR * GEMM_NR : GEMM_NR;
                for (long j0 = 0; j0 < nc; j0 += chunk) {
                    const long j1 = nc - j0 < chunk ? nc : j0 + chunk;
                    for (long ir = 0; ir < mc; ir += GEMM_MR) {
                        long rows = mc - ir < GEMM_MR ? mc - ir : GEMM_MR;
                        for (long jr = j0; jr < j1; jr += GEMM_NR) {
                            long columns = nc - jr < GEMM_NR ? nc - jr : GEMM_NR;
                            const float *b_panel = b_panels + jr * kc;
                            long b_stride = GEMM_NR;
                            if (direct_b) {
                                b_panel = columns == GEMM_NR ? call->b + pc * call->b_row + jc + jr : b_panels;
                                b_stride = columns == GEMM_NR ? call->b_row : GEMM_NR;
                            }
                            // A ragged last panel: its vectors of columns, then a few columns left over along A's rows.
                            const long few = columns % VEC <= GEMM_FEW_COLUMNS ? columns % VEC : 0, wide = columns - few;
                            float *c = call->c + (ic + ir) * call->ldc + jc + jr;
                            const int narrow = wide > 0 && wide <= VEC;  // takes the few columns along
                            if (wide > VEC)
                                NAME(micro_kernel)(kc, a_panels + ir * a_step, b_panel, b_stride, c, call->ldc, rows, wide,
                                                   call->alpha, beta, epilogue, ic + ir, jc + jr);
                            else if (narrow)
                                NAME(micro_kernel_narrow)(kc, a_panels + ir * a_step, b_panel, b_stride, c, call->ldc, rows,
                                                          wide, few, call->alpha, beta, epilogue, ic + ir, jc + jr);
                            if (few > 0 && !narrow)
                                NAME(micro_kernel_few_columns)(kc, a_panels + ir * a_step, b_panel + wide, b_stride, c + wide,
                                                               call->ldc, rows, few, call->alpha, beta, epilogue, ic + ir,
                                                               jc + jr + wide);
                        }
                    }
                }
            }
        }
    }
}

/// Packs outer rows (A) or columns (B) first ..< first + count of an operand (first a multiple of the tile), block
/// by block in K, where `gemm` reads them in the whole operand's packed layout.
KERNEL void NAME(pack)(int side, long outer, long depth, long first, long count, const float *source, long outer_stride,
                       long depth_stride, float *out) {
    long tile = side == 0 ? GEMM_MR : GEMM_NR;
    long padded = (outer + tile - 1) / tile * tile;
    for (long pc = 0; pc < depth; pc += GEMM_KC) {
        long kc = depth - pc < GEMM_KC ? depth - pc : GEMM_KC;
        const float *block = source + pc * depth_stride + first * outer_stride;
        float *panels = out + pc * padded + first * kc;
        if (side == 0) NAME(pack_a)(count, kc, block, outer_stride, depth_stride, panels);
        else NAME(pack_b)(count, kc, block, depth_stride, outer_stride, panels);
    }
}

static const zoo_kernel_table NAME(kernels) = {
    .gemm = NAME(gemm), .pack = NAME(pack), .tile_rows = GEMM_MR, .tile_columns = GEMM_NR, .depth_block = GEMM_KC,
    .activation_forward = NAME(activation_forward), .activation_backward = NAME(activation_backward),
    .sum = NAME(sum), .max = NAME(max), .dot = NAME(dot), .squared_deviations = NAME(squared_deviations), .centered_dot = NAME(centered_dot),
    .layer_norm_row = NAME(layer_norm_row),
    .softmax_row = NAME(softmax_row), .scale_shift_activation = NAME(scale_shift_activation),
    .depthwise_plane = NAME(depthwise_plane), .depthwise_channels = NAME(depthwise_channels), .depthwise_rows = NAME(depthwise_rows), .depthwise_flat = NAME(depthwise_flat), .conv_direct = NAME(conv_direct), .vector_width = VEC, .max_pool_plane = NAME(max_pool_plane),
    .winograd_input = NAME(winograd_input), .winograd_output = NAME(winograd_output),
    .winograd_filter_row = NAME(winograd_filter_row),
    .adamw_update = NAME(adamw_update),
};

#undef V
#undef VI
#undef VU
#undef GEMM_NR
#undef GEMM_ROW_VECTORS
#undef GEMM_FEW_COLUMNS
#undef EVEN_LANES
#undef UP_A_LANE
#undef DOWN_A_LANE
#undef ODD_LANES
#undef LOW_INTERLEAVE
#undef HIGH_INTERLEAVE
#undef ISA
#undef ISA_TARGET
#undef VEC
#undef GEMM_MR
#undef GEMM_NV
#undef GEMM_KC
#undef GEMM_MC
#undef GEMM_NC

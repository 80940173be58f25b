// The zoo's hot loops in C, one variant per instruction set, chosen at run time.
// Each variant is compiled with the compiler's per-function `target` attribute, so the package needs
// no machine flags; `zoo_isa_select` switches every kernel to another path at once.
#ifndef ZOO_CKERNELS_H
#define ZOO_CKERNELS_H

#include <stddef.h>

/// Instruction-set paths, narrowest first. Baseline is SSE2 on x86-64, NEON on aarch64, plain C elsewhere.
typedef enum { ZOO_ISA_BASELINE = 0, ZOO_ISA_AVX2 = 1, ZOO_ISA_AVX512 = 2 } zoo_isa;

/// The widest path this CPU and operating system support (cpuid + xgetbv, read once).
zoo_isa zoo_isa_detected(void);
/// The path every kernel uses now (the detected one until `zoo_isa_select`).
zoo_isa zoo_isa_active(void);
/// Switches every kernel to `isa`; returns 0 (and changes nothing) when the CPU lacks it.
int zoo_isa_select(zoo_isa isa);
/// "avx512", "avx2" or "baseline".
const char *zoo_isa_name(zoo_isa isa);
/// The processor's brand string ("AMD EPYC 9R14 …"), or the architecture's name when there is none.
const char *zoo_cpu_model(void);

/// Pointwise activations, in the order of Swift's `Activation`.
typedef enum {
    ZOO_ACT_IDENTITY, ZOO_ACT_RELU, ZOO_ACT_RELU6, ZOO_ACT_GELU, ZOO_ACT_GELU_TANH, ZOO_ACT_SILU,
    ZOO_ACT_HARD_SWISH, ZOO_ACT_HARD_SIGMOID, ZOO_ACT_SIGMOID, ZOO_ACT_TANH
} zoo_activation;

/// A weight matrix packed once into the GEMM's panel layout for one path (`zoo_pack`).
typedef struct {
    const float *data;
    long rows, columns;  // of the matrix as the GEMM sees it (op(A) is rows×depth, op(B) depth×columns)
    long depth;
    int side;            // 0: packed as the left operand A, 1: as the right operand B
    zoo_isa isa;         // panels are shaped for this path
    long panel_depth;    // A's depths from one panel to the next, for depths inside one block; 0: the block's own
} zoo_packed_matrix;

/// What the GEMM applies as it stores C (all optional; NULL / identity skip a step):
///   C = activation((alpha·op(A)·op(B) + beta·C) · row_scale[i] + row_shift[i] + column_shift[j] + residual[i, j])
typedef struct {
    const float *row_scale;     // M values (a folded batch norm's scale)
    const float *row_shift;     // M values (a conv's bias, a batch norm's shift)
    const float *column_shift;  // N values (a Linear layer's bias)
    const float *residual;      // M×N, row stride residual_stride (a residual branch)
    long residual_stride;
    zoo_activation activation;
} zoo_epilogue;

/// One GEMM on the calling thread: C (M×N, row stride ldc) = epilogue(alpha·op(A)·op(B) + beta·C).
/// Operands are given by element strides, so transposes are free: op(A)[i, p] = a[i·a_row + p·a_col],
/// op(B)[p, j] = b[p·b_row + j·b_col]. A packed operand replaces `a` (or `b`) and starts at row
/// `packed_offset` of A (or column `packed_offset` of B), a multiple of the path's tile (`zoo_gemm_tile`).
typedef struct {
    long m, n, k;
    float alpha, beta;
    const float *a; long a_row, a_col;
    const float *b; long b_row, b_col;
    float *c; long ldc;
    const zoo_packed_matrix *packed;
    long packed_offset;
    const zoo_epilogue *epilogue;
} zoo_gemm_call;

void zoo_gemm(const zoo_gemm_call *call);

/// Whether GEMMs called on this thread stay on it (a thread-local flag): set by callers that already run
/// many small products in parallel, one per thread.
int zoo_gemm_stays_on_thread(void);
void zoo_set_gemm_stays_on_thread(int stays);

/// The active path's register tile: rows of A and columns of B per micro-kernel call.
void zoo_gemm_tile(long *rows, long *columns);
/// The active path's floats per vector: the micro-kernel's columns come in vectors of this many.
long zoo_vector_width(void);

/// The active path's depth block: the GEMM runs K in blocks of this many, and packs them one after another.
long zoo_gemm_depth_block(void);

/// Floats needed to pack a rows×depth A (side 0) or depth×columns B (side 1) for the active path.
size_t zoo_packed_count(int side, long outer, long depth);
/// Packs op(A) (side 0, outer = M) or op(B) (side 1, outer = N) given by strides into `storage`; only its outer
/// rows (A) or columns (B) first ..< first + count (first a multiple of the tile, `zoo_gemm_tile`), so that a
/// matrix can be packed in parts. The result describes the whole matrix.
zoo_packed_matrix zoo_pack(int side, long outer, long depth, long first, long count, const float *source,
                           long outer_stride, long depth_stride, float *storage);

/// The inverse of `zoo_pack`: writes the packed matrix's element (o, d) to destination[o · outer_stride + d · depth_stride].
void zoo_unpack(const zoo_packed_matrix *packed, float *destination, long outer_stride, long depth_stride);

// Pointwise and row kernels (count elements; input may equal output).
void zoo_activation_forward(zoo_activation activation, const float *input, float *output, long count);
/// input_grad += output_grad · f'(input)
void zoo_activation_backward(zoo_activation activation, const float *input, const float *output_grad,
                             float *input_grad, long count);
/// output = activation(input · scale + shift): a batch norm at inference, one plane at a time.
void zoo_scale_shift_activation(const float *input, float *output, long count, float scale, float shift,
                                zoo_activation activation);
float zoo_sum(const float *values, long count);
float zoo_max(const float *values, long count);
float zoo_dot(const float *a, const float *b, long count);
/// Σ (x − mean)²
float zoo_squared_deviations(const float *values, long count, float mean);
/// y = (x − mean) / √(var + ε) · weight + bias over one row of `count` (weight, bias may be NULL: 1 and 0);
/// the row's mean and 1/√(var + ε) are stored where `mean` and `inv_std` point (a layer norm).
void zoo_layer_norm_row(const float *x, float *y, long count, const float *weight, const float *bias, float epsilon,
                        float *mean, float *inv_std);
/// Σ a · (b − mean): a batch norm's Σ dy · (x − mean) in its backward.
float zoo_centered_dot(const float *a, const float *b, long count, float mean);
/// y = softmax(x) over one row (x may equal y); a row of −∞ is shifted by 0, not by −∞.
void zoo_softmax_row(const float *x, float *y, long count);

/// The constants of one AdamW step (torch.optim.AdamW): decay = 1 − lr·weight_decay, step_size = lr / (1 − β1ᵗ),
/// root_correction2 = √(1 − β2ᵗ).
typedef struct { float decay, beta1, beta2, step_size, root_correction2, epsilon; } zoo_adamw;
/// One AdamW step on `count` parameters w with gradients g, moments m and v updated in place:
///   w ·= decay; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; w −= step_size · m / (√v / root_correction2 + ε)
void zoo_adamw_update(float *w, float *m, float *v, const float *g, long count, const zoo_adamw *h);

/// One channel of a convolution over one image plane (a depthwise conv's unit of work).
typedef struct {
    long height, width, out_height, out_width;
    long kernel_height, kernel_width, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
} zoo_plane_geometry;

/// Floats of scratch `zoo_depthwise_plane` and `zoo_max_pool_plane` need for this geometry.
size_t zoo_depthwise_scratch_count(const zoo_plane_geometry *g);
/// output (out_height × out_width) = activation(scale · (the KH×KW filter `weight` slid over `input`) + shift).
/// The plane is first copied, zero-padded, into `scratch` with its columns split by stride phase, so that
/// every tap of every stride reads consecutive floats.
void zoo_depthwise_plane(const zoo_plane_geometry *g, const float *input, const float *weight, float scale, float shift,
                         zoo_activation activation, float *output, float *scratch);
/// Channels one `zoo_depthwise_channels` call takes at most: the active path's floats per vector.
long zoo_depthwise_channel_block(void);
/// Floats of scratch `zoo_depthwise_channels` needs for this geometry.
size_t zoo_depthwise_channels_scratch_count(const zoo_plane_geometry *g);
/// `zoo_depthwise_plane` for `channels` (≤ `zoo_depthwise_channel_block()`) consecutive planes at once, a channel
/// per vector lane: plane c (input + c·height·width, output + c·out_height·out_width) is filtered by
/// weight + c·KH·KW, then scale[c] and shift[c] (NULL: 1 and 0) and the activation. A band of rows at a time is
/// transposed into `scratch`, zero-padded, a vector per pixel; so small planes (rows of 7 or 14) fill every lane.
void zoo_depthwise_channels(const zoo_plane_geometry *g, long channels, const float *input, const float *weight,
                            const float *scale, const float *shift, zoo_activation activation, float *output,
                            float *scratch);
/// `zoo_depthwise_plane` for K×K filters, K = 3 or 5, stride 1 or 2 both ways, dilation 1, out_height ≥ 4, on
/// `channels` planes: plane c read from input + c·in_stride, filtered by weight + c·K·K, then scale[c] and shift[c]
/// (NULL: 1 and 0) and the activation, written to output + c·out_stride. Four output rows × a few vectors of
/// columns at a time read the input rows in place, each row's vectors once per tap column for all four rows (stride
/// 2 with padding K/2 or one less: once, split into even and odd columns; other paddings: two vectors and their
/// even lanes per tap column); padding columns are masked out of the loads and padding rows skipped: no padded
/// copy and no transposes, so it suits planes whose rows fill vectors.
void zoo_depthwise_rows(const zoo_plane_geometry *g, long channels, const float *input, long in_stride,
                        const float *weight, const float *scale, const float *shift, zoo_activation activation,
                        float *output, long out_stride);
/// `zoo_depthwise_rows`' contract for a plane of stride 1 whose rows keep their width (out_width = width) and
/// whose output fits 16 vectors, any filter and dilation: the plane's pixels as one run of vectors, each tap a load
/// shifted by its offset in the plane, masked where it reads past a row's ends or the plane's (a 7×7 map is 4
/// vectors on AVX-512, where its rows would be 7 of 16 lanes each).
void zoo_depthwise_flat(const zoo_plane_geometry *g, long channels, const float *input, long in_stride,
                        const float *weight, const float *scale, const float *shift, zoo_activation activation,
                        float *output, long out_stride);
/// A convolution of few input channels (an RGB stem) computed directly, with no im2col matrix: output rows
/// first ..< first + count of every output channel o (output + o·out_height·out_width) = activation(scale[o] ·
/// Σ over the `channels` input planes and the filter's taps + shift[o]) (scale, shift NULL: 1 and 0). `weights` is
/// the O × C·KH·KW filter matrix packed as the GEMM's left operand (depth within one block), on any path; stride
/// 1 or 2 both ways, dilation 1. Each input vector a tap loads serves a panel of output channels.
void zoo_conv_direct(const zoo_plane_geometry *g, long channels, const float *input, const zoo_packed_matrix *weights,
                     long out_channels, const float *scale, const float *shift, zoo_activation activation, long first,
                     long count, float *output);
/// output (out_height × out_width) = the largest value of each KH×KW window (padding never wins; NaN does),
/// through the same padded scratch as `zoo_depthwise_plane` (`zoo_depthwise_scratch_count` floats); 3×3 windows of
/// stride 2 padded by one column on the left or none read the plane in place, split into even and odd columns.
void zoo_max_pool_plane(const zoo_plane_geometry *g, const float *input, float *output, float *scratch);

/// Winograd F(4×4, 3×3) (Lavin & Gray 2015): a stride-1 3×3 conv as 36 products over 6×6 input tiles that
/// overlap by two, each giving a 4×4 output tile (tile t covers outputs from row 4·(t / tiles_w), column
/// 4·(t mod tiles_w)).
typedef struct {
    long height, width, out_height, out_width, pad_top, pad_left;
    long tiles_h, tiles_w;  // ⌈out_height / 4⌉, ⌈out_width / 4⌉
} zoo_winograd_geometry;

/// Transforms tiles first..<first + count of one input plane, each tile d to Bᵀ d B: value ξ (0..<36) of tile t
/// goes to out[ξ · xi_stride + t − first].
void zoo_winograd_input(const zoo_winograd_geometry *g, const float *plane, long first, long count, float *out,
                        long xi_stride);
/// Tiles first..<first + count of one output plane from their 36 products (tile t's in[ξ · xi_stride + t − first]):
/// y = Aᵀ m A, stored as activation(y · scale + shift + residual) (residual in the output plane's layout, or NULL).
void zoo_winograd_output(const zoo_winograd_geometry *g, const float *in, long first, long count, long xi_stride,
                         float scale, float shift, const float *residual, zoo_activation activation, float *out);
/// Row r of the transformed filters' points, out[c] = Σ_j transform[c][j] · Σ_i row[i] · taps[3i + j] over `count`
/// floats (row = G[r], transform = G, 6 × 3): the 9 taps of every filter packed alike (as GEMM operands), each
/// read once for the row's six points.
void zoo_winograd_filter_row(const float *const *taps, const float *row, const float *transform, long count,
                             float *const *out);

/// A job's unit of work: part `part` of the job whose state `context` points to.
typedef void (*zoo_task)(void *context, long part);
/// Runs task(context, p) for every p in 0..<parts at once, on the calling thread (part 0) and the zoo's pool,
/// and returns when all are done. Nested calls (from inside a part) and calls made while another thread's
/// job runs run their parts one after another on the calling thread.
void zoo_parallel(long parts, zoo_task task, void *context);

#endif

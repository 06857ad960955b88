// A decoding step's fused kernels (one token, every matrix ternary with one scale). A layer is five launches: Q/K/V,
// attention, output, gate/up, down. Each matrix kernel splits the rows over about one block per SM, and each block
// first starts copying its whole slice of the codes, and the norm's weights, into shared memory (bulk copies,
// infer_bulk.cuh: one instruction a run of rows), before it waits for the previous kernel: launched overlapped
// (programmatic dependent launch), the next kernel's blocks are resident and streaming their weights while the current
// one computes. After the wait a block loads the input vector once into shared memory, normalizes and quantizes it
// there (every block computes the same int8 vector, in the CPU engine's order), then multiplies from shared memory.
// Only then does it let the kernel after it start, so that at most two kernels hold an SM's shared memory (letting
// it start before the wait measured slower on the H100: tg128 597 against 662 t/s).
//
// Shared memory of a block: the codes of its rows (of each matrix), then the input as int8, as floats, its chunk
// statistics and the norm's weights, padded to 64·groups columns (DecodeGrid.InputBytes).

// Warps of a decoding block and the rows of one matrix each takes at most (rows_per_block ≤ 8·8). Sixteen and 32 warps
// measured slower (tg128 707 and 697 against 763 t/s on the H100).
#define DECODE_WARPS 8
#define DECODE_THREADS (DECODE_WARPS * WARP)
#define DECODE_ROWS_PER_WARP 8

// Up to three matrices that read the same input (Q, K and V), each with its rows, scale γ, output and the first row
// it has in the rows of all of them, which the blocks cover rows_per_block at a time.
struct TernarySegments
{
    const uint4* codes[3];
    float* out[3];
    float gamma[3];
    int rows[3];
    int first_row[3];
    int count;
};

// Where the input lives in a block's shared memory, after the codes: q (64·groups int8, in quantize_input's order),
// xs (the input, floats), chunks (8 floats per group: the chunk statistics when the block computes them itself) and
// ws (the norm's weights, which decode_step keeps elsewhere), xs and ws padded with zeros to 64·groups columns.
struct DecodeInput
{
    int4* q;
    float* xs;
    float* chunks;
    float* ws;
};

__device__ __forceinline__ DecodeInput decode_input(uint4* after_codes, int groups)
{
    DecodeInput in;
    in.q = reinterpret_cast<int4*>(after_codes);
    in.xs = reinterpret_cast<float*>(after_codes + 4 * groups);
    in.chunks = in.xs + 64 * groups;
    in.ws = in.chunks + 8 * groups;
    return in;
}

// A vector's chunk statistics (NORM_CHUNK): read by the phase that normalizes it (sums null: that phase's blocks
// compute them from the whole vector), or written by the blocks that write the vector, each for its own rows, with
// the weights of the norm that will read it (weight null: no norm).
struct ChunkStats
{
    float* sums;
    float* largest;
    const float* weight;
};

// Before the wait: zeros the padding of xs and ws past the input's width (the norm's weights are bulk-copied in front
// of it).
__device__ __forceinline__ void zero_input_padding(int width, int groups, DecodeInput in)
{
    for (int c = width + threadIdx.x; c < 64 * groups; c += DECODE_THREADS)
    {
        in.xs[c] = 0.0f;
        in.ws[c] = 0.0f;
    }
}

#define STAGE_BATCH 8
#define STAGE_STATS 4

// After the wait: the input (written by the previous kernel, so read through L2) into xs, float4 at a time, and the
// chunk statistics that came with it (if any) into chunks. A thread loads up to STAGE_BATCH float4 and its share of
// the statistics before it stores any: the compiler cannot tell the shared stores from the global loads, so loads
// and stores interleaved would wait for L2 one load at a time.
__device__ __forceinline__ void stage_input(const float* x, int width, DecodeInput in, ChunkStats stats)
{
    int chunks = stats.sums ? norm_chunks(width) : 0;
    float sums[STAGE_STATS], largest[STAGE_STATS];
#pragma unroll
    for (int k = 0; k < STAGE_STATS; k++)
    {
        int i = threadIdx.x + DECODE_THREADS * k;
        sums[k] = i < chunks ? __ldcg(stats.sums + i) : 0.0f;
        largest[k] = i < chunks ? __ldcg(stats.largest + i) : 0.0f;
    }
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* xs4 = reinterpret_cast<float4*>(in.xs);
    int quads = width / 4;
    for (int i0 = threadIdx.x; i0 < quads; i0 += DECODE_THREADS * STAGE_BATCH)
    {
        float4 v[STAGE_BATCH];
#pragma unroll
        for (int k = 0; k < STAGE_BATCH; k++)
            v[k] = i0 + DECODE_THREADS * k < quads ? __ldcg(x4 + i0 + DECODE_THREADS * k) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
        for (int k = 0; k < STAGE_BATCH; k++)
        {
            if (i0 + DECODE_THREADS * k < quads)
                xs4[i0 + DECODE_THREADS * k] = v[k];
        }
    }
#pragma unroll
    for (int k = 0; k < STAGE_STATS; k++)
    {
        int i = threadIdx.x + DECODE_THREADS * k;
        if (i < chunks)
        {
            in.chunks[i] = sums[k];
            in.chunks[chunks + i] = largest[k];
        }
    }
    // Vectors wider than STAGE_STATS·256 chunks (16,384 columns): the rest one load at a time.
    for (int i = threadIdx.x + DECODE_THREADS * STAGE_STATS; i < chunks; i += DECODE_THREADS)
    {
        in.chunks[i] = __ldcg(stats.sums + i);
        in.chunks[chunks + i] = __ldcg(stats.largest + i);
    }
}

// block_norm_scales on the staged input: the same sums, each chunk read as four float4 (a thread's 16 columns are
// consecutive, so scalar reads would hit the same two banks from every lane of a warp).
__device__ __forceinline__ NormScales staged_norm_scales(const float* xs, const float* ws, int width, float epsilon, float* chunks)
{
    int count = norm_chunks(width);
    for (int k = threadIdx.x; k < count; k += blockDim.x)
    {
        int c0 = k * NORM_CHUNK;
        float v[NORM_CHUNK], w[NORM_CHUNK];
        chunk_from_float4(xs + c0, v);
        chunk_from_float4(ws ? ws + c0 : nullptr, w);
        float2 t = chunk_sums(v, w, ws != nullptr, min(NORM_CHUNK, width - c0));
        chunks[k] = t.x;
        chunks[count + k] = t.y;
    }
    __syncthreads();
    return combine_chunks(chunks, chunks + count, count, ws != nullptr, width, epsilon);
}

// normalize_quantize's arithmetic on the staged input (the residual stream stays as it is): y = (w ⊙ x)·r with
// r = 1/rms(x) (weighted false: y = x), s = 127 / max(max|y|, 1e-5), q = rint(y·s), zero past width. The statistics
// come from `stats` (written by the blocks that wrote x, staged with it) or, without them, from the block's own pass
// over x. q is
// stored with group g's 16-byte chunk k (columns 64g + 16k …) at chunk k·groups + g, so that lanes reading chunk k
// of consecutive groups read consecutive chunks. Waits for the norm's weights; returns s, with q complete.
__device__ float quantize_input(bool weighted, int width, float epsilon, int groups, DecodeInput in, ChunkStats stats)
{
    __syncthreads();
    const float* xs = in.xs;
    const float* ws = in.ws;
    int chunks = norm_chunks(width);
    NormScales n = stats.sums ? combine_chunks(in.chunks, in.chunks + chunks, chunks, weighted, width, epsilon)
                              : staged_norm_scales(xs, weighted ? ws : nullptr, width, epsilon, in.chunks);
    // Four consecutive columns a thread: consecutive threads, consecutive words of shared memory.
    unsigned int* q_words = reinterpret_cast<unsigned int*>(in.q);
    for (int c0 = 4 * threadIdx.x; c0 < 64 * groups; c0 += 4 * DECODE_THREADS)
    {
        float4 x4 = *reinterpret_cast<const float4*>(xs + c0);
        float4 w4 = *reinterpret_cast<const float4*>(ws + c0);
        float v[4] = {x4.x, x4.y, x4.z, x4.w};
        float w[4] = {w4.x, w4.y, w4.z, w4.w};
        unsigned int word = 0;
#pragma unroll
        for (int i = 0; i < 4; i++)
        {
            signed char value = c0 + i < width ? quantize_int8(normalized(v[i], w[i], weighted, n), n.s) : (signed char)0;
            word |= (unsigned int)(unsigned char)value << (8 * i);
        }
        int chunk = ((c0 >> 4) & 3) * groups + (c0 >> 6);
        q_words[chunk * 4 + ((c0 & 15) >> 2)] = word;
    }
    __syncthreads();
    return n.s;
}

// Chunks of NORM_CHUNK columns a thread of quantize_direct holds in registers: inputs up to
// DIRECT_CHUNKS·NORM_CHUNK·DECODE_THREADS = 16,384 columns.
#define DIRECT_CHUNKS 4

// Experiment switch (TERN_CUDA_DEFINES=DECODE_DIRECT_QUANTIZE): the launched decoding kernels quantize their input
// with quantize_direct instead of stage_input and quantize_input. Off until it is measured and checked on a device.
#ifdef DECODE_DIRECT_QUANTIZE
#define DIRECT_QUANTIZE true
#else
#define DIRECT_QUANTIZE false
#endif

__device__ __forceinline__ bool quantizes_direct(int width)
{
    return DIRECT_QUANTIZE && norm_chunks(width) <= DIRECT_CHUNKS * DECODE_THREADS;
}

// quantize_input's values and order without staging x in shared memory: thread t loads chunks t, t + 256, … of x
// (written by the previous kernel: read through L2) into registers, writes their statistics (in
// staged_norm_scales' order) to in.chunks, and after the block's barrier and combine_chunks quantizes them from the
// registers, each chunk's 16 int8 one 16-byte store into q's layout (chunk k of group g at (k mod 4)·groups + k/4).
// The norm's weights are staged in in.ws (padded with zeros); the padding chunks up to 64·groups columns get zeros.
// Needs quantizes_direct(width). Returns s, with q complete.
__device__ float quantize_direct(const float* x, bool weighted, int width, float epsilon, int groups, DecodeInput in)
{
    int count = norm_chunks(width);
    float v[DIRECT_CHUNKS][NORM_CHUNK];
#pragma unroll
    for (int c = 0; c < DIRECT_CHUNKS; c++)
    {
        int c0 = (threadIdx.x + c * DECODE_THREADS) * NORM_CHUNK;
#pragma unroll
        for (int j = 0; j < NORM_CHUNK / 4; j++)
        {
            int column = c0 + 4 * j;
            float4 q = column < width ? __ldcg(reinterpret_cast<const float4*>(x + column)) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            v[c][4 * j] = q.x;
            v[c][4 * j + 1] = q.y;
            v[c][4 * j + 2] = q.z;
            v[c][4 * j + 3] = q.w;
        }
    }
#pragma unroll
    for (int c = 0; c < DIRECT_CHUNKS; c++)
    {
        int k = threadIdx.x + c * DECODE_THREADS;
        if (k < count)
        {
            float w[NORM_CHUNK];
            chunk_from_float4(weighted ? in.ws + k * NORM_CHUNK : nullptr, w);
            float2 t = chunk_sums(v[c], w, weighted, min(NORM_CHUNK, width - k * NORM_CHUNK));
            in.chunks[k] = t.x;
            in.chunks[count + k] = t.y;
        }
    }
    __syncthreads();
    NormScales n = combine_chunks(in.chunks, in.chunks + count, count, weighted, width, epsilon);
#pragma unroll
    for (int c = 0; c < DIRECT_CHUNKS; c++)
    {
        int k = threadIdx.x + c * DECODE_THREADS;
        if (k < 4 * groups)
        {
            int c0 = k * NORM_CHUNK;
            unsigned int words[NORM_CHUNK / 4];
#pragma unroll
            for (int j = 0; j < NORM_CHUNK / 4; j++)
            {
                float4 w4 = *reinterpret_cast<const float4*>(in.ws + c0 + 4 * j);
                float w[4] = {w4.x, w4.y, w4.z, w4.w};
                unsigned int word = 0;
#pragma unroll
                for (int i = 0; i < 4; i++)
                {
                    int column = 4 * j + i;
                    signed char value = c0 + column < width ? quantize_int8(normalized(v[c][column], w[i], weighted, n), n.s) : (signed char)0;
                    word |= (unsigned int)(unsigned char)value << (8 * i);
                }
                words[j] = word;
            }
            in.q[(k & 3) * groups + (k >> 2)] = make_int4((int)words[0], (int)words[1], (int)words[2], (int)words[3]);
        }
    }
    __syncthreads();
    return n.s;
}

// The blocks that write a vector's rows [first, first + n) (first a multiple of NORM_CHUNK) write their chunks'
// statistics: values[local] holds row first + local, in shared memory, complete (a barrier after the writes).
__device__ __forceinline__ void write_chunk_stats(const float* values, int first, int n, ChunkStats out)
{
    for (int k = threadIdx.x; k * NORM_CHUNK < n; k += blockDim.x)
    {
        int c0 = k * NORM_CHUNK;
        float2 t = chunk_statistics(values + c0, out.weight ? out.weight + first + c0 : nullptr, min(NORM_CHUNK, n - c0));
        int chunk = (first + c0) / NORM_CHUNK;
        out.sums[chunk] = t.x;
        out.largest[chunk] = t.y;
    }
}

// The end of a matrix phase whose output the next phase normalizes (out.sums set): every thread that wrote a row
// (row first + local, value y) hands it over in `produced`, and the block writes its chunks' statistics.
__device__ __forceinline__ void write_rows_stats(float y, bool wrote, int local, int first, int n, ChunkStats out,
    float* produced)
{
    if (!out.sums)
        return;
    if (wrote)
        produced[local] = y;
    __syncthreads();
    write_chunk_stats(produced, first, n, out);
}

// The integer dot products of this warp's rows (warp, warp + 8, … below n) of MATS staged matrices (the second
// `stride` uint4 after the first) with the staged int8 input; every lane gets the totals.
template <int MATS>
__device__ __forceinline__ void staged_rows_dot(const uint4* staged, int stride, int n, int groups, const int4* q,
    int (&acc)[MATS][DECODE_ROWS_PER_WARP])
{
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
#pragma unroll
    for (int m = 0; m < MATS; m++)
    {
#pragma unroll
        for (int r = 0; r < DECODE_ROWS_PER_WARP; r++)
            acc[m][r] = 0;
    }
    int activations = 0;
    for (int g = lane; g < groups; g += WARP)
    {
        int4 a0 = q[g], a1 = q[groups + g], a2 = q[2 * groups + g], a3 = q[3 * groups + g];
        activations = activation_sum16(a3, activation_sum16(a2, activation_sum16(a1, activation_sum16(a0, activations))));
#pragma unroll
        for (int r = 0; r < DECODE_ROWS_PER_WARP; r++)
        {
            int local = warp + r * DECODE_WARPS;
            if (local < n)
            {
#pragma unroll
                for (int m = 0; m < MATS; m++)
                    acc[m][r] += codes_dot64(staged[m * stride + local * groups + g], a0, a1, a2, a3);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < DECODE_ROWS_PER_WARP; r++)
    {
        if (warp + r * DECODE_WARPS < n)
        {
#pragma unroll
            for (int m = 0; m < MATS; m++)
                acc[m][r] = warp_sum_int(acc[m][r] - activations);
        }
    }
}

// The rows of all the segments together.
__device__ __forceinline__ int segments_rows(const TernarySegments& segments)
{
    int last = segments.count - 1;
    return last == 0 ? segments.first_row[0] + segments.rows[0] : last == 1 ? segments.first_row[1] + segments.rows[1]
        : segments.first_row[2] + segments.rows[2];
}

// Thread 0: bulk-copies the codes of the segments' rows [first, first + n) into `staged` (groups uint4 a row).
__device__ __forceinline__ void fill_segments(const TernarySegments& segments, int first, int n, int groups, uint4* staged,
    unsigned long long* fill)
{
#pragma unroll
    for (int k = 0; k < 3; k++)
    {
        if (k < segments.count)
        {
            int lo = max(first, segments.first_row[k]), hi = min(first + n, segments.first_row[k] + segments.rows[k]);
            if (lo < hi)
                bulk_copy(staged + (lo - first) * groups, segments.codes[k] + (long long)(lo - segments.first_row[k]) * groups,
                    (unsigned int)(hi - lo) * groups * 16, fill);
        }
    }
}

// The total of row r of a warp's rows is in acc[r] of every lane; lane r takes it.
__device__ __forceinline__ int lane_row_total(const int (&acc)[DECODE_ROWS_PER_WARP])
{
    int lane = threadIdx.x % WARP, mine = 0;
#pragma unroll
    for (int r = 0; r < DECODE_ROWS_PER_WARP; r++)
        mine = lane == r ? acc[r] : mine;
    return mine;
}

// After the wait for the kernel (or phase) that wrote x: y = (W·q)·(γ/s) for the segments' rows [first, first + n),
// whose codes and norm weights are staged (the caller waited for their fill), set or added (accumulate: the residual
// stream). Lane r of warp w writes row first + w + 8r. x's statistics come from in_stats (sums null: the block
// computes them); with out_stats.sums, the rows written (one segment) get theirs, gathered in `produced` (64 floats
// of shared memory). A block without rows returns at once (n is the same in all its threads).
__device__ __forceinline__ void ternary_rows(const float* x, bool weighted, int width, float epsilon, int groups,
    const TernarySegments& segments, int first, int n, bool accumulate, const uint4* staged, DecodeInput in,
    ChunkStats in_stats, ChunkStats out_stats, float* produced, bool direct)
{
    if (n <= 0)
        return;
    // The value a lane adds to is loaded first, off the critical path.
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    int local = warp + lane * DECODE_WARPS;
    bool writes = lane < DECODE_ROWS_PER_WARP && local < n;
    int row = first + local;
    int k = segments.count > 1 && row >= segments.first_row[1] ? (segments.count > 2 && row >= segments.first_row[2] ? 2 : 1) : 0;
    float* out = k == 0 ? segments.out[0] : k == 1 ? segments.out[1] : segments.out[2];
    int index = row - (k == 0 ? segments.first_row[0] : k == 1 ? segments.first_row[1] : segments.first_row[2]);
    float prior = writes && accumulate ? __ldcg(out + index) : 0.0f;

    ROWS_START
    if (!direct)
        stage_input(x, width, in, in_stats);
    ROWS_MARK(0)
    float s = direct ? quantize_direct(x, weighted, width, epsilon, groups, in) : quantize_input(weighted, width, epsilon, groups, in, in_stats);
    ROWS_MARK(1)

    int acc[1][DECODE_ROWS_PER_WARP];
    staged_rows_dot<1>(staged, 0, n, groups, in.q, acc);
    int mine = lane_row_total(acc[0]);
    ROWS_MARK(2)
    float y = 0.0f;
    if (writes)
    {
        float gamma = k == 0 ? segments.gamma[0] : k == 1 ? segments.gamma[1] : segments.gamma[2];
        float factor = gamma / s;
        float value = (float)mine * factor;
        y = accumulate ? prior + value : value;
        out[index] = y;
    }
    ROWS_MARK(3)
    write_rows_stats(y, writes, local, first, n, out_stats, produced);
    ROWS_MARK(4)
#ifdef STEP_TIMING
    if (threadIdx.x == 0 && blockIdx.x == 0)
        atomicAdd(&rows_cycles[16], 1ull);
#endif
}

// y = (W·q)·(γ/s) for the segments' rows [blockIdx.x·rows_per_block, +rows_per_block), set or added (accumulate:
// the residual stream). Dynamic shared memory: 16·rows_per_block·groups + DecodeGrid.InputBytes(groups) bytes.
extern "C" __global__ void __launch_bounds__(DECODE_THREADS) decode_ternary(const float* x, const float* __restrict__ weight,
    int width, float epsilon, int groups, TernarySegments segments, int rows_per_block, int accumulate)
{
    TIMELINE_START
    extern __shared__ uint4 staged[];
    int first = (int)blockIdx.x * rows_per_block;
    int n = min(rows_per_block, segments_rows(segments) - first);
    DecodeInput in = decode_input(staged + rows_per_block * groups, groups);
    __shared__ unsigned long long fill;
    if (threadIdx.x == 0)
    {
        init_fill(&fill);
        begin_fill(&fill, (unsigned int)n * groups * 16 + norm_bytes(weight, width));
        bulk_copy(in.ws, weight, norm_bytes(weight, width), &fill);
        fill_segments(segments, first, n, groups, staged, &fill);
    }
    zero_input_padding(width, groups, in);
    __syncthreads();
    wait_for_previous_kernel();
    TIMELINE_RELEASED
    let_next_kernel_start();
    unsigned int parity = 0;
    wait_fill(&fill, parity);
    ChunkStats none = {};
    ternary_rows(x, weight != nullptr, width, epsilon, groups, segments, first, n, accumulate != 0, staged, in, none, none,
        nullptr, quantizes_direct(width));
    TIMELINE_END(TIMELINE_TERNARY)
}

// After the wait for the kernel (or phase) that wrote x: h = act(gate·x) ⊙ (up·x) for the FFN's rows
// [first, first + n) (act: ReLU² or SiLU), whose codes of both matrices are staged `stride` uint4 apart (the
// caller waited for their fill). Statistics and a block without rows as in ternary_rows.
__device__ __forceinline__ void gate_up_rows(const float* x, bool weighted, int width, float epsilon, int groups,
    float gate_gamma, float up_gamma, int first, int n, int stride, bool silu, float* h, const uint4* staged,
    DecodeInput in, ChunkStats in_stats, ChunkStats out_stats, float* produced, bool direct)
{
    if (n <= 0)
        return;
    ROWS_START
    if (!direct)
        stage_input(x, width, in, in_stats);
    ROWS_MARK(8)
    float s = direct ? quantize_direct(x, weighted, width, epsilon, groups, in) : quantize_input(weighted, width, epsilon, groups, in, in_stats);
    ROWS_MARK(9)

    int acc[2][DECODE_ROWS_PER_WARP];
    staged_rows_dot<2>(staged, stride, n, groups, in.q, acc);
    ROWS_MARK(10)
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    int local = warp + lane * DECODE_WARPS;
    int gate_dot = lane_row_total(acc[0]), up_dot = lane_row_total(acc[1]);
    bool writes = lane < DECODE_ROWS_PER_WARP && local < n;
    float y = 0.0f;
    if (writes)
    {
        float gate_factor = gate_gamma / s, up_factor = up_gamma / s;
        float g = (float)gate_dot * gate_factor;
        float u = (float)up_dot * up_factor;
        float a = silu ? g / (1.0f + portable_exp(-g)) : fmaxf(g, 0.0f) * fmaxf(g, 0.0f);
        y = a * u;
        h[first + local] = y;
    }
    ROWS_MARK(11)
    write_rows_stats(y, writes, local, first, n, out_stats, produced);
    ROWS_MARK(12)
}

// h = act(gate·x) ⊙ (up·x) for the FFN's rows [blockIdx.x·rows_per_block, +rows_per_block) (act: ReLU² or SiLU);
// the block stages its rows of both matrices. Dynamic shared memory: 32·rows_per_block·groups +
// DecodeGrid.InputBytes(groups) bytes.
extern "C" __global__ void __launch_bounds__(DECODE_THREADS) decode_gate_up(const float* x, const float* __restrict__ weight,
    int width, float epsilon, int groups, const uint4* __restrict__ gate, float gate_gamma, const uint4* __restrict__ up,
    float up_gamma, int rows, int rows_per_block, int silu, float* __restrict__ h)
{
    TIMELINE_START
    extern __shared__ uint4 staged[];
    int first = (int)blockIdx.x * rows_per_block;
    int n = min(rows_per_block, rows - first);
    int stride = rows_per_block * groups;
    DecodeInput in = decode_input(staged + 2 * stride, groups);
    __shared__ unsigned long long fill;
    if (threadIdx.x == 0)
    {
        unsigned int codes = (unsigned int)n * groups * 16;
        init_fill(&fill);
        begin_fill(&fill, 2 * codes + norm_bytes(weight, width));
        bulk_copy(in.ws, weight, norm_bytes(weight, width), &fill);
        bulk_copy(staged, gate + (long long)first * groups, codes, &fill);
        bulk_copy(staged + stride, up + (long long)first * groups, codes, &fill);
    }
    zero_input_padding(width, groups, in);
    __syncthreads();
    wait_for_previous_kernel();
    TIMELINE_RELEASED
    let_next_kernel_start();
    unsigned int parity = 0;
    wait_fill(&fill, parity);
    ChunkStats none = {};
    gate_up_rows(x, weight != nullptr, width, epsilon, groups, gate_gamma, up_gamma, first, n, stride, silu != 0, h,
        staged, in, none, none, nullptr, quantizes_direct(width));
    TIMELINE_END(TIMELINE_GATE_UP)
}

#define DECODE_SCORES 8
#define DECODE_VALUES 32

// The cached keys and values of head h's KV head at positions [from, position), asked into L2 (by the group's first
// head only).
__device__ __forceinline__ void prefetch_head_cache(const float* k_cache, const float* v_cache, int h, int from, int position,
    int heads, int kv_heads, int head_dim)
{
    int group = heads / kv_heads, kv_head = h / group;
    int kv_len = kv_heads * head_dim;
    if (h % group != 0 || from >= position)
        return;
    int lines = head_dim / 32;
    for (int i = threadIdx.x; i < (position - from) * lines; i += blockDim.x)
    {
        long long offset = (long long)(from + i / lines) * kv_len + kv_head * head_dim + (i % lines) * 32;
        prefetch_l2(k_cache + offset);
        prefetch_l2(v_cache + offset);
    }
}

// One token's attention for head h (blocks of 256 threads), RoPE and the cache write included: the new query and key
// (k_new, this head's KV head; both written by the previous kernel or phase, so read through L2) are rotated in
// shared memory, the key kept there for the last position and written to the cache by the group's first head, as is
// the new value; earlier positions come from the cache, the first `staged` of them from copies in shared memory
// (staged_k, staged_v: head_dim floats a position). Otherwise the arithmetic of `attention`. With
// out_stats.sums (head_dim a multiple of NORM_CHUNK), the head's output columns get their chunk statistics. smem:
// (3·head_dim + position + 1) floats.
__device__ __forceinline__ void attend_decode_head(int h, const float* q, const float* k_new, const float* v_new,
    float* k_cache, float* v_cache, const float* c, const float* sn, int position, int heads, int kv_heads, int head_dim,
    int neox, float* out, float* smem, float* reduce, ChunkStats out_stats, const float* staged_k, const float* staged_v,
    int staged)
{
    ROWS_START
    int group = heads / kv_heads, kv_head = h / group;
    int kv_len = kv_heads * head_dim;
    int n = position + 1;
    float* qs = smem;
    float* ks = smem + head_dim;
    float* vs = smem + 2 * head_dim;
    float* p = smem + 3 * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
    {
        float qd = __ldcg(q + h * head_dim + d), kd = __ldcg(k_new + kv_head * head_dim + d), vd = __ldcg(v_new + kv_head * head_dim + d);
        qs[d] = qd;
        ks[d] = kd;
        vs[d] = vd;
    }
    __syncthreads();
    rotate(qs, qs, head_dim, head_dim, c, sn, neox);
    rotate(ks, ks, head_dim, head_dim, c, sn, neox);
    __syncthreads();
    if (h % group == 0)
    {
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
        {
            k_cache[(long long)position * kv_len + kv_head * head_dim + d] = ks[d];
            v_cache[(long long)position * kv_len + kv_head * head_dim + d] = vs[d];
        }
    }

    ROWS_MARK(13)
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, warps = blockDim.x / WARP;
    float scale = 1.0f / sqrtf((float)head_dim);
    // Each warp takes DECODE_SCORES positions at a time, so that their keys' loads are in flight together.
    for (int j0 = warp * DECODE_SCORES; j0 < n; j0 += warps * DECODE_SCORES)
    {
        const float* kr[DECODE_SCORES];
#pragma unroll
        for (int r = 0; r < DECODE_SCORES; r++)
        {
            int j = j0 + r;
            kr[r] = j >= position ? ks : j < staged ? staged_k + j * head_dim : k_cache + (long long)j * kv_len + kv_head * head_dim;
        }
        float dots[DECODE_SCORES];
        warp_order_dots<DECODE_SCORES>(qs, kr, head_dim, dots);
#pragma unroll
        for (int r = 0; r < DECODE_SCORES; r++)
        {
            if (lane == 0 && j0 + r < n)
                p[j0 + r] = dots[r] * scale;
        }
    }
    __syncthreads();
    ROWS_MARK(14)

    softmax_in_place(p, n, reduce);
    ROWS_MARK(15)

    // Each dimension's sum runs over the positions in order; the cached values of DECODE_VALUES positions are loaded
    // before they are added, so that their loads (from L2) are in flight together.
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
    {
        float acc = 0.0f;
        for (int j = 0; j < staged; j++)
            acc += p[j] * staged_v[j * head_dim + d];
        const float* vr = v_cache + kv_head * head_dim + d;
        for (int j0 = staged; j0 < position; j0 += DECODE_VALUES)
        {
            float v[DECODE_VALUES];
#pragma unroll
            for (int k = 0; k < DECODE_VALUES; k++)
                v[k] = j0 + k < position ? vr[(long long)(j0 + k) * kv_len] : 0.0f;
#pragma unroll
            for (int k = 0; k < DECODE_VALUES; k++)
            {
                if (j0 + k < position)
                    acc += p[j0 + k] * v[k];
            }
        }
        acc += p[position] * vs[d];
        out[h * head_dim + d] = acc;
        // The query is no longer read: its place holds the head's output.
        qs[d] = acc;
    }
#ifdef STEP_TIMING
    __syncthreads();
#endif
    ROWS_MARK(17)
    if (out_stats.sums)
    {
        __syncthreads();
        write_chunk_stats(qs, h * head_dim, head_dim, out_stats);
    }
    ROWS_MARK(18)
}

// A block per head: attend_decode_head. The position (copied up before the step's first kernel) and the head's cached
// keys and values (written by earlier steps) do not depend on the previous kernel: the cached keys and values of the
// first `capacity` positions are bulk-copied into shared memory, and the lines of any later ones fetched into L2,
// while Q, K and V are computed. Dynamic shared memory: (3·head_dim + context + 2·capacity·head_dim) floats.
extern "C" __global__ void __launch_bounds__(256) attention_decode(const float* q, const float* k_new,
    const float* v_new, float* __restrict__ k_cache, float* __restrict__ v_cache, const float* __restrict__ cos_table,
    const float* __restrict__ sin_table, const int* __restrict__ step, int heads, int kv_heads, int head_dim, int neox,
    float* __restrict__ out, int context, int capacity)
{
    TIMELINE_START
    extern __shared__ float smem[];
    __shared__ float reduce[32];
    __shared__ unsigned long long fill;
    int h = blockIdx.x;
    let_next_kernel_start();
    int position = step[0];
    int staged = min(position, capacity);
    float* staged_k = smem + 3 * head_dim + context;
    float* staged_v = staged_k + capacity * head_dim;
    int kv_head = h / (heads / kv_heads);
    long long kv_len = (long long)kv_heads * head_dim;
    unsigned int row_bytes = (unsigned int)head_dim * 4;
    // staged is the same in all the block's threads.
    if (staged > 0)
    {
        if (threadIdx.x == 0)
        {
            init_fill(&fill);
            begin_fill(&fill, 2u * (unsigned int)staged * row_bytes);
        }
        __syncthreads();
        for (int j = threadIdx.x; j < staged; j += blockDim.x)
        {
            bulk_copy(staged_k + j * head_dim, k_cache + j * kv_len + kv_head * head_dim, row_bytes, &fill);
            bulk_copy(staged_v + j * head_dim, v_cache + j * kv_len + kv_head * head_dim, row_bytes, &fill);
        }
    }
    prefetch_head_cache(k_cache, v_cache, h, staged, position, heads, kv_heads, head_dim);
    wait_for_previous_kernel();
    TIMELINE_RELEASED
    if (staged > 0)
    {
        unsigned int parity = 0;
        wait_fill(&fill, parity);
    }
    int half = head_dim / 2;
    ChunkStats none = {};
    attend_decode_head(h, q, k_new, v_new, k_cache, v_cache, cos_table + (long long)position * half,
        sin_table + (long long)position * half, position, heads, kv_heads, head_dim, neox, out, smem, reduce, none,
        staged_k, staged_v, staged);
    TIMELINE_END(TIMELINE_ATTENTION)
}

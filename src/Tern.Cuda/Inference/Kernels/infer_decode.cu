// A decoding step's fused kernels (one token, every matrix ternary with one scale). A layer is five launches: Q/K/V,
// attention, output, gate/up, down. Each matrix kernel splits the rows over about one block per SM, and each block
// first starts copying its whole slice of the codes, and the norm's weights, into shared memory (cp.async, which
// holds no registers while the data is on its way), before it waits for the previous kernel: launched overlapped
// (programmatic dependent launch), the next kernel's blocks are resident and streaming their weights while the current
// one computes. After the wait a block loads the input vector once into shared memory, normalizes and quantizes it
// there (every block computes the same int8 vector, in the CPU engine's order), then multiplies from shared memory.
// Only then does it let the kernel after it start, so that at most two kernels hold an SM's shared memory (letting
// it start before the wait measured slower on the H100: tg128 597 against 662 t/s).
//
// Shared memory of a block: the codes of its rows (of each matrix), then the input as int8, as floats and the norm's
// weights, each padded to 64·groups columns (DecodeGrid.InputBytes).

// Warps of a decoding block and the rows of one matrix each takes at most (rows_per_block ≤ 8·8).
#define DECODE_WARPS 8
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

__device__ __forceinline__ void copy_async_16(void* shared, const void* global)
{
    unsigned int address = (unsigned int)__cvta_generic_to_shared(shared);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(address), "l"(global) : "memory");
}

__device__ __forceinline__ void copy_async_commit()
{
    asm volatile("cp.async.commit_group;" ::: "memory");
}

// Waits until all but the `pending` most recently committed groups of this thread's copies have arrived.
template <int pending>
__device__ __forceinline__ void copy_async_wait()
{
    asm volatile("cp.async.wait_group %0;" ::"n"(pending) : "memory");
}

// Starts the copy of `count` consecutive uint4 into shared memory, spread over the block's threads.
__device__ __forceinline__ void stage_async(const uint4* __restrict__ source, int count, uint4* staged)
{
    for (int i = threadIdx.x; i < count; i += DECODE_WARPS * WARP)
        copy_async_16(staged + i, source + i);
}

// Where the input lives in a block's shared memory, after the codes: q (64·groups int8, in quantize_input's order),
// xs (the input, floats) and ws (the norm's weights), both padded with zeros to 64·groups columns.
struct DecodeInput
{
    int4* q;
    float* xs;
    float* ws;
};

__device__ __forceinline__ DecodeInput decode_input(uint4* after_codes, int groups)
{
    DecodeInput in;
    in.q = reinterpret_cast<int4*>(after_codes);
    in.xs = reinterpret_cast<float*>(after_codes + 4 * groups);
    in.ws = in.xs + 64 * groups;
    return in;
}

// Before the wait: starts copying the norm's weights (width a multiple of 4) as their own group of copies, and zeros
// the padding of xs and ws. The codes' copies are committed after these.
__device__ __forceinline__ void stage_norm_weights(const float* __restrict__ weight, int width, int groups, DecodeInput in)
{
    if (weight)
        stage_async(reinterpret_cast<const uint4*>(weight), width / 4, reinterpret_cast<uint4*>(in.ws));
    copy_async_commit();
    for (int c = width + threadIdx.x; c < 64 * groups; c += 256)
    {
        in.xs[c] = 0.0f;
        in.ws[c] = 0.0f;
    }
}

#define STAGE_BATCH 8

// After the wait: the input (written by the previous kernel, so read through L2) into xs, float4 at a time. A thread
// loads up to STAGE_BATCH float4 before it stores any: the compiler cannot tell the shared stores from the global
// loads, so loads and stores interleaved would wait for L2 one load at a time.
__device__ __forceinline__ void stage_input(const float* x, int width, DecodeInput in)
{
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* xs4 = reinterpret_cast<float4*>(in.xs);
    int quads = width / 4;
    for (int i0 = threadIdx.x; i0 < quads; i0 += 256 * STAGE_BATCH)
    {
        float4 v[STAGE_BATCH];
#pragma unroll
        for (int k = 0; k < STAGE_BATCH; k++)
            v[k] = i0 + 256 * k < quads ? __ldcg(x4 + i0 + 256 * k) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
        for (int k = 0; k < STAGE_BATCH; k++)
        {
            if (i0 + 256 * k < quads)
                xs4[i0 + 256 * k] = v[k];
        }
    }
}

// normalize_quantize's arithmetic on the staged input (the residual stream stays as it is): y = w ⊙ x / rms(x)
// (weighted false: y = x), s = 127 / max(max|y|, 1e-5), q = rint(y·s), zero past width. q is stored with group g's
// 16-byte chunk k (columns 64g + 16k …) at chunk k·groups + g, so that lanes reading chunk k of consecutive groups
// read consecutive chunks. Waits for the norm's weights; returns s, with q complete.
__device__ float quantize_input(bool weighted, int width, float epsilon, int groups, DecodeInput in, float* reduce)
{
    copy_async_wait<1>();
    __syncthreads();
#ifdef DECODE_SKIP_QUANTIZE
    // Experiment hook (wrong tokens): what the normalize-and-quantize costs.
    return 1.0f;
#endif
    const float* xs = in.xs;
    const float* ws = in.ws;
    float inverse = 1.0f;
    if (weighted)
    {
        float v = 0.0f;
        for (int c = threadIdx.x; c < width; c += 256)
            v += xs[c] * xs[c];
        float sum = block_order_total(v, reduce);
        inverse = 1.0f / sqrtf((sum / (float)width) + epsilon);
    }
    // Thread j takes columns j, j + 256, … here and four columns at a time below: consecutive threads, consecutive
    // words of shared memory.
    float largest = 0.0f;
    for (int c = threadIdx.x; c < width; c += 256)
        largest = fmaxf(largest, fabsf(weighted ? ws[c] * (inverse * xs[c]) : xs[c]));
    largest = block_max(largest, reduce);
    float s = 127.0f / fmaxf(largest, 1e-5f);
    unsigned int* q_words = reinterpret_cast<unsigned int*>(in.q);
    for (int c0 = 4 * threadIdx.x; c0 < 64 * groups; c0 += 1024)
    {
        float4 x4 = *reinterpret_cast<const float4*>(xs + c0);
        float4 w4 = *reinterpret_cast<const float4*>(ws + c0);
        float v[4] = {x4.x, x4.y, x4.z, x4.w};
        float w[4] = {w4.x, w4.y, w4.z, w4.w};
        unsigned int word = 0;
#pragma unroll
        for (int i = 0; i < 4; i++)
        {
            signed char value = c0 + i < width ? quantize_int8(weighted ? w[i] * (inverse * v[i]) : v[i], s) : (signed char)0;
            word |= (unsigned int)(unsigned char)value << (8 * i);
        }
        int chunk = ((c0 >> 4) & 3) * groups + (c0 >> 6);
        q_words[chunk * 4 + ((c0 & 15) >> 2)] = word;
    }
    __syncthreads();
    return s;
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

// Starts copying the codes of the segments' rows [first, first + n) into `staged` (row by row, groups uint4 a row).
__device__ __forceinline__ void stage_segments(const TernarySegments& segments, int first, int n, int groups, uint4* staged)
{
#pragma unroll
    for (int k = 0; k < 3; k++)
    {
        if (k < segments.count)
        {
            int lo = max(first, segments.first_row[k]), hi = min(first + n, segments.first_row[k] + segments.rows[k]);
            if (lo < hi)
                stage_async(segments.codes[k] + (long long)(lo - segments.first_row[k]) * groups, (hi - lo) * groups, staged + (lo - first) * groups);
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
// whose codes are staged (or on their way as this thread's cp.async copies), set or added (accumulate: the residual
// stream). Lane r of warp w writes row first + w + 8r.
__device__ __forceinline__ void ternary_rows(const float* x, bool weighted, int width, float epsilon, int groups,
    const TernarySegments& segments, int first, int n, bool accumulate, const uint4* staged, DecodeInput in, float* reduce)
{
    // The value a lane adds to is loaded first, off the critical path.
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    int local = warp + lane * DECODE_WARPS;
    bool writes = lane < DECODE_ROWS_PER_WARP && local < n;
    int row = first + local;
    int k = segments.count > 1 && row >= segments.first_row[1] ? (segments.count > 2 && row >= segments.first_row[2] ? 2 : 1) : 0;
    float* out = k == 0 ? segments.out[0] : k == 1 ? segments.out[1] : segments.out[2];
    int index = row - (k == 0 ? segments.first_row[0] : k == 1 ? segments.first_row[1] : segments.first_row[2]);
    float prior = writes && accumulate ? __ldcg(out + index) : 0.0f;

    stage_input(x, width, in);
    float s = quantize_input(weighted, width, epsilon, groups, in, reduce);
    copy_async_wait<0>();
    __syncthreads();

    int acc[1][DECODE_ROWS_PER_WARP];
    staged_rows_dot<1>(staged, 0, n, groups, in.q, acc);
    int mine = lane_row_total(acc[0]);
    if (writes)
    {
        float gamma = k == 0 ? segments.gamma[0] : k == 1 ? segments.gamma[1] : segments.gamma[2];
        float factor = gamma / s;
        float value = (float)mine * factor;
        out[index] = accumulate ? prior + value : value;
    }
}

// y = (W·q)·(γ/s) for the segments' rows [blockIdx.x·rows_per_block, +rows_per_block), set or added (accumulate:
// the residual stream). Dynamic shared memory: 16·rows_per_block·groups + 576·groups bytes.
extern "C" __global__ void __launch_bounds__(256) decode_ternary(const float* x, const float* __restrict__ weight,
    int width, float epsilon, int groups, TernarySegments segments, int rows_per_block, int accumulate)
{
    extern __shared__ uint4 staged[];
    __shared__ float reduce[32];
    int first = (int)blockIdx.x * rows_per_block;
    int n = min(rows_per_block, segments_rows(segments) - first);
    DecodeInput in = decode_input(staged + rows_per_block * groups, groups);
    stage_norm_weights(weight, width, groups, in);
    stage_segments(segments, first, n, groups, staged);
    copy_async_commit();
    wait_for_previous_kernel();
    let_next_kernel_start();
    ternary_rows(x, weight != nullptr, width, epsilon, groups, segments, first, n, accumulate != 0, staged, in, reduce);
}

// After the wait for the kernel (or phase) that wrote x: h = act(gate·x) ⊙ (up·x) for the FFN's rows
// [first, first + n) (act: ReLU² or SiLU), whose codes of both matrices are staged `stride` uint4 apart (or on their
// way as this thread's cp.async copies).
__device__ __forceinline__ void gate_up_rows(const float* x, bool weighted, int width, float epsilon, int groups,
    float gate_gamma, float up_gamma, int first, int n, int stride, bool silu, float* h, const uint4* staged,
    DecodeInput in, float* reduce)
{
    stage_input(x, width, in);
    float s = quantize_input(weighted, width, epsilon, groups, in, reduce);
    copy_async_wait<0>();
    __syncthreads();

    int acc[2][DECODE_ROWS_PER_WARP];
    staged_rows_dot<2>(staged, stride, n, groups, in.q, acc);
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    int local = warp + lane * DECODE_WARPS;
    int gate_dot = lane_row_total(acc[0]), up_dot = lane_row_total(acc[1]);
    if (lane < DECODE_ROWS_PER_WARP && local < n)
    {
        float gate_factor = gate_gamma / s, up_factor = up_gamma / s;
        float g = (float)gate_dot * gate_factor;
        float u = (float)up_dot * up_factor;
        float a = silu ? g / (1.0f + portable_exp(-g)) : fmaxf(g, 0.0f) * fmaxf(g, 0.0f);
        h[first + local] = a * u;
    }
}

// h = act(gate·x) ⊙ (up·x) for the FFN's rows [blockIdx.x·rows_per_block, +rows_per_block) (act: ReLU² or SiLU);
// the block stages its rows of both matrices. Dynamic shared memory: 32·rows_per_block·groups + 576·groups bytes.
extern "C" __global__ void __launch_bounds__(256) decode_gate_up(const float* x, const float* __restrict__ weight,
    int width, float epsilon, int groups, const uint4* __restrict__ gate, float gate_gamma, const uint4* __restrict__ up,
    float up_gamma, int rows, int rows_per_block, int silu, float* __restrict__ h)
{
    extern __shared__ uint4 staged[];
    __shared__ float reduce[32];
    int first = (int)blockIdx.x * rows_per_block;
    int n = min(rows_per_block, rows - first);
    int stride = rows_per_block * groups;
    DecodeInput in = decode_input(staged + 2 * stride, groups);
    stage_norm_weights(weight, width, groups, in);
    stage_async(gate + (long long)first * groups, n * groups, staged);
    stage_async(up + (long long)first * groups, n * groups, staged + stride);
    copy_async_commit();
    wait_for_previous_kernel();
    let_next_kernel_start();
    gate_up_rows(x, weight != nullptr, width, epsilon, groups, gate_gamma, up_gamma, first, n, stride, silu != 0, h,
        staged, in, reduce);
}

#define DECODE_SCORES 8
#define DECODE_VALUES 32

// The cached keys and values of head h's KV head up to `position`, asked into L2 (by the group's first head only).
__device__ __forceinline__ void prefetch_head_cache(const float* k_cache, const float* v_cache, int h, int position,
    int heads, int kv_heads, int head_dim)
{
    int group = heads / kv_heads, kv_head = h / group;
    int kv_len = kv_heads * head_dim;
    if (h % group != 0)
        return;
    int lines = head_dim / 32;
    for (int i = threadIdx.x; i < position * lines; i += blockDim.x)
    {
        long long offset = (long long)(i / lines) * kv_len + kv_head * head_dim + (i % lines) * 32;
        prefetch_l2(k_cache + offset);
        prefetch_l2(v_cache + offset);
    }
}

// One token's attention for head h (blocks of 256 threads), RoPE and the cache write included: the new query and key
// (k_new, this head's KV head; both written by the previous kernel or phase, so read through L2) are rotated in
// shared memory, the key kept there for the last position and written to the cache by the group's first head, as is
// the new value; earlier positions come from the cache. Otherwise the arithmetic of `attention`. smem: (3·head_dim +
// position + 1) floats.
__device__ __forceinline__ void attend_decode_head(int h, const float* q, const float* k_new, const float* v_new,
    float* k_cache, float* v_cache, const float* c, const float* sn, int position, int heads, int kv_heads, int head_dim,
    int neox, float* out, float* smem, float* reduce)
{
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
            kr[r] = j >= position ? ks : k_cache + (long long)j * kv_len + kv_head * head_dim;
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

    softmax_in_place(p, n, reduce);

    // Each dimension's sum runs over the positions in order; the cached values of DECODE_VALUES positions are loaded
    // before they are added, so that their loads (from L2) are in flight together.
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
    {
        const float* vr = v_cache + kv_head * head_dim + d;
        float acc = 0.0f;
        for (int j0 = 0; j0 < position; j0 += DECODE_VALUES)
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
    }
}

// A block per head: attend_decode_head. The position (copied up before the step's first kernel) and the head's cached
// keys and values (written by earlier steps) do not depend on the previous kernel: the cache's lines are fetched
// into L2 while Q, K and V are computed. Dynamic shared memory: (3·head_dim + context) floats.
extern "C" __global__ void __launch_bounds__(256) attention_decode(const float* q, const float* k_new,
    const float* v_new, float* __restrict__ k_cache, float* __restrict__ v_cache, const float* __restrict__ cos_table,
    const float* __restrict__ sin_table, const int* __restrict__ step, int heads, int kv_heads, int head_dim, int neox,
    float* __restrict__ out)
{
    extern __shared__ float smem[];
    __shared__ float reduce[32];
    int h = blockIdx.x;
    let_next_kernel_start();
    int position = step[0];
    prefetch_head_cache(k_cache, v_cache, h, position, heads, kv_heads, head_dim);
    wait_for_previous_kernel();
    int half = head_dim / 2;
    attend_decode_head(h, q, k_new, v_new, k_cache, v_cache, cos_table + (long long)position * half,
        sin_table + (long long)position * half, position, heads, kv_heads, head_dim, neox, out, smem, reduce);
}

// A decoding step's fused kernels (one token, every matrix ternary with one scale): each block of 256 threads first
// issues the loads of its weight rows, then normalizes and quantizes the input vector itself into shared memory
// (every block computes the same int8 vector, in the CPU engine's order, while its weights arrive), then multiplies.
// A block is thus a whole norm-and-product, and a layer is five launches: Q/K/V, attention, output, gate/up, down.
// They are launched overlapped (programmatic dependent launch): a kernel's blocks start, and load their weights,
// while the previous kernel finishes, and wait for it before they read its output.

#define DECODE_PREFETCH 4

// Up to three matrices that read the same input (Q, K and V), each with its rows, scale γ, output and the first
// block that computes it; blocks of a segment cover DECODE_ROWS rows each.
struct TernarySegments
{
    const uint4* codes[3];
    float* out[3];
    float gamma[3];
    int rows[3];
    int first_block[3];
    int count;
};

// The input staged in shared memory as floats (xs), then normalized and quantized there (qs, q_stride bytes).
__device__ float stage_quantized(const float* __restrict__ x, const float* __restrict__ weight, int width, float epsilon,
    int q_stride, float* xs, signed char* qs, float* reduce)
{
    for (int c = threadIdx.x; c < width; c += 256)
        xs[c] = x[c];
    __syncthreads();
    return normalize_quantize(xs, weight, width, epsilon, qs, q_stride, reduce);
}

// The dot product of ROWS rows (codes, `groups` uint4 each) with the staged int8 input, for this warp; the first
// DECODE_PREFETCH groups of each lane were loaded before the prologue (pre).
template <int ROWS>
__device__ __forceinline__ void rows_dot(const uint4* __restrict__ codes, const int* rows_index, int rows, int groups,
    uint4 (&pre)[ROWS][DECODE_PREFETCH], const signed char* qs, int (&acc)[ROWS])
{
    int lane = threadIdx.x % WARP;
#pragma unroll
    for (int r = 0; r < ROWS; r++)
        acc[r] = 0;
#pragma unroll
    for (int j = 0; j < DECODE_PREFETCH; j++)
    {
        int g = lane + j * WARP;
        if (g < groups)
        {
            const int4* a = reinterpret_cast<const int4*>(qs) + g * 4;
            int4 a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
#pragma unroll
            for (int r = 0; r < ROWS; r++)
            {
                if (rows_index[r] < rows)
                {
                    uint4 v = pre[r][j];
                    acc[r] = dot16(v.w, a3, dot16(v.z, a2, dot16(v.y, a1, dot16(v.x, a0, acc[r]))));
                }
            }
        }
    }
    for (int g = lane + DECODE_PREFETCH * WARP; g < groups; g += WARP)
    {
        const int4* a = reinterpret_cast<const int4*>(qs) + g * 4;
        int4 a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
#pragma unroll
        for (int r = 0; r < ROWS; r++)
        {
            if (rows_index[r] < rows)
            {
                uint4 v = __ldg(codes + (long long)rows_index[r] * groups + g);
                acc[r] = dot16(v.w, a3, dot16(v.z, a2, dot16(v.y, a1, dot16(v.x, a0, acc[r]))));
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++)
        acc[r] = warp_sum_int(acc[r]);
}

template <int ROWS>
__device__ __forceinline__ void prefetch_rows(const uint4* __restrict__ codes, const int* rows_index, int rows, int groups,
    uint4 (&pre)[ROWS][DECODE_PREFETCH])
{
    int lane = threadIdx.x % WARP;
#pragma unroll
    for (int r = 0; r < ROWS; r++)
    {
#pragma unroll
        for (int j = 0; j < DECODE_PREFETCH; j++)
        {
            int g = lane + j * WARP;
            pre[r][j] = (rows_index[r] < rows && g < groups) ? __ldg(codes + (long long)rows_index[r] * groups + g) : make_uint4(0, 0, 0, 0);
        }
    }
}

#define DECODE_ROWS_PER_WARP 2
#define DECODE_ROWS (8 * DECODE_ROWS_PER_WARP)

// y = (W·q)·(γ/s) for each segment's rows, set or added (accumulate: the residual stream). Blocks of 256 threads;
// dynamic shared memory: 4·⌈width/4⌉ + q_stride bytes.
extern "C" __global__ void __launch_bounds__(256) decode_ternary(const float* __restrict__ x, const float* __restrict__ weight,
    int width, float epsilon, int groups, TernarySegments segments, int accumulate)
{
    extern __shared__ float smem[];
    __shared__ float reduce[32];
    int k = 0;
    while (k + 1 < segments.count && (int)blockIdx.x >= segments.first_block[k + 1])
        k++;
    const uint4* codes = segments.codes[k];
    int rows = segments.rows[k];
    int warp = threadIdx.x / WARP;
    int rows_index[DECODE_ROWS_PER_WARP];
#pragma unroll
    for (int r = 0; r < DECODE_ROWS_PER_WARP; r++)
        rows_index[r] = ((int)blockIdx.x - segments.first_block[k]) * DECODE_ROWS + warp * DECODE_ROWS_PER_WARP + r;

    let_next_kernel_start();
    uint4 pre[DECODE_ROWS_PER_WARP][DECODE_PREFETCH];
    prefetch_rows<DECODE_ROWS_PER_WARP>(codes, rows_index, rows, groups, pre);
    wait_for_previous_kernel();

    int q_stride = groups * 64;
    float* xs = smem;
    signed char* qs = reinterpret_cast<signed char*>(smem + ((width + 3) / 4) * 4);
    float s = stage_quantized(x, weight, width, epsilon, q_stride, xs, qs, reduce);

    int acc[DECODE_ROWS_PER_WARP];
    rows_dot<DECODE_ROWS_PER_WARP>(codes, rows_index, rows, groups, pre, qs, acc);
    if (threadIdx.x % WARP == 0)
    {
        float factor = segments.gamma[k] / s;
        float* out = segments.out[k];
#pragma unroll
        for (int r = 0; r < DECODE_ROWS_PER_WARP; r++)
        {
            if (rows_index[r] < rows)
            {
                float value = (float)acc[r] * factor;
                out[rows_index[r]] = accumulate ? out[rows_index[r]] + value : value;
            }
        }
    }
}

#define GATE_UP_ROWS_PER_WARP 2
#define GATE_UP_ROWS (8 * GATE_UP_ROWS_PER_WARP)

// h = act(gate·x) ⊙ (up·x) for the FFN's rows (act: ReLU² or SiLU), each warp two rows of both matrices.
extern "C" __global__ void __launch_bounds__(256) decode_gate_up(const float* __restrict__ x, const float* __restrict__ weight,
    int width, float epsilon, int groups, const uint4* __restrict__ gate, float gate_gamma, const uint4* __restrict__ up,
    float up_gamma, int rows, int silu, float* __restrict__ h)
{
    extern __shared__ float smem[];
    __shared__ float reduce[32];
    int warp = threadIdx.x / WARP;
    int rows_index[GATE_UP_ROWS_PER_WARP];
#pragma unroll
    for (int r = 0; r < GATE_UP_ROWS_PER_WARP; r++)
        rows_index[r] = (int)blockIdx.x * GATE_UP_ROWS + warp * GATE_UP_ROWS_PER_WARP + r;

    let_next_kernel_start();
    uint4 pre_gate[GATE_UP_ROWS_PER_WARP][DECODE_PREFETCH], pre_up[GATE_UP_ROWS_PER_WARP][DECODE_PREFETCH];
    prefetch_rows<GATE_UP_ROWS_PER_WARP>(gate, rows_index, rows, groups, pre_gate);
    prefetch_rows<GATE_UP_ROWS_PER_WARP>(up, rows_index, rows, groups, pre_up);
    wait_for_previous_kernel();

    int q_stride = groups * 64;
    float* xs = smem;
    signed char* qs = reinterpret_cast<signed char*>(smem + ((width + 3) / 4) * 4);
    float s = stage_quantized(x, weight, width, epsilon, q_stride, xs, qs, reduce);

    int acc_gate[GATE_UP_ROWS_PER_WARP], acc_up[GATE_UP_ROWS_PER_WARP];
    rows_dot<GATE_UP_ROWS_PER_WARP>(gate, rows_index, rows, groups, pre_gate, qs, acc_gate);
    rows_dot<GATE_UP_ROWS_PER_WARP>(up, rows_index, rows, groups, pre_up, qs, acc_up);
    if (threadIdx.x % WARP == 0)
    {
        float gate_factor = gate_gamma / s, up_factor = up_gamma / s;
#pragma unroll
        for (int r = 0; r < GATE_UP_ROWS_PER_WARP; r++)
        {
            if (rows_index[r] < rows)
            {
                float g = (float)acc_gate[r] * gate_factor;
                float u = (float)acc_up[r] * up_factor;
                float a = silu ? g / (1.0f + portable_exp(-g)) : fmaxf(g, 0.0f) * fmaxf(g, 0.0f);
                h[rows_index[r]] = a * u;
            }
        }
    }
}

// One token's attention for head blockIdx.x (blocks of 256 threads), RoPE and the cache write included: the new key
// (k_new, this head's KV head) is rotated here, kept in shared memory for the last position and written to the cache
// by the group's first head, as is the new value; earlier positions come from the cache. Otherwise the arithmetic of
// `attention`. Dynamic shared memory: (3·head_dim + context) floats.
extern "C" __global__ void __launch_bounds__(256) attention_decode(const float* __restrict__ q, const float* __restrict__ k_new,
    const float* __restrict__ v_new, float* __restrict__ k_cache, float* __restrict__ v_cache, const float* __restrict__ cos_table,
    const float* __restrict__ sin_table, const int* __restrict__ step, int heads, int kv_heads, int head_dim, int neox,
    float* __restrict__ out)
{
    extern __shared__ float smem[];
    __shared__ float reduce[32];
    int h = blockIdx.x;
    int group = heads / kv_heads, kv_head = h / group;
    int kv_len = kv_heads * head_dim;
    let_next_kernel_start();
    wait_for_previous_kernel();
    int position = step[0];
    int n = position + 1;
    int half = head_dim / 2;
    float* qs = smem;
    float* ks = smem + head_dim;
    float* vs = smem + 2 * head_dim;
    float* p = smem + 3 * head_dim;
    const float* c = cos_table + (long long)position * half;
    const float* sn = sin_table + (long long)position * half;
    rotate(q + h * head_dim, qs, head_dim, head_dim, c, sn, neox);
    rotate(k_new + kv_head * head_dim, ks, head_dim, head_dim, c, sn, neox);
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
        vs[d] = v_new[kv_head * head_dim + d];
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
    for (int j = warp; j < n; j += warps)
    {
        const float* kr = j == position ? ks : k_cache + (long long)j * kv_len + kv_head * head_dim;
        float dot = warp_order_dot(qs, kr, head_dim);
        if (lane == 0)
            p[j] = dot * scale;
    }
    __syncthreads();

    softmax_in_place(p, n, reduce);

    for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
    {
        const float* vr = v_cache + kv_head * head_dim + d;
        float acc = 0.0f;
#pragma unroll 8
        for (int j = 0; j < position; j++)
            acc += p[j] * vr[(long long)j * kv_len];
        acc += p[position] * vs[d];
        out[h * head_dim + d] = acc;
    }
}

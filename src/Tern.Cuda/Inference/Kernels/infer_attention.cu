// RoPE and causal attention over the KV cache in device memory (float32, [context, kv_heads·head_dim] per layer).
// Token t of a call is at position step[0] + t and attends to positions 0 … step[0] + t.

// RoPE of the heads of one vector (width = heads·head_dim) from `in` into `out` (which may be `in`), the block's
// threads sharing the rotation pairs: neox pairs (j, j + half), else (2j, 2j + 1); x0·cos − x1·sin, x0·sin + x1·cos as
// the CPU rounds them.
__device__ __forceinline__ void rotate(const float* in, float* out, int width, int head_dim, const float* c, const float* s, int neox)
{
    int half = head_dim / 2;
    for (int i = threadIdx.x; i < width / 2; i += blockDim.x)
    {
        int head = i / half, j = i % half;
        int a = head * head_dim + (neox ? j : 2 * j), b = head * head_dim + (neox ? j + half : 2 * j + 1);
        float x0 = in[a], x1 = in[b];
        out[a] = (x0 * c[j]) - (x1 * s[j]);
        out[b] = (x0 * s[j]) + (x1 * c[j]);
    }
}

// The CPU engine's softmax over p[0 … n) in place (blocks of 256 threads): the maximum, portable_exp(p − max), the
// sum in block order, then p / sum. Ends with a barrier, so every thread may read every p.
__device__ __forceinline__ void softmax_in_place(float* p, int n, float* reduce)
{
    float largest = -__int_as_float(0x7f800000);
    for (int j = threadIdx.x; j < n; j += blockDim.x)
        largest = fmaxf(largest, p[j]);
    largest = block_max(largest, reduce);
    for (int j = threadIdx.x; j < n; j += blockDim.x)
        p[j] = portable_exp(p[j] - largest);
    float sum = block_order_sum(p, n, reduce);
    for (int j = threadIdx.x; j < n; j += blockDim.x)
        p[j] = p[j] / sum;
    __syncthreads();
}

// A block per token: rotates the token's query (in place) and key (from k_new into the cache at its position) by the
// angles of that position (cos/sin tables [context, head_dim/2], computed on the host exactly as the CPU engine
// computes them), and copies its value into the cache. neox: pairs (i, i + half), else (2i, 2i + 1).
extern "C" __global__ void rope_store(float* __restrict__ q, const float* __restrict__ k_new, const float* __restrict__ v_new,
    float* __restrict__ k_cache, float* __restrict__ v_cache, const float* __restrict__ cos_table,
    const float* __restrict__ sin_table, const int* __restrict__ step, int q_len, int kv_len, int head_dim, int neox)
{
    int t = blockIdx.x;
    long long position = (long long)step[0] + t;
    int half = head_dim / 2;
    const float* c = cos_table + position * half;
    const float* s = sin_table + position * half;
    float* qt = q + (long long)t * q_len;
    rotate(qt, qt, q_len, head_dim, c, s, neox);

    const float* kt = k_new + (long long)t * kv_len;
    float* kc = k_cache + position * kv_len;
    rotate(kt, kc, kv_len, head_dim, c, s, neox);

    const float* vt = v_new + (long long)t * kv_len;
    float* vc = v_cache + position * kv_len;
    for (int i = threadIdx.x; i < kv_len; i += blockDim.x)
        vc[i] = vt[i];
}

#define ATTENTION_MAX_DIMS 4
#define ATTENTION_SCORES 8

// A block per (head, token), blockDim.x = 256, in the CPU engine's arithmetic so that both round alike: every score
// q·k·(1/√d) (a warp per position, warp_order_dot, eight positions per warp at a time), the maximum, p = portable_exp(score − max), the sum of p in
// warp order, p / sum, then each output dimension (a thread each: d = tid, tid + 256, …) summed over the positions
// in order. Head h reads KV head h / (heads / kv_heads). Dynamic shared memory: (head_dim + context) floats, the
// scores of every position the token attends to. out [tokens, heads·head_dim].
extern "C" __global__ void attention(const float* __restrict__ q, const float* __restrict__ k_cache,
    const float* __restrict__ v_cache, const int* __restrict__ step, int heads, int kv_heads, int head_dim,
    float* __restrict__ out)
{
    extern __shared__ float smem[];
    __shared__ float reduce[32];
    float* qs = smem;
    float* p = smem + head_dim;
    int h = blockIdx.x, t = blockIdx.y;
    int kv_head = h / (heads / kv_heads);
    int q_len = heads * head_dim, kv_len = kv_heads * head_dim;
    int n = step[0] + t + 1;
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, warps = blockDim.x / WARP;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
        qs[d] = q[(long long)t * q_len + h * head_dim + d];
    __syncthreads();

    float scale = 1.0f / sqrtf((float)head_dim);
    // Each warp takes ATTENTION_SCORES positions at a time, so that their keys' loads are in flight together.
    for (int j0 = warp * ATTENTION_SCORES; j0 < n; j0 += warps * ATTENTION_SCORES)
    {
        const float* kr[ATTENTION_SCORES];
#pragma unroll
        for (int r = 0; r < ATTENTION_SCORES; r++)
            kr[r] = k_cache + (long long)min(j0 + r, n - 1) * kv_len + kv_head * head_dim;
        float dots[ATTENTION_SCORES];
        warp_order_dots<ATTENTION_SCORES>(qs, kr, head_dim, dots);
#pragma unroll
        for (int r = 0; r < ATTENTION_SCORES; r++)
        {
            if (lane == 0 && j0 + r < n)
                p[j0 + r] = dots[r] * scale;
        }
    }
    __syncthreads();

    softmax_in_place(p, n, reduce);

#pragma unroll
    for (int k = 0; k < ATTENTION_MAX_DIMS; k++)
    {
        int d = threadIdx.x + k * blockDim.x;
        if (d < head_dim)
        {
            const float* vr = v_cache + kv_head * head_dim + d;
            float acc = 0.0f;
#pragma unroll 8
            for (int j = 0; j < n; j++)
                acc += p[j] * vr[(long long)j * kv_len];
            out[(long long)t * q_len + h * head_dim + d] = acc;
        }
    }
}

#define TILE_QUERIES 8
#define TILE_POSITIONS 32
#define TILE_MAX_QUADS 2

// Copies `rows` rows of one KV head (head_dim floats each, a multiple of 4) from a cache into a shared tile.
__device__ __forceinline__ void stage_kv_tile(const float* __restrict__ cache, int first_row, int rows, int kv_len, int offset,
    int head_dim, float* tile)
{
    int quads = head_dim / 4;
    for (int e = threadIdx.x; e < rows * quads; e += blockDim.x)
    {
        int r = e / quads, c = e % quads;
        reinterpret_cast<float4*>(tile + r * head_dim)[c] =
            reinterpret_cast<const float4*>(cache + (long long)(first_row + r) * kv_len + offset)[c];
    }
}

// `attention`'s arithmetic for TILE_QUERIES consecutive tokens of one head per block (blockDim.x = 256): the keys and
// values are read once per block, TILE_POSITIONS rows at a time through shared memory, instead of once per token
// from L2. Every score is still one warp-order dot, every softmax the block's, and every output dimension summed over
// the positions in order (a thread keeps four dimensions' sums), so the results are `attention`'s bit for bit.
// head_dim a multiple of 4, at most 256.
// Dynamic shared memory: ((TILE_QUERIES + TILE_POSITIONS)·head_dim + TILE_QUERIES·p_stride) floats, p_stride at least
// the positions the last token attends to.
extern "C" __global__ void __launch_bounds__(256) attention_tiled(const float* __restrict__ q, const float* __restrict__ k_cache,
    const float* __restrict__ v_cache, const int* __restrict__ step, int heads, int kv_heads, int head_dim, int tokens,
    int p_stride, float* __restrict__ out)
{
    extern __shared__ float smem[];
    __shared__ float reduce[32];
    int h = blockIdx.x, t0 = blockIdx.y * TILE_QUERIES;
    int count = min(TILE_QUERIES, tokens - t0);
    int kv_head = h / (heads / kv_heads);
    int q_len = heads * head_dim, kv_len = kv_heads * head_dim, offset = kv_head * head_dim;
    int first = step[0] + t0;
    int positions = first + count;
    float* qs = smem;
    float* tile = qs + TILE_QUERIES * head_dim;
    float* p = tile + TILE_POSITIONS * head_dim;
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, warps = blockDim.x / WARP;
    for (int e = threadIdx.x; e < count * head_dim; e += blockDim.x)
        qs[e] = q[(long long)(t0 + e / head_dim) * q_len + h * head_dim + e % head_dim];

    float scale = 1.0f / sqrtf((float)head_dim);
    const int batches = TILE_POSITIONS / 8;
    for (int j0 = 0; j0 < positions; j0 += TILE_POSITIONS)
    {
        int rows = min(TILE_POSITIONS, positions - j0);
        __syncthreads();
        stage_kv_tile(k_cache, j0, rows, kv_len, offset, head_dim, tile);
        __syncthreads();
        // Warp w takes (token, eight positions) batches w, w + 8, …
        for (int b = warp; b < count * batches; b += warps)
        {
            int i = b / batches, r0 = (b % batches) * 8;
            int attended = first + i + 1;
            if (j0 + r0 >= attended || r0 >= rows)
                continue;
            const float* kr[8];
#pragma unroll
            for (int r = 0; r < 8; r++)
                kr[r] = tile + min(r0 + r, rows - 1) * head_dim;
            float dots[8];
            warp_order_dots<8>(qs + i * head_dim, kr, head_dim, dots);
#pragma unroll
            for (int r = 0; r < 8; r++)
            {
                int j = j0 + r0 + r;
                if (lane == 0 && j < attended && r0 + r < rows)
                    p[i * p_stride + j] = dots[r] * scale;
            }
        }
    }
    __syncthreads();
    for (int i = 0; i < count; i++)
        softmax_in_place(p + i * p_stride, first + i + 1, reduce);

    // Thread e takes token e / (head_dim / 4) and its four dimensions 4·(e % (head_dim / 4)) …: one score and one
    // float4 of the tile per position feed four sums, each over the positions in order.
    int quads = head_dim / 4;
    float4 acc[TILE_MAX_QUADS];
#pragma unroll
    for (int k = 0; k < TILE_MAX_QUADS; k++)
        acc[k] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    for (int j0 = 0; j0 < positions; j0 += TILE_POSITIONS)
    {
        int rows = min(TILE_POSITIONS, positions - j0);
        __syncthreads();
        stage_kv_tile(v_cache, j0, rows, kv_len, offset, head_dim, tile);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE_MAX_QUADS; k++)
        {
            int e = threadIdx.x + k * blockDim.x;
            if (e < count * quads)
            {
                int i = e / quads, c = e % quads;
                int end = min(rows, first + i + 1 - j0);
                const float* pi = p + i * p_stride + j0;
                const float4* v4 = reinterpret_cast<const float4*>(tile) + c;
                float4 a = acc[k];
                for (int r = 0; r < end; r++)
                {
                    float w = pi[r];
                    float4 v = v4[r * quads];
                    a.x += w * v.x;
                    a.y += w * v.y;
                    a.z += w * v.z;
                    a.w += w * v.w;
                }
                acc[k] = a;
            }
        }
    }
#pragma unroll
    for (int k = 0; k < TILE_MAX_QUADS; k++)
    {
        int e = threadIdx.x + k * blockDim.x;
        if (e < count * quads)
            reinterpret_cast<float4*>(out + (long long)(t0 + e / quads) * q_len + h * head_dim)[e % quads] = acc[k];
    }
}

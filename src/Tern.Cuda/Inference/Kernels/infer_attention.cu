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

// A block per (head, token), blockDim.x = 256, in the CPU engine's arithmetic so that both round alike: every score
// q·k·(1/√d) (a warp per position, warp_order_dot), the maximum, p = portable_exp(score − max), the sum of p in
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
    for (int j = warp; j < n; j += warps)
    {
        float dot = warp_order_dot(qs, k_cache + (long long)j * kv_len + kv_head * head_dim, head_dim);
        if (lane == 0)
            p[j] = dot * scale;
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
            for (int j = 0; j < n; j++)
                acc += p[j] * vr[(long long)j * kv_len];
            out[(long long)t * q_len + h * head_dim + d] = acc;
        }
    }
}

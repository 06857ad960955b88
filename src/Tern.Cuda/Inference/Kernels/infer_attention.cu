// RoPE and causal attention over the KV cache in device memory (float32, [context, kv_heads·head_dim] per layer).
// Token t of a call is at position step[0] + t and attends to positions 0 … step[0] + t.

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
    for (int i = threadIdx.x; i < q_len / 2; i += blockDim.x)
    {
        int head = i / half, j = i % half;
        int a = head * head_dim + (neox ? j : 2 * j), b = head * head_dim + (neox ? j + half : 2 * j + 1);
        float x0 = qt[a], x1 = qt[b];
        qt[a] = (x0 * c[j]) - (x1 * s[j]);
        qt[b] = (x0 * s[j]) + (x1 * c[j]);
    }

    const float* kt = k_new + (long long)t * kv_len;
    float* kc = k_cache + position * kv_len;
    for (int i = threadIdx.x; i < kv_len / 2; i += blockDim.x)
    {
        int head = i / half, j = i % half;
        int a = head * head_dim + (neox ? j : 2 * j), b = head * head_dim + (neox ? j + half : 2 * j + 1);
        float x0 = kt[a], x1 = kt[b];
        kc[a] = (x0 * c[j]) - (x1 * s[j]);
        kc[b] = (x0 * s[j]) + (x1 * c[j]);
    }

    const float* vt = v_new + (long long)t * kv_len;
    float* vc = v_cache + position * kv_len;
    for (int i = threadIdx.x; i < kv_len; i += blockDim.x)
        vc[i] = vt[i];
}

#define ATTENTION_CHUNK 256
#define ATTENTION_MAX_DIMS 4

// A block per (head, token), blockDim.x = 256: scores of a chunk of positions (a warp per position), softmax
// carried across chunks (running maximum and sum), and each thread's output dimensions d = tid, tid + 256, …
// accumulated over the chunk's values. Head h reads KV head h / (heads / kv_heads). Dynamic shared memory:
// (head_dim + ATTENTION_CHUNK) floats. out [tokens, heads·head_dim].
extern "C" __global__ void attention(const float* __restrict__ q, const float* __restrict__ k_cache,
    const float* __restrict__ v_cache, const int* __restrict__ step, int heads, int kv_heads, int head_dim,
    float* __restrict__ out)
{
    extern __shared__ float smem[];
    __shared__ float reduce[32];
    float* qs = smem;
    float* scores = smem + head_dim;
    int h = blockIdx.x, t = blockIdx.y;
    int kv_head = h / (heads / kv_heads);
    int q_len = heads * head_dim, kv_len = kv_heads * head_dim;
    int last = step[0] + t;
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, warps = blockDim.x / WARP;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
        qs[d] = q[(long long)t * q_len + h * head_dim + d];
    __syncthreads();

    float scale = 1.0f / sqrtf((float)head_dim);
    float running_max = -__int_as_float(0x7f800000), running_sum = 0.0f;
    float acc[ATTENTION_MAX_DIMS];
#pragma unroll
    for (int k = 0; k < ATTENTION_MAX_DIMS; k++)
        acc[k] = 0.0f;

    for (int base = 0; base <= last; base += ATTENTION_CHUNK)
    {
        int n = min(ATTENTION_CHUNK, last + 1 - base);
        for (int j = warp; j < n; j += warps)
        {
            const float* kr = k_cache + (long long)(base + j) * kv_len + kv_head * head_dim;
            float dot = 0.0f;
            for (int d = lane; d < head_dim; d += WARP)
                dot += qs[d] * kr[d];
            dot = warp_sum(dot);
            if (lane == 0)
                scores[j] = dot * scale;
        }
        __syncthreads();

        float chunk_max = -__int_as_float(0x7f800000);
        for (int j = threadIdx.x; j < n; j += blockDim.x)
            chunk_max = fmaxf(chunk_max, scores[j]);
        chunk_max = block_max(chunk_max, reduce);
        float new_max = fmaxf(running_max, chunk_max);
        float correction = expf(running_max - new_max);
        float partial = 0.0f;
        for (int j = threadIdx.x; j < n; j += blockDim.x)
        {
            float p = expf(scores[j] - new_max);
            scores[j] = p;
            partial += p;
        }
        partial = block_sum(partial, reduce);
        running_sum = running_sum * correction + partial;
        running_max = new_max;

#pragma unroll
        for (int k = 0; k < ATTENTION_MAX_DIMS; k++)
        {
            int d = threadIdx.x + k * blockDim.x;
            if (d < head_dim)
            {
                const float* vr = v_cache + (long long)base * kv_len + kv_head * head_dim + d;
                float sum = acc[k] * correction;
                for (int j = 0; j < n; j++)
                    sum += scores[j] * vr[(long long)j * kv_len];
                acc[k] = sum;
            }
        }
        __syncthreads();
    }

#pragma unroll
    for (int k = 0; k < ATTENTION_MAX_DIMS; k++)
    {
        int d = threadIdx.x + k * blockDim.x;
        if (d < head_dim)
            out[(long long)t * q_len + h * head_dim + d] = acc[k] / running_sum;
    }
}

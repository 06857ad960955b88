// Causal attention around cuBLASLt's strided-batched products. Queries, keys and values leave the fused QKV product
// as rows [batch·T, H·hd | Hkv·hd | Hkv·hd]; here they are scaled (γ/s), rotated (RoPE) and rearranged head-major,
// [batch, H, T, hd], with each key/value head repeated for the query heads that read it, so that one product of
// batch·H matrices computes every head's scores. The backward pass sums the repeats back onto their key/value head.

// The two elements a RoPE pair rotates: (i, i + hd/2) for bitnet-b1.58 (NEOX order), (2i, 2i + 1) for llama.
__device__ __forceinline__ void rope_pair(int i, int half, int rotate_halves, int* a, int* b)
{
    *a = rotate_halves ? i : 2 * i;
    *b = rotate_halves ? i + half : 2 * i + 1;
}

// One thread per (row, query head, pair).
extern "C" __global__ void rope_permute_forward(const float* __restrict__ qkv, int rows, int context, int heads,
    int kv_heads, int head_dim, const float* __restrict__ gammas, int gamma_index_q, const float* __restrict__ scales,
    const float* __restrict__ cos_table, const float* __restrict__ sin_table, int rotate_halves,
    operand_t* __restrict__ q_out, operand_t* __restrict__ k_out, operand_t* __restrict__ v_out)
{
    // 32-bit index arithmetic (the host keeps every count below 2³¹): 64-bit division costs tens of instructions.
    int half = head_dim / 2;
    int index = blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= rows * heads * half)
        return;
    int i = index % half;
    int rest = index / half;
    int h = rest % heads;
    int row = rest / heads;
    int t = row % context;
    int b = row / context;
    int g = h / (heads / kv_heads);
    int q_width = heads * head_dim, kv_width = kv_heads * head_dim;
    const float* in = qkv + (long long)row * (q_width + 2 * kv_width);
    int ea, eb;
    rope_pair(i, half, rotate_halves, &ea, &eb);
    float cosine = cos_table[t * half + i], sine = sin_table[t * half + i];
    long long o = ((long long)(b * heads + h) * context + t) * head_dim;

    float f = bitlinear_factor(gammas, gamma_index_q, scales, row);
    float x0 = in[h * head_dim + ea] * f, x1 = in[h * head_dim + eb] * f;
    q_out[o + ea] = to_operand((x0 * cosine) - (x1 * sine));
    q_out[o + eb] = to_operand((x0 * sine) + (x1 * cosine));

    f = bitlinear_factor(gammas, gamma_index_q + 1, scales, row);
    x0 = in[q_width + g * head_dim + ea] * f;
    x1 = in[q_width + g * head_dim + eb] * f;
    k_out[o + ea] = to_operand((x0 * cosine) - (x1 * sine));
    k_out[o + eb] = to_operand((x0 * sine) + (x1 * cosine));

    f = bitlinear_factor(gammas, gamma_index_q + 2, scales, row);
    v_out[o + ea] = to_operand(in[q_width + kv_width + g * head_dim + ea] * f);
    v_out[o + eb] = to_operand(in[q_width + kv_width + g * head_dim + eb] * f);
}

// A warp per score row (one query position of one head): p = softmax over keys j ≤ t, 0 for the keys after t. The
// scores arrive already multiplied by 1/√hd (the product's α).
extern "C" __global__ void causal_softmax(const float* __restrict__ scores, int context, long long total_rows,
    operand_t* __restrict__ probabilities)
{
    long long row = global_warp();
    if (row >= total_rows)
        return;
    int lane = lane_id();
    int t = (int)(row % context);
    const float* s = scores + row * context;
    operand_t* p = probabilities + row * context;
    float largest = __int_as_float(0xff800000);
    for (int j = lane; j <= t; j += WARP)
        largest = fmaxf(largest, s[j]);
    largest = warp_max(largest);
    float sum = 0.0f;
    for (int j = lane; j <= t; j += WARP)
        sum += expf(s[j] - largest);
    float inverse = 1.0f / warp_sum(sum);
    for (int j = lane; j < context; j += WARP)
        p[j] = to_operand(j <= t ? expf(s[j] - largest) * inverse : 0.0f);
}

// Head-major [batch, H, T, hd] back to rows [batch·T, H·hd]: one thread per element.
extern "C" __global__ void attention_unpermute(const float* __restrict__ head_major, int rows, int context, int heads,
    int head_dim, float* __restrict__ out)
{
    int index = blockIdx.x * blockDim.x + threadIdx.x;
    int width = heads * head_dim;
    if (index >= rows * width)
        return;
    int c = index % width;
    int row = index / width;
    int h = c / head_dim, i = c % head_dim;
    int b = row / context, t = row % context;
    out[index] = head_major[((long long)(b * heads + h) * context + t) * head_dim + i];
}

// From the gradient of the attention's sub-norm output back to the gradient of the attention output, as head-major
// operands dO for the backward products (with normalize off, dO is dy rearranged). A block per rows_per_block rows,
// with the norm weight's partial sums as in rmsnorm_backward.
extern "C" __global__ void attention_output_gradient(const float* __restrict__ dy, const float* __restrict__ attention,
    const float* __restrict__ reciprocal_rms, const float* __restrict__ weight, int normalize, int rows, int context,
    int heads, int head_dim, int rows_per_block, operand_t* __restrict__ d_out, float* __restrict__ partials)
{
    __shared__ float shared[32];
    int width = heads * head_dim;
    float w[ROW_VALUES], part[ROW_VALUES];
#pragma unroll
    for (int k = 0; k < ROW_VALUES; k++)
    {
        int c = threadIdx.x + k * blockDim.x;
        w[k] = normalize && c < width ? weight[c] : 0.0f;
        part[k] = 0.0f;
    }
    float n = (float)width;
    int first = blockIdx.x * rows_per_block;
    int last = min(first + rows_per_block, rows);
    for (int row = first; row < last; row++)
    {
        const float* xr = attention + (long long)row * width;
        const float* dyr = dy + (long long)row * width;
        int b = row / context, t = row % context;
        float xv[ROW_VALUES], dv[ROW_VALUES];
        float dot = 0.0f;
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            xv[k] = normalize && c < width ? xr[c] : 0.0f;
            dv[k] = c < width ? dyr[c] : 0.0f;
            dot += xv[k] * w[k] * dv[k];
        }
        float inverse = 1.0f, correction = 0.0f;
        if (normalize)
        {
            dot = block_sum(dot, shared);
            inverse = reciprocal_rms[row];
            correction = inverse * inverse * inverse * dot / n;
        }
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            if (c >= width)
                continue;
            float v = dv[k];
            if (normalize)
            {
                part[k] += dv[k] * xv[k] * inverse;
                v = (inverse * w[k] * dv[k]) - (correction * xv[k]);
            }
            int h = c / head_dim, i = c % head_dim;
            d_out[((long long)(b * heads + h) * context + t) * head_dim + i] = to_operand(v);
        }
    }
    if (normalize)
    {
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            if (c < width)
                partials[(long long)blockIdx.x * width + c] = part[k];
        }
    }
}

// With attention dropout on, the values product reads P ⊙ M / (1 − p) instead of P (the mask from the layer's key, as
// attention_dropout_factor computes it): one thread per element of [batch·H, T, T], zeros above the diagonal.
extern "C" __global__ void attention_dropout(const operand_t* __restrict__ probabilities, int context, long long count,
    unsigned long long dropout_key, unsigned long long dropout_threshold, float keep_scale, operand_t* __restrict__ dropped)
{
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= count)
        return;
    int j = (int)(index % context);
    int t = (int)((index / context) % context);
    dropped[index] = to_operand(j <= t
        ? from_operand(probabilities[index]) * attention_dropout_factor(dropout_key, (unsigned long long)index, dropout_threshold, keep_scale)
        : 0.0f);
}

// A warp per score row: dS = p ⊙ (dP − Σ p⊙dP) / √hd over the keys j ≤ t, 0 after, where dP is the product dO·Vᵀ
// times the attention-dropout factor (1 without dropout). ds may be the probabilities' own buffer: each lane reads an
// element before it writes it, and the sum is complete before any write.
extern "C" __global__ void softmax_backward(const operand_t* probabilities, const float* __restrict__ dp, int context,
    long long total_rows, float scale, unsigned long long dropout_key, unsigned long long dropout_threshold, float keep_scale,
    operand_t* ds)
{
    long long row = global_warp();
    if (row >= total_rows)
        return;
    int lane = lane_id();
    int t = (int)(row % context);
    const operand_t* p = probabilities + row * context;
    const float* d = dp + row * context;
    unsigned long long first = (unsigned long long)row * context;
    float weighted = 0.0f;
    for (int j = lane; j <= t; j += WARP)
        weighted += from_operand(p[j]) * (d[j] * attention_dropout_factor(dropout_key, first + j, dropout_threshold, keep_scale));
    weighted = warp_sum(weighted);
    operand_t* out = ds + row * context;
    for (int j = lane; j < context; j += WARP)
    {
        float value = j <= t
            ? from_operand(p[j]) * ((d[j] * attention_dropout_factor(dropout_key, first + j, dropout_threshold, keep_scale)) - weighted) * scale
            : 0.0f;
        out[j] = to_operand(value);
    }
}

// From head-major dQ, dK, dV (dK and dV per query head) to the gradient of the fused QKV product's output, rows
// [batch·T, H·hd | Hkv·hd | Hkv·hd]: the repeats of each key/value head summed in head order, the RoPE rotation
// undone (the opposite angle), then the two operands of the backward products, d·γ and d/s. One thread per
// (row, head slot among H + 2·Hkv, pair).
extern "C" __global__ void rope_backward_unpermute(const float* __restrict__ dq, const float* __restrict__ dk,
    const float* __restrict__ dv, int rows, int context, int heads, int kv_heads, int head_dim,
    const float* __restrict__ cos_table, const float* __restrict__ sin_table, int rotate_halves,
    const float* __restrict__ gammas, int gamma_index_q, const float* __restrict__ scales,
    operand_t* __restrict__ d_gamma, operand_t* __restrict__ d_over_scale)
{
    int half = head_dim / 2;
    int slots = heads + 2 * kv_heads;
    int index = blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= rows * slots * half)
        return;
    int i = index % half;
    int rest = index / half;
    int slot = rest % slots;
    int row = rest / slots;
    int t = row % context;
    int b = row / context;
    int group = heads / kv_heads;
    int q_width = heads * head_dim, kv_width = kv_heads * head_dim;
    int ea, eb;
    rope_pair(i, half, rotate_halves, &ea, &eb);

    int section, column;
    float y0 = 0.0f, y1 = 0.0f;
    if (slot < heads)
    {
        section = 0;
        column = slot * head_dim;
        long long o = ((long long)(b * heads + slot) * context + t) * head_dim;
        y0 = dq[o + ea];
        y1 = dq[o + eb];
    }
    else
    {
        int g = slot < heads + kv_heads ? slot - heads : slot - heads - kv_heads;
        section = slot < heads + kv_heads ? 1 : 2;
        column = q_width + (section - 1) * kv_width + g * head_dim;
        const float* source = section == 1 ? dk : dv;
        for (int h = g * group; h < (g + 1) * group; h++)
        {
            long long o = ((long long)(b * heads + h) * context + t) * head_dim;
            y0 += source[o + ea];
            y1 += source[o + eb];
        }
    }
    if (section < 2)
    {
        float cosine = cos_table[t * half + i], sine = -sin_table[t * half + i];
        float x0 = y0, x1 = y1;
        y0 = (x0 * cosine) - (x1 * sine);
        y1 = (x0 * sine) + (x1 * cosine);
    }
    float gamma = gammas ? gammas[gamma_index_q + section] : 1.0f;
    float inverse_scale = scales ? 1.0f / scales[row] : 1.0f;
    long long base = (long long)row * (q_width + 2 * kv_width) + column;
    d_gamma[base + ea] = to_operand(y0 * gamma);
    d_gamma[base + eb] = to_operand(y1 * gamma);
    d_over_scale[base + ea] = to_operand(scales ? y0 * inverse_scale : y0);
    d_over_scale[base + eb] = to_operand(scales ? y1 * inverse_scale : y1);
}

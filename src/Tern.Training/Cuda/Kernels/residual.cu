// The residual stream: the embedding lookup, the dropout-and-add after each block's output projection, the
// gradient that flows back into a projection, and the embedding gradient's deterministic scatter-add.

// x[r, c] = dropout(E[tokens[r], c]): one thread per element; element i = r·width + c is the dropout counter, as on the CPU.
extern "C" __global__ void embedding_forward(const int* __restrict__ tokens, const float* __restrict__ embedding,
    int rows, int width, unsigned long long key, unsigned long long threshold, float keep_scale, float* __restrict__ x)
{
    // 32-bit index arithmetic (the host keeps rows·width below 2³¹): 64-bit division costs tens of instructions.
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * width)
        return;
    int r = i / width, c = i % width;
    x[i] = dropout(embedding[(long long)tokens[r] * width + c], key, (unsigned long long)i, threshold, keep_scale);
}

// out = residual + dropout(raw · γ/s): raw is the BitLinear's integer product (or x·Wᵀ), scaled per row here.
extern "C" __global__ void residual_dropout_add(const float* __restrict__ residual, const float* __restrict__ raw,
    int rows, int width, const float* __restrict__ gammas, int gamma_index, const float* __restrict__ scales,
    unsigned long long key, unsigned long long threshold, float keep_scale, float* __restrict__ out)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * width)
        return;
    int r = i / width;
    float y = raw[i] * bitlinear_factor(gammas, gamma_index, scales, r);
    out[i] = residual[i] + dropout(y, key, (unsigned long long)i, threshold, keep_scale);
}

// The gradient of a projection's output, dy = dropout(dx), as the two operands of its backward products:
// dy·γ (for dX = dy·γW̃) and dy/s per row (for dW = (dy/s)ᵀ·q).
extern "C" __global__ void projection_gradient(const float* __restrict__ dx, int rows, int width,
    unsigned long long key, unsigned long long threshold, float keep_scale, const float* __restrict__ gammas,
    int gamma_index, const float* __restrict__ scales, operand_t* __restrict__ dy_gamma,
    operand_t* __restrict__ dy_over_scale)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * width)
        return;
    int r = i / width;
    float dy = dropout(dx[i], key, (unsigned long long)i, threshold, keep_scale);
    float gamma = gammas ? gammas[gamma_index] : 1.0f;
    dy_gamma[i] = to_operand(dy * gamma);
    dy_over_scale[i] = to_operand(scales ? dy * (1.0f / scales[r]) : dy);
}

// dE[token] += Σ dropout(dx[r]) over the rows r that read that token. The host groups the rows by token (rows in
// increasing order within a group); a block per group sums them in that order, so no two blocks write one row of dE.
extern "C" __global__ void embedding_backward(const float* __restrict__ dx, const int* __restrict__ row_order,
    const int* __restrict__ group_starts, const int* __restrict__ group_tokens, int width, unsigned long long key,
    unsigned long long threshold, float keep_scale, float* __restrict__ d_embedding)
{
    int group = blockIdx.x;
    int start = group_starts[group], end = group_starts[group + 1];
    float* target = d_embedding + (long long)group_tokens[group] * width;
    for (int c = threadIdx.x; c < width; c += blockDim.x)
    {
        float sum = 0.0f;
        for (int k = start; k < end; k++)
        {
            long long i = (long long)row_order[k] * width + c;
            sum += dropout(dx[i], key, (unsigned long long)i, threshold, keep_scale);
        }
        target[c] += sum;
    }
}

// RMSNorm forward (fused with BitLinear's per-token activation quantizer) and backward (fused with the residual add),
// and the in-order reduction of the norm weights' gradient partials.

// With normalize, r = 1/sqrt(mean(x²) + ε) and y = w ⊙ (r·x) (else y = x); with quantize, s = 127 / max(max|y|, 1e-5)
// and out = clamp(rint(y·s), −128, 127) (else out = y), as Tern.Training's RmsNorm and BitLinear.Prepare compute them
// (rint: round half to even). v holds the thread's columns of x (zeros past the row), as a row kernel keeps them.
__device__ __forceinline__ void norm_quantize_values(float (&v)[ROW_VALUES], const float* weight, int width, float epsilon,
    int normalize, int quantize, long long row, float* reciprocal_rms, operand_t* out, float* scales, float* shared)
{
    if (normalize)
    {
        float sum = 0.0f;
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
            sum += v[k] * v[k];
        sum = block_sum(sum, shared);
        float inverse = 1.0f / sqrtf((sum / (float)width) + epsilon);
        if (threadIdx.x == 0)
            reciprocal_rms[row] = inverse;
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            v[k] = c < width ? weight[c] * (inverse * v[k]) : 0.0f;
        }
    }

    float scale = 1.0f;
    if (quantize)
    {
        float largest = 0.0f;
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
            largest = fmaxf(largest, fabsf(v[k]));
        largest = block_max(largest, shared);
        scale = 127.0f / fmaxf(largest, 1e-5f);
        if (threadIdx.x == 0)
            scales[row] = scale;
    }

    operand_t* o = out + row * width;
#pragma unroll
    for (int k = 0; k < ROW_VALUES; k++)
    {
        int c = threadIdx.x + k * blockDim.x;
        if (c < width)
            o[c] = to_operand(quantize ? fminf(fmaxf(rintf(v[k] * scale), -128.0f), 127.0f) : v[k]);
    }
}

// A block per row of x [rows, width]: the operand a BitLinear (or the head) multiplies, its row scale and the
// reciprocal RMS the backward pass needs. x is read once.
extern "C" __global__ void rmsnorm_quantize(const float* __restrict__ x, const float* __restrict__ weight, int rows,
    int width, float epsilon, int normalize, int quantize, float* __restrict__ reciprocal_rms,
    operand_t* __restrict__ out, float* __restrict__ scales)
{
    __shared__ float shared[32];
    long long row = blockIdx.x;
    const float* xr = x + row * width;
    float v[ROW_VALUES];
#pragma unroll
    for (int k = 0; k < ROW_VALUES; k++)
    {
        int c = threadIdx.x + k * blockDim.x;
        v[k] = c < width ? xr[c] : 0.0f;
    }
    norm_quantize_values(v, weight, width, epsilon, normalize, quantize, row, reciprocal_rms, out, scales, shared);
}

// dx (+)= r·(w⊙dy) − r³/n · x · Σ(x⊙w⊙dy) for rows_per_block consecutive rows per block. Each thread adds its columns'
// share of dw = Σ dy⊙x·r over the block's rows in registers and writes the block's row of partials; reduce_partials
// adds the blocks' rows in order, so dw does not depend on scheduling.
extern "C" __global__ void rmsnorm_backward(const float* __restrict__ x, const float* __restrict__ weight,
    const float* __restrict__ reciprocal_rms, const float* __restrict__ dy, int rows, int width, int rows_per_block,
    int accumulate, float* __restrict__ dx, float* __restrict__ partials)
{
    __shared__ float shared[32];
    float w[ROW_VALUES], part[ROW_VALUES];
#pragma unroll
    for (int k = 0; k < ROW_VALUES; k++)
    {
        int c = threadIdx.x + k * blockDim.x;
        w[k] = c < width ? weight[c] : 0.0f;
        part[k] = 0.0f;
    }
    float n = (float)width;
    int first = blockIdx.x * rows_per_block;
    int last = min(first + rows_per_block, rows);
    for (int row = first; row < last; row++)
    {
        const float* xr = x + (long long)row * width;
        const float* dyr = dy + (long long)row * width;
        float* dxr = dx + (long long)row * width;
        float xv[ROW_VALUES], dv[ROW_VALUES];
        float dot = 0.0f;
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            xv[k] = c < width ? xr[c] : 0.0f;
            dv[k] = c < width ? dyr[c] : 0.0f;
            dot += xv[k] * w[k] * dv[k];
        }
        dot = block_sum(dot, shared);
        float inverse = reciprocal_rms[row];
        float correction = inverse * inverse * inverse * dot / n;
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            if (c < width)
            {
                float v = (inverse * w[k] * dv[k]) - (correction * xv[k]);
                dxr[c] = accumulate ? dxr[c] + v : v;
                part[k] += dv[k] * xv[k] * inverse;
            }
        }
    }
#pragma unroll
    for (int k = 0; k < ROW_VALUES; k++)
    {
        int c = threadIdx.x + k * blockDim.x;
        if (c < width)
            partials[(long long)blockIdx.x * width + c] = part[k];
    }
}

// gradient[c] += Σ over `count` rows of partials [count, width]. A block of 1024 threads takes 32 columns; its 32
// warps sum every 32nd row each, in order, and the 32 sums are added in order.
extern "C" __global__ void reduce_partials(const float* __restrict__ partials, int count, int width,
    float* __restrict__ gradient)
{
    __shared__ float sums[32][WARP + 1];
    int column_in_block = threadIdx.x % WARP, group = threadIdx.x / WARP;
    int c = blockIdx.x * WARP + column_in_block;
    float sum = 0.0f;
    if (c < width)
    {
        for (int p = group; p < count; p += 32)
            sum += partials[(long long)p * width + c];
    }
    sums[group][column_in_block] = sum;
    __syncthreads();
    if (group == 0 && c < width)
    {
        float total = 0.0f;
        for (int k = 0; k < 32; k++)
            total += sums[k][column_in_block];
        gradient[c] += total;
    }
}

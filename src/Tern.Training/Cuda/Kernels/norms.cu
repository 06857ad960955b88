// RMSNorm forward (fused with BitLinear's per-token activation quantizer) and backward (fused with the residual add),
// and the in-order reduction of the norm weights' gradient partials.

// One row's y = w ⊙ (r·x) with r = 1/sqrt(mean(x²) + ε) (or y = x without normalize), then, with quantize,
// s = 127 / max(max|y|, 1e-5) and out = clamp(rint(y·s), −128, 127) (else out = y), as Tern.Training's RmsNorm and
// BitLinear.Prepare compute them (rint: round half to even).
__device__ void norm_quantize_row(const float* xr, const float* weight, int width, float epsilon, int normalize,
    int quantize, long long row, float* reciprocal_rms, operand_t* out, float* scales)
{
    int lane = lane_id();
    float inverse = 1.0f;
    if (normalize)
    {
        float sum = 0.0f;
        for (int c = lane; c < width; c += WARP)
            sum += xr[c] * xr[c];
        sum = warp_sum(sum);
        inverse = 1.0f / sqrtf((sum / (float)width) + epsilon);
        if (lane == 0)
            reciprocal_rms[row] = inverse;
    }

    float scale = 1.0f;
    if (quantize)
    {
        float largest = 0.0f;
        for (int c = lane; c < width; c += WARP)
            largest = fmaxf(largest, fabsf(normalize ? weight[c] * (inverse * xr[c]) : xr[c]));
        largest = warp_max(largest);
        scale = 127.0f / fmaxf(largest, 1e-5f);
        if (lane == 0)
            scales[row] = scale;
    }

    operand_t* o = out + row * width;
    for (int c = lane; c < width; c += WARP)
    {
        float y = normalize ? weight[c] * (inverse * xr[c]) : xr[c];
        o[c] = to_operand(quantize ? fminf(fmaxf(rintf(y * scale), -128.0f), 127.0f) : y);
    }
}

// A warp per row of x [rows, width]: the operand a BitLinear (or the head) multiplies, its row scales and the
// reciprocal RMS the backward pass needs.
extern "C" __global__ void rmsnorm_quantize(const float* __restrict__ x, const float* __restrict__ weight, int rows,
    int width, float epsilon, int normalize, int quantize, float* __restrict__ reciprocal_rms,
    operand_t* __restrict__ out, float* __restrict__ scales)
{
    long long row = global_warp();
    if (row >= rows)
        return;
    norm_quantize_row(x + row * width, weight, width, epsilon, normalize, quantize, row, reciprocal_rms, out, scales);
}

// dx (+)= r·(w⊙dy) − r³/n · x · Σ(x⊙w⊙dy). Each warp takes rows_per_warp consecutive rows and sums its share of
// dw = Σ dy⊙x·r into its own row of partials; reduce_partials adds the warps' rows in order, so dw does not depend
// on scheduling.
extern "C" __global__ void rmsnorm_backward(const float* __restrict__ x, const float* __restrict__ weight,
    const float* __restrict__ reciprocal_rms, const float* __restrict__ dy, int rows, int width, int rows_per_warp,
    int accumulate, float* __restrict__ dx, float* __restrict__ partials)
{
    long long warp = global_warp();
    long long first = warp * rows_per_warp;
    if (first >= rows)
        return;
    int lane = lane_id();
    float* part = partials + warp * width;
    for (int c = lane; c < width; c += WARP)
        part[c] = 0.0f;
    float n = (float)width;
    long long last = min(first + rows_per_warp, (long long)rows);
    for (long long row = first; row < last; row++)
    {
        const float* xr = x + row * width;
        const float* dyr = dy + row * width;
        float* dxr = dx + row * width;
        float inverse = reciprocal_rms[row];
        float dot = 0.0f;
        for (int c = lane; c < width; c += WARP)
            dot += xr[c] * weight[c] * dyr[c];
        dot = warp_sum(dot);
        float correction = inverse * inverse * inverse * dot / n;
        for (int c = lane; c < width; c += WARP)
        {
            float v = (inverse * weight[c] * dyr[c]) - (correction * xr[c]);
            dxr[c] = accumulate ? dxr[c] + v : v;
            part[c] += dyr[c] * xr[c] * inverse;
        }
    }
}

// gradient[c] += Σ over `count` rows of partials [count, width]. A block of 256 threads takes 32 columns; its 8 warps
// sum every 8th row each, in order, and the 8 sums are added in order.
extern "C" __global__ void reduce_partials(const float* __restrict__ partials, int count, int width,
    float* __restrict__ gradient)
{
    __shared__ float sums[8][WARP];
    int column_in_block = threadIdx.x % WARP, group = threadIdx.x / WARP;
    int c = blockIdx.x * WARP + column_in_block;
    float sum = 0.0f;
    if (c < width)
    {
        for (int p = group; p < count; p += 8)
            sum += partials[(long long)p * width + c];
    }
    sums[group][column_in_block] = sum;
    __syncthreads();
    if (group == 0 && c < width)
    {
        float total = 0.0f;
        for (int k = 0; k < 8; k++)
            total += sums[k][column_in_block];
        gradient[c] += total;
    }
}

// RMSNorm and the activation quantizer, a block per token. Columns are read from global memory up to three times
// (sum of squares, largest magnitude, output): a row is at most a few ten kilobytes and stays in L1, and no width
// limit comes from holding it in registers. The sum of squares is block_order_dot's, the CPU engine's order; blocks are 256 threads.

// y = w ⊙ (x / rms(x)) (weight null: y = x), written as floats to `normed` [tokens, width] and as int8 to
// q [tokens, q_stride] (columns past width zero, so padded weight rows add nothing) with s to scales[token].
// x and normed may be the same buffer.
extern "C" __global__ void rmsnorm_quantize(const float* __restrict__ x, const float* __restrict__ weight, int width,
    float epsilon, float* normed, signed char* __restrict__ q, int q_stride, float* __restrict__ scales)
{
    __shared__ float shared[32];
    long long row = blockIdx.x;
    const float* xr = x + row * width;
    float* yr = normed + row * width;
    float inverse = 1.0f;
    if (weight)
    {
        float sum = block_order_dot(xr, xr, width, shared);
        inverse = 1.0f / sqrtf((sum / (float)width) + epsilon);
    }

    float largest = 0.0f;
    for (int c = threadIdx.x; c < width; c += blockDim.x)
    {
        float y = weight ? weight[c] * (inverse * xr[c]) : xr[c];
        largest = fmaxf(largest, fabsf(y));
    }
    largest = block_max(largest, shared);
    float s = 127.0f / fmaxf(largest, 1e-5f);
    if (threadIdx.x == 0)
        scales[row] = s;

    signed char* qr = q + row * q_stride;
    for (int c = threadIdx.x; c < q_stride; c += blockDim.x)
    {
        if (c < width)
        {
            float y = weight ? weight[c] * (inverse * xr[c]) : xr[c];
            // Each thread rewrites only the columns it has read, so x and normed may alias.
            yr[c] = y;
            qr[c] = quantize_int8(y, s);
        }
        else
        {
            qr[c] = 0;
        }
    }
}

// The gated FFN's middle, a block per token: h = act(gate) ⊙ up (act: ReLU² or SiLU), then the FFN sub-norm when
// the family has one, then the quantizer for the down projection. h (floats, [tokens, width]) receives the
// normalized values, the down projection's input when it is not ternary.
extern "C" __global__ void gated_norm_quantize(const float* __restrict__ gate, const float* __restrict__ up, int width,
    int silu, const float* __restrict__ weight, float epsilon, float* __restrict__ h, signed char* __restrict__ q,
    int q_stride, float* __restrict__ scales)
{
    __shared__ float shared[32];
    long long row = blockIdx.x;
    const float* g = gate + row * width;
    const float* u = up + row * width;
    float* hr = h + row * width;
    for (int c = threadIdx.x; c < width; c += blockDim.x)
    {
        float v = g[c];
        float a = silu ? v / (1.0f + portable_exp(-v)) : fmaxf(v, 0.0f) * fmaxf(v, 0.0f);
        hr[c] = a * u[c];
    }
    __syncthreads();

    float inverse = 1.0f;
    if (weight)
    {
        float sum = block_order_dot(hr, hr, width, shared);
        inverse = 1.0f / sqrtf((sum / (float)width) + epsilon);
        // Every thread has read h; the next loop overwrites it.
        __syncthreads();
    }

    float largest = 0.0f;
    for (int c = threadIdx.x; c < width; c += blockDim.x)
    {
        float y = weight ? weight[c] * (inverse * hr[c]) : hr[c];
        hr[c] = y;
        largest = fmaxf(largest, fabsf(y));
    }
    largest = block_max(largest, shared);
    float s = 127.0f / fmaxf(largest, 1e-5f);
    if (threadIdx.x == 0)
        scales[row] = s;

    signed char* qr = q + row * q_stride;
    for (int c = threadIdx.x; c < q_stride; c += blockDim.x)
        qr[c] = c < width ? quantize_int8(hr[c], s) : (signed char)0;
}

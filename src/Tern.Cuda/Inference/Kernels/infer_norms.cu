// RMSNorm and the activation quantizer. Columns are read up to three times (sum of squares, largest magnitude,
// output): a row is at most a few ten kilobytes and stays in L1 (or is staged in shared memory), and no width limit
// comes from holding it in registers. Blocks are 256 threads.

// The one normalize-and-quantize of the prompt kernels (a block of 256 threads, one row): row ← (w ⊙ row)·r with
// r = 1/rms(row) (weight null: row unchanged), s = 127 / max(max|row|, 1e-5), q = rint(row·s) with columns past
// width zero, so padded weight rows add nothing; returns s. The CPU's RmsNorm and AbsmaxInt8Quantizer, the sum in
// ChunkOrderSum's order. `row` may be global or shared memory; `chunks` is 2·norm_chunks(width) floats of shared
// memory; every thread rewrites only its own columns, and q is complete on return.
__device__ float normalize_quantize(float* row, const float* __restrict__ weight, int width, float epsilon,
    signed char* __restrict__ q, int q_stride, float* chunks)
{
    NormScales n = block_norm_scales(row, weight, width, epsilon, chunks);
    for (int c = threadIdx.x; c < width; c += 256)
        row[c] = normalized(row[c], weight ? weight[c] : 0.0f, weight != nullptr, n);
    for (int c = threadIdx.x; c < q_stride; c += 256)
        q[c] = c < width ? quantize_int8(row[c], n.s) : (signed char)0;
    __syncthreads();
    return n.s;
}

// y = w ⊙ (x / rms(x)) (weight null: y = x), written as floats to `normed` [tokens, width] and as int8 to
// q [tokens, q_stride] with s to scales[token], a block per token. x and normed may be the same buffer. Dynamic
// shared memory: 8·norm_chunks(width) bytes.
extern "C" __global__ void rmsnorm_quantize(const float* x, const float* __restrict__ weight, int width,
    float epsilon, float* normed, signed char* __restrict__ q, int q_stride, float* __restrict__ scales)
{
    extern __shared__ float chunks[];
    long long row = blockIdx.x;
    float* yr = normed + row * width;
    if (yr != x + row * width)
    {
        for (int c = threadIdx.x; c < width; c += 256)
            yr[c] = x[row * width + c];
        __syncthreads();
    }
    float s = normalize_quantize(yr, weight, width, epsilon, q + row * q_stride, q_stride, chunks);
    if (threadIdx.x == 0)
        scales[row] = s;
}

// The gated FFN's middle, a block per token: h = act(gate) ⊙ up (act: ReLU² or SiLU), then the FFN sub-norm when
// the family has one, then the quantizer for the down projection. h (floats, [tokens, width]) receives the
// normalized values, the down projection's input when it is not ternary. Dynamic shared memory: 8·norm_chunks(width)
// bytes.
extern "C" __global__ void gated_norm_quantize(const float* __restrict__ gate, const float* __restrict__ up, int width,
    int silu, const float* __restrict__ weight, float epsilon, float* __restrict__ h, signed char* __restrict__ q,
    int q_stride, float* __restrict__ scales)
{
    extern __shared__ float chunks[];
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
    float s = normalize_quantize(hr, weight, width, epsilon, q + row * q_stride, q_stride, chunks);
    if (threadIdx.x == 0)
        scales[row] = s;
}

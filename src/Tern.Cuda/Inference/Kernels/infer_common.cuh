// What the inference kernels share beyond reductions.cuh. CudaInferenceKernels.cs joins reductions.cuh, this file
// and the kernel files into one NVRTC program (compiled with --fmad=false: the element-wise arithmetic rounds each multiply
// and add as the CPU engine does, so the int8 activations quantized here are the CPU's).
//
// Every kernel reads the position of the first token of a call from step[0] in device memory rather than from an
// argument, so that one captured CUDA graph serves every decoding step.

// Σ x_i·y_i in Tern.Kernels.WarpOrderSum's order (attention scores): lane j adds elements j, j + 32, … in turn, then
// the xor butterfly of warp_sum. Every lane of the warp gets the total; the CPU engine sums in this order too.
__device__ __forceinline__ float warp_order_dot(const float* x, const float* y, int n)
{
    float v = 0.0f;
    for (int i = threadIdx.x % WARP; i < n; i += WARP)
        v += x[i] * y[i];
    return warp_sum(v);
}

// R dot products x·y[r] at once, each in warp_order_dot's order (the same bits), their loads interleaved.
template <int R>
__device__ __forceinline__ void warp_order_dots(const float* x, const float* const (&y)[R], int n, float (&out)[R])
{
    float v[R];
#pragma unroll
    for (int r = 0; r < R; r++)
        v[r] = 0.0f;
    // Unrolled, so that the loads of several columns of every row are in flight together (the keys come from L2).
#pragma unroll 4
    for (int i = threadIdx.x % WARP; i < n; i += WARP)
    {
        float xi = x[i];
#pragma unroll
        for (int r = 0; r < R; r++)
            v[r] += xi * y[r][i];
    }
#pragma unroll
    for (int r = 0; r < R; r++)
        out[r] = warp_sum(v[r]);
}

// The total of every thread's partial v in Tern.Kernels.BlockOrderSum's order, for blocks of exactly 256 threads,
// when thread j has added elements j, j + 256, … in turn: each warp's butterfly, then ((w0 + w1) + (w2 + w3)) +
// ((w4 + w5) + (w6 + w7)). Every thread gets the total. `shared` holds 8 floats.
__device__ __forceinline__ float block_order_total(float v, float* shared)
{
    share_warp_values(warp_sum(v), shared);
    return ((shared[0] + shared[1]) + (shared[2] + shared[3])) + ((shared[4] + shared[5]) + (shared[6] + shared[7]));
}

__device__ __forceinline__ float block_order_sum(const float* x, int n, float* shared)
{
    float v = 0.0f;
#pragma unroll 4
    for (int i = threadIdx.x; i < n; i += 256)
        v += x[i];
    return block_order_total(v, shared);
}

// RMSNorm's statistics in Tern.Kernels.ChunkOrderSum's order, which whoever writes a vector can compute on its own
// rows: chunks of NORM_CHUNK consecutive columns, each summed from its first column on, and the chunks' sums combined
// as warp_order_dot combines columns (lane j adds chunks j, j + 32, … in turn, then the butterfly). Beside each
// chunk's Σx² goes its largest max|w·x| (w: the norm's weights; none: max|x|): the int8 quantizer's absmax, taken
// before the 1/rms factor is known. That is exact: the normalized value is (w·x)·r, and rounding is monotone, so
// max|(w·x)·r| = (max|w·x|)·r.
#define NORM_CHUNK 16

// Σx² and max|w·x| of a chunk's first `count` ≤ NORM_CHUNK values (weighted false: max|x|), in order: every pass that
// computes chunk statistics goes through this, whatever memory its values come from.
__device__ __forceinline__ float2 chunk_sums(const float (&v)[NORM_CHUNK], const float (&w)[NORM_CHUNK], bool weighted, int count)
{
    float sum = 0.0f, largest = 0.0f;
#pragma unroll
    for (int i = 0; i < NORM_CHUNK; i++)
    {
        if (i < count)
        {
            sum += v[i] * v[i];
            largest = fmaxf(largest, fabsf(weighted ? w[i] * v[i] : v[i]));
        }
    }
    return make_float2(sum, largest);
}

// The four float4 at p as NORM_CHUNK floats (zeros when p is null).
__device__ __forceinline__ void chunk_from_float4(const float* p, float (&out)[NORM_CHUNK])
{
#pragma unroll
    for (int j = 0; j < NORM_CHUNK / 4; j++)
    {
        float4 q = p ? *reinterpret_cast<const float4*>(p + 4 * j) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        out[4 * j] = q.x;
        out[4 * j + 1] = q.y;
        out[4 * j + 2] = q.z;
        out[4 * j + 3] = q.w;
    }
}

// Σx² and max|w·x| of one chunk of `count` ≤ NORM_CHUNK columns (w null: max|x|).
__device__ __forceinline__ float2 chunk_statistics(const float* x, const float* w, int count)
{
    // Loaded first, so that the loads (the weights come from global memory) are in flight together.
    float v[NORM_CHUNK], wv[NORM_CHUNK];
#pragma unroll
    for (int i = 0; i < NORM_CHUNK; i++)
    {
        v[i] = i < count ? x[i] : 0.0f;
        wv[i] = w && i < count ? w[i] : 0.0f;
    }
    return chunk_sums(v, wv, w != nullptr, count);
}

__device__ __forceinline__ int norm_chunks(int width)
{
    return (width + NORM_CHUNK - 1) / NORM_CHUNK;
}

// What a norm and its quantizer need: r = 1/rms (1 without a norm) and the quantizer's s = 127 / max(max|y|, 1e-5).
struct NormScales
{
    float inverse;
    float s;
};

// Every lane of a warp: the chunks' statistics (sums[k], largest[k] for k < chunks, in shared memory) combined in
// ChunkOrderSum's order.
__device__ __forceinline__ NormScales combine_chunks(const float* sums, const float* largest, int chunks, bool weighted,
    int width, float epsilon)
{
    float sum = 0.0f, top = 0.0f;
    for (int k = threadIdx.x % WARP; k < chunks; k += WARP)
    {
        sum += sums[k];
        top = fmaxf(top, largest[k]);
    }
    sum = warp_sum(sum);
    top = warp_max(top);
    NormScales n;
    n.inverse = weighted ? 1.0f / sqrtf((sum / (float)width) + epsilon) : 1.0f;
    n.s = 127.0f / fmaxf(weighted ? top * n.inverse : top, 1e-5f);
    return n;
}

// The normalized value: (w·x)·r, or x without a norm.
__device__ __forceinline__ float normalized(float x, float w, bool weighted, NormScales n)
{
    return weighted ? (w * x) * n.inverse : x;
}

// A block's own statistics of a whole row x (width columns, norm weights w, null: none): each thread takes chunks
// in turn into `chunks` (2·norm_chunks(width) floats of shared memory), then every warp combines them.
__device__ __forceinline__ NormScales block_norm_scales(const float* x, const float* w, int width, float epsilon, float* chunks)
{
    int count = norm_chunks(width);
    for (int k = threadIdx.x; k < count; k += blockDim.x)
    {
        int c0 = k * NORM_CHUNK;
        float2 t = chunk_statistics(x + c0, w ? w + c0 : nullptr, min(NORM_CHUNK, width - c0));
        chunks[k] = t.x;
        chunks[count + k] = t.y;
    }
    __syncthreads();
    return combine_chunks(chunks, chunks + count, count, w != nullptr, width, epsilon);
}

// e^x with float multiplies and adds only, the operations of Tern.Kernels.PortableExp in the same order (compiled
// with --fmad=false), so the CPU and the GPU get the same bits.
__device__ __forceinline__ float portable_exp(float x)
{
    if (x != x)
        return x;
    if (x > 88.72283905206835f)
        return __int_as_float(0x7f800000);
    if (x < -103.97207708f)
        return 0.0f;
    float n = rintf(x * 1.44269504088896341f);
    float r = x - (n * 0.693359375f);
    r = r - (n * -2.12194440e-4f);
    float r2 = r * r;
    float p = 1.9875691500E-4f;
    p = (p * r) + 1.3981999507E-3f;
    p = (p * r) + 8.3334519073E-3f;
    p = (p * r) + 4.1665795894E-2f;
    p = (p * r) + 1.6666665459E-1f;
    p = (p * r) + 5.0000001201E-1f;
    float e = ((p * r2) + r) + 1.0f;
    int k = (int)n;
    if (k > 127)
        return e * __int_as_float(254 << 23) * __int_as_float((k - 127 + 127) << 23);
    if (k < -126)
        return e * __int_as_float((k + 126 + 127) << 23) * __int_as_float(1 << 23);
    return e * __int_as_float((k + 127) << 23);
}

// Programmatic dependent launch (Hopper on): a kernel launched with CudaKernel.LaunchOverlapped lets the next kernel
// start early (its blocks load their weights meanwhile) and waits here for the previous one to finish before it
// touches anything that kernel writes or reads. Launched normally, or before Hopper, both are no-ops.
__device__ __forceinline__ void wait_for_previous_kernel()
{
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void let_next_kernel_start()
{
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Asks for the 128-byte line holding `address` to be brought into L2 (no register waits for it).
__device__ __forceinline__ void prefetch_l2(const void* address)
{
    asm volatile("prefetch.global.L2 [%0];" ::"l"(address));
}

// BitNet's per-token activation quantizer: s = 127 / max(max|y|, 1e-5) (NormScales), q = clamp(rint(y·s), −128, 127)
// (rint: round half to even, as the CPU's MathF.Round).
__device__ __forceinline__ signed char quantize_int8(float y, float s)
{
    return (signed char)fminf(fmaxf(rintf(y * s), -128.0f), 127.0f);
}

// What the inference kernels share: warp and block reductions. CudaInferenceKernels.cs joins this file and the
// kernel files into one NVRTC program (compiled with --fmad=false: the element-wise arithmetic rounds each multiply
// and add as the CPU engine does, so the int8 activations quantized here are the CPU's).
//
// Every kernel reads the position of the first token of a call from step[0] in device memory rather than from an
// argument, so that one captured CUDA graph serves every decoding step.

#define WARP 32
#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float warp_sum(float v)
{
    for (int offset = WARP / 2; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(FULL_MASK, v, offset);
    return v;
}

__device__ __forceinline__ int warp_sum_int(int v)
{
    for (int offset = WARP / 2; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(FULL_MASK, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int offset = WARP / 2; offset > 0; offset >>= 1)
        v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, offset));
    return v;
}

// The sum over the block (blockDim a multiple of 32), the same in every thread. `shared` holds 32 floats; the first
// barrier lets a previous call's readers finish before it is overwritten.
__device__ __forceinline__ float block_sum(float v, float* shared)
{
    v = warp_sum(v);
    __syncthreads();
    if (threadIdx.x % WARP == 0)
        shared[threadIdx.x / WARP] = v;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < (int)(blockDim.x / WARP); w++)
        total += shared[w];
    return total;
}

__device__ __forceinline__ float block_max(float v, float* shared)
{
    v = warp_max(v);
    __syncthreads();
    if (threadIdx.x % WARP == 0)
        shared[threadIdx.x / WARP] = v;
    __syncthreads();
    float largest = shared[0];
    for (int w = 1; w < (int)(blockDim.x / WARP); w++)
        largest = fmaxf(largest, shared[w]);
    return largest;
}

// BitNet's per-token activation quantizer: s = 127 / max(max|y|, 1e-5), q = clamp(rint(y·s), −128, 127) (rint:
// round half to even, as the CPU's MathF.Round).
__device__ __forceinline__ signed char quantize_int8(float y, float s)
{
    return (signed char)fminf(fmaxf(rintf(y * s), -128.0f), 127.0f);
}

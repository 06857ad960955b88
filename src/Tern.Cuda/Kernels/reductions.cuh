// Warp and block reductions every Tern kernel program starts with (SharedKernelSources.Reductions puts this file in
// front of the inference and training kernels, so no #include is needed). A warp's reductions are xor butterflies:
// every lane ends with the same total, in a fixed order. Block reductions need blockDim a multiple of 32.

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

// Puts each warp's value (the same in all its lanes) at shared[warp], for every thread to read. The first barrier
// lets a previous call's readers finish before `shared` is overwritten.
__device__ __forceinline__ void share_warp_values(float v, float* shared)
{
    __syncthreads();
    if (threadIdx.x % WARP == 0)
        shared[threadIdx.x / WARP] = v;
    __syncthreads();
}

// The sum over the block, the same in every thread. `shared` holds 32 floats.
__device__ __forceinline__ float block_sum(float v, float* shared)
{
    share_warp_values(warp_sum(v), shared);
    float total = 0.0f;
    for (int w = 0; w < (int)(blockDim.x / WARP); w++)
        total += shared[w];
    return total;
}

__device__ __forceinline__ float block_max(float v, float* shared)
{
    share_warp_values(warp_max(v), shared);
    float largest = shared[0];
    for (int w = 1; w < (int)(blockDim.x / WARP); w++)
        largest = fmaxf(largest, shared[w]);
    return largest;
}


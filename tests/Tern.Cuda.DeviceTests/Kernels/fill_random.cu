// Uniform random values in [-1, 1) from a counter-based hash of (seed, index), so large inputs for timing are made
// on the device instead of uploaded. Not for statistics: only to avoid timing products of zeros.
__device__ float uniform_from_hash(unsigned long long seed, long long i)
{
    unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (unsigned long long)(i + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

extern "C" __global__ void fill_uniform_f32(float* x, long long n, unsigned long long seed)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        x[i] = uniform_from_hash(seed, i);
}

// bfloat16 as the upper half of the float32 (truncation is fine for random test data).
extern "C" __global__ void fill_uniform_bf16(unsigned short* x, long long n, unsigned long long seed)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        x[i] = (unsigned short)(__float_as_uint(uniform_from_hash(seed, i)) >> 16);
}

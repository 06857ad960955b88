// Float matrices (the output head, and any matrix that is not ternary): weights as F16, BF16 or F32, activations as
// floats, products and sums in float32. A warp per row, up to FLOAT_MAX_TOKENS tokens per launch, each weight read
// once for all of them; rows whose start is 16-byte aligned are read 16 bytes per lane.

#define FLOAT_MAX_TOKENS 8

// IEEE half to float (exact), without cuda_fp16.h, which NVRTC may not find.
__device__ __forceinline__ float half_to_float(unsigned short bits)
{
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
    return f;
}

__device__ __forceinline__ float sixteen_bit_value(unsigned int bits, int kind)
{
    return kind == 1 ? half_to_float((unsigned short)bits) : __uint_as_float(bits << 16);
}

// kind: 0 float32, 1 float16, 2 bfloat16. x [tokens, columns] floats; y[t·y_stride + row] set or added to.
extern "C" __global__ void float_matvec(const void* __restrict__ weights, int kind, int rows, int columns,
    const float* __restrict__ x, int tokens, float* __restrict__ y, int y_stride, int accumulate)
{
    int row = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP);
    int lane = threadIdx.x % WARP;
    if (row >= rows)
        return;
    float acc[FLOAT_MAX_TOKENS];
#pragma unroll
    for (int t = 0; t < FLOAT_MAX_TOKENS; t++)
        acc[t] = 0.0f;

    if (kind == 0)
    {
        const float* w = static_cast<const float*>(weights) + (long long)row * columns;
        for (int c = lane; c < columns; c += WARP)
        {
            float v = __ldg(w + c);
#pragma unroll
            for (int t = 0; t < FLOAT_MAX_TOKENS; t++)
                if (t < tokens)
                    acc[t] += v * x[(long long)t * columns + c];
        }
    }
    else
    {
        const unsigned short* w = static_cast<const unsigned short*>(weights) + (long long)row * columns;
        int vectors = (columns % 8 == 0) ? columns / 8 : 0;
        for (int i = lane; i < vectors; i += WARP)
        {
            uint4 packed = __ldg(reinterpret_cast<const uint4*>(w) + i);
            unsigned int words[4] = { packed.x, packed.y, packed.z, packed.w };
            float v[8];
#pragma unroll
            for (int k = 0; k < 4; k++)
            {
                unsigned int lo = words[k] & 0xffffu, hi = words[k] >> 16;
                v[2 * k] = sixteen_bit_value(lo, kind);
                v[2 * k + 1] = sixteen_bit_value(hi, kind);
            }
#pragma unroll
            for (int t = 0; t < FLOAT_MAX_TOKENS; t++)
            {
                if (t < tokens)
                {
                    const float4* xv = reinterpret_cast<const float4*>(x + (long long)t * columns) + i * 2;
                    float4 a = xv[0], b = xv[1];
                    acc[t] += v[0] * a.x + v[1] * a.y + v[2] * a.z + v[3] * a.w + v[4] * b.x + v[5] * b.y + v[6] * b.z + v[7] * b.w;
                }
            }
        }
        for (int c = vectors * 8 + lane; c < columns; c += WARP)
        {
            float v = sixteen_bit_value(w[c], kind);
#pragma unroll
            for (int t = 0; t < FLOAT_MAX_TOKENS; t++)
                if (t < tokens)
                    acc[t] += v * x[(long long)t * columns + c];
        }
    }

#pragma unroll
    for (int t = 0; t < FLOAT_MAX_TOKENS; t++)
    {
        if (t < tokens)
        {
            float value = warp_sum(acc[t]);
            if (lane == 0)
            {
                float* o = y + (long long)t * y_stride + row;
                *o = accumulate ? *o + value : value;
            }
        }
    }
}

// y[t·y_stride + c] += add[t·columns + c]: a product the host computed, added to the residual stream.
extern "C" __global__ void add_rows(const float* __restrict__ add, int tokens, int columns, float* __restrict__ y, int y_stride)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= (long long)tokens * columns)
        return;
    int t = (int)(i / columns), c = (int)(i % columns);
    y[(long long)t * y_stride + c] += add[i];
}

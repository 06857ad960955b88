// Ternary matrix products. Weights are stored as 2-bit codes w + 1 ∈ {0, 1, 2}, each row padded with zero weights to
// a multiple of 64 columns; a 32-bit word holds 16 consecutive weights, weight 4·s + b of the word in bits 2·s of
// byte b, so (word >> 2·s) & 0x03030303 is four consecutive codes as bytes, and subtracting 1 from each byte
// (__vsub4, no borrow between bytes) gives the four weights as signed bytes for __dp4a with four activations; the
// decoding kernels instead multiply the codes as they lie (codes_dot64) and subtract the activations' sum.
// Integer dot products are exact, so the output is the CPU's: y = dot · (γ / s), or with block scales
// y = Σ_b dot_b·γ_b / s.

#define TERNARY_MAX_TOKENS 8

__device__ __forceinline__ int dot16(unsigned int word, int4 a, int acc)
{
    acc = __dp4a((int)__vsub4(word & 0x03030303u, 0x01010101u), a.x, acc);
    acc = __dp4a((int)__vsub4((word >> 2) & 0x03030303u, 0x01010101u), a.y, acc);
    acc = __dp4a((int)__vsub4((word >> 4) & 0x03030303u, 0x01010101u), a.z, acc);
    acc = __dp4a((int)__vsub4((word >> 6) & 0x03030303u, 0x01010101u), a.w, acc);
    return acc;
}

// Four products of unsigned bytes (a) with signed bytes (b), added to c.
__device__ __forceinline__ int dp4a_unsigned_signed(unsigned int a, int b, int c)
{
    int d;
    asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}

// Σ code·a over a group's 64 codes (v) and activations (a0 … a3, 16 each), without unpacking: field s of every byte,
// masked in place, is code·4^s, so each field's products are summed apart and divided back exactly (a shift), and
// no byte needs a subtraction. The weights' dot product is this minus Σ a (activation_sum64).
__device__ __forceinline__ int codes_dot64(uint4 v, int4 a0, int4 a1, int4 a2, int4 a3)
{
    int f0 = dp4a_unsigned_signed(v.x & 0x03030303u, a0.x, 0);
    f0 = dp4a_unsigned_signed(v.y & 0x03030303u, a1.x, f0);
    f0 = dp4a_unsigned_signed(v.z & 0x03030303u, a2.x, f0);
    f0 = dp4a_unsigned_signed(v.w & 0x03030303u, a3.x, f0);
    int f1 = dp4a_unsigned_signed(v.x & 0x0c0c0c0cu, a0.y, 0);
    f1 = dp4a_unsigned_signed(v.y & 0x0c0c0c0cu, a1.y, f1);
    f1 = dp4a_unsigned_signed(v.z & 0x0c0c0c0cu, a2.y, f1);
    f1 = dp4a_unsigned_signed(v.w & 0x0c0c0c0cu, a3.y, f1);
    int f2 = dp4a_unsigned_signed(v.x & 0x30303030u, a0.z, 0);
    f2 = dp4a_unsigned_signed(v.y & 0x30303030u, a1.z, f2);
    f2 = dp4a_unsigned_signed(v.z & 0x30303030u, a2.z, f2);
    f2 = dp4a_unsigned_signed(v.w & 0x30303030u, a3.z, f2);
    int f3 = dp4a_unsigned_signed(v.x & 0xc0c0c0c0u, a0.w, 0);
    f3 = dp4a_unsigned_signed(v.y & 0xc0c0c0c0u, a1.w, f3);
    f3 = dp4a_unsigned_signed(v.z & 0xc0c0c0c0u, a2.w, f3);
    f3 = dp4a_unsigned_signed(v.w & 0xc0c0c0c0u, a3.w, f3);
    return f0 + (f1 >> 2) + (f2 >> 4) + (f3 >> 6);
}

__device__ __forceinline__ int activation_sum16(int4 a, int acc)
{
    acc = __dp4a(0x01010101, a.x, acc);
    acc = __dp4a(0x01010101, a.y, acc);
    acc = __dp4a(0x01010101, a.z, acc);
    return __dp4a(0x01010101, a.w, acc);
}

// A warp per row, up to TERNARY_MAX_TOKENS tokens per launch (decoding, short prompts): each weight is read once
// and used for every token. codes [rows, groups] of uint4 (64 weights each); q [tokens, q_stride] int8 with
// q_stride = 64·groups; scale_blocks 0: one scale for the matrix (scales[0]), else scales [rows, scale_blocks].
// y[t·y_stride + row] is set, or added to when accumulate (the residual stream).
extern "C" __global__ void ternary_matvec(const uint4* __restrict__ codes, int rows, int groups,
    const float* __restrict__ scales, int scale_blocks, const signed char* __restrict__ q,
    const float* __restrict__ q_scales, int tokens, float* __restrict__ y, int y_stride, int accumulate)
{
    int row = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP);
    int lane = threadIdx.x % WARP;
    if (row >= rows)
        return;
    const uint4* w = codes + (long long)row * groups;
    int q_stride = groups * 64;
    int groups_per_scale = scale_blocks > 0 ? groups / scale_blocks : groups;
    int acc[TERNARY_MAX_TOKENS];
    float facc[TERNARY_MAX_TOKENS];
#pragma unroll
    for (int t = 0; t < TERNARY_MAX_TOKENS; t++)
    {
        acc[t] = 0;
        facc[t] = 0.0f;
    }

    for (int i = lane; i < groups; i += WARP)
    {
        uint4 v = __ldg(w + i);
        float block_scale = scale_blocks > 0 ? scales[(long long)row * scale_blocks + i / groups_per_scale] : 0.0f;
#pragma unroll
        for (int t = 0; t < TERNARY_MAX_TOKENS; t++)
        {
            if (t < tokens)
            {
                const int4* a = reinterpret_cast<const int4*>(q + (long long)t * q_stride) + i * 4;
                int d = dot16(v.x, __ldg(a), 0);
                d = dot16(v.y, __ldg(a + 1), d);
                d = dot16(v.z, __ldg(a + 2), d);
                d = dot16(v.w, __ldg(a + 3), d);
                if (scale_blocks > 0)
                    facc[t] += (float)d * block_scale;
                else
                    acc[t] += d;
            }
        }
    }

#pragma unroll
    for (int t = 0; t < TERNARY_MAX_TOKENS; t++)
    {
        if (t < tokens)
        {
            float value;
            if (scale_blocks > 0)
            {
                value = warp_sum(facc[t]) / q_scales[t];
            }
            else
            {
                int total = warp_sum_int(acc[t]);
                value = (float)total * (scales[0] / q_scales[t]);
            }
            if (lane == 0)
            {
                float* o = y + (long long)t * y_stride + row;
                *o = accumulate ? *o + value : value;
            }
        }
    }
}

// Codes to signed bytes for the int8 tensor-core product of a prompt: word i becomes bytes 16·i … 16·i + 15.
extern "C" __global__ void ternary_unpack(const unsigned int* __restrict__ codes, long long words, int4* __restrict__ out)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= words)
        return;
    unsigned int word = codes[i];
    int4 o;
    o.x = (int)__vsub4(word & 0x03030303u, 0x01010101u);
    o.y = (int)__vsub4((word >> 2) & 0x03030303u, 0x01010101u);
    o.z = (int)__vsub4((word >> 4) & 0x03030303u, 0x01010101u);
    o.w = (int)__vsub4((word >> 6) & 0x03030303u, 0x01010101u);
    out[i] = o;
}

// The product's integers [tokens, rows] to outputs: y = dot · (γ / s_t), set or added.
extern "C" __global__ void scale_products(const int* __restrict__ products, int tokens, int rows, float gamma,
    const float* __restrict__ q_scales, float* __restrict__ y, int y_stride, int accumulate)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= (long long)tokens * rows)
        return;
    int t = (int)(i / rows), r = (int)(i % rows);
    float value = (float)products[i] * (gamma / q_scales[t]);
    float* o = y + (long long)t * y_stride + r;
    *o = accumulate ? *o + value : value;
}

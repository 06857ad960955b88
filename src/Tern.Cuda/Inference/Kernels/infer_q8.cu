// Q8_0 matrices (a head requantized with --head-type q8_0, or stored so): int8 weights [rows, columns] and one fp16
// scale per 32 of a row, multiplied as llama.cpp and the CPU engine's Q8_0WeightMatrix do, against activations
// quantized to Q8_0 themselves: each block of 32 is an integer dot product, scaled by both blocks' scales and summed
// in float32. A warp per row, up to Q8_MAX_TOKENS tokens per launch, each weight read once for all of them.

#define Q8_MAX_TOKENS 8

// Tern.Quantization.Q8_0Activations (llama.cpp's quantize_row_q8_0): per 32 values d = max|x| / 127, the scale kept is
// d rounded to fp16, q = x·(1/d) rounded half away from zero. A thread per block of 32; x [tokens, columns].
extern "C" __global__ void quantize_q8_0(const float* __restrict__ x, int columns, int tokens, signed char* __restrict__ q,
    float* __restrict__ scales)
{
    int blocks = columns / 32;
    int index = (int)(blockIdx.x * (long long)blockDim.x + threadIdx.x);
    if (index >= blocks * tokens)
        return;
    const float* v = x + (long long)index * 32;
    float largest = 0.0f;
#pragma unroll 8
    for (int i = 0; i < 32; i++)
        largest = fmaxf(largest, fabsf(v[i]));
    float d = largest / 127.0f;
    float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    unsigned short bits;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(d));
    scales[index] = half_to_float(bits);
    unsigned int words[8];
#pragma unroll
    for (int w = 0; w < 8; w++)
    {
        unsigned int word = 0;
#pragma unroll
        for (int i = 0; i < 4; i++)
            word |= (unsigned int)(unsigned char)(signed char)roundf(v[4 * w + i] * inverse) << (8 * i);
        words[w] = word;
    }
    uint4* out = reinterpret_cast<uint4*>(q + (long long)index * 32);
    out[0] = make_uint4(words[0], words[1], words[2], words[3]);
    out[1] = make_uint4(words[4], words[5], words[6], words[7]);
}

// y[t·y_stride + row] = Σ_b (w_b·q_b)·(d_w,b·d_q,b), set or added to. weights [rows, columns] int8, weight_scales
// [rows, columns / 32] fp16 bits, q [tokens, columns] int8 with q_scales [tokens, columns / 32].
extern "C" __global__ void q8_matvec(const signed char* __restrict__ weights, const unsigned short* __restrict__ weight_scales,
    int rows, int columns, const signed char* __restrict__ q, const float* __restrict__ q_scales, int tokens,
    float* __restrict__ y, int y_stride, int accumulate)
{
    int row = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP);
    int lane = threadIdx.x % WARP;
    if (row >= rows)
        return;
    int blocks = columns / 32;
    const uint4* w = reinterpret_cast<const uint4*>(weights + (long long)row * columns);
    const unsigned short* ws = weight_scales + (long long)row * blocks;
    float acc[Q8_MAX_TOKENS];
#pragma unroll
    for (int t = 0; t < Q8_MAX_TOKENS; t++)
        acc[t] = 0.0f;
    for (int b = lane; b < blocks; b += WARP)
    {
        uint4 w0 = __ldg(w + 2 * b), w1 = __ldg(w + 2 * b + 1);
        float d = half_to_float(__ldg(ws + b));
#pragma unroll
        for (int t = 0; t < Q8_MAX_TOKENS; t++)
        {
            if (t < tokens)
            {
                const int4* a = reinterpret_cast<const int4*>(q + (long long)t * columns) + 2 * b;
                int4 a0 = a[0], a1 = a[1];
                int dot = __dp4a((int)w0.x, a0.x, 0);
                dot = __dp4a((int)w0.y, a0.y, dot);
                dot = __dp4a((int)w0.z, a0.z, dot);
                dot = __dp4a((int)w0.w, a0.w, dot);
                dot = __dp4a((int)w1.x, a1.x, dot);
                dot = __dp4a((int)w1.y, a1.y, dot);
                dot = __dp4a((int)w1.z, a1.z, dot);
                dot = __dp4a((int)w1.w, a1.w, dot);
                acc[t] += (float)dot * (d * q_scales[(long long)t * blocks + b]);
            }
        }
    }
#pragma unroll
    for (int t = 0; t < Q8_MAX_TOKENS; t++)
    {
        if (t < tokens)
        {
            float total = warp_sum(acc[t]);
            if (lane == 0)
            {
                float* out = y + (long long)t * y_stride + row;
                *out = accumulate ? *out + total : total;
            }
        }
    }
}

// What every training kernel shares beyond Tern.Cuda's reductions.cuh: the operand type of the matrix products and
// the dropout hash. CudaTrainingKernels.cs puts reductions.cuh and this file in front of the kernel files.
//
// Warp-per-row kernels (softmax, cross-entropy) let lane k touch columns k, k + 32, …; a warp's reductions (xor
// butterflies) leave the same total in every lane, in a fixed order. Block-per-row kernels are described below.

// The element type the matrix products read: bfloat16 (stored as its 16 bits) by default, float32 when the model is
// compiled with OPERAND_FLOAT32 (the precise mode the agreement checks use).
#ifdef OPERAND_FLOAT32
typedef float operand_t;
__device__ __forceinline__ operand_t to_operand(float v) { return v; }
__device__ __forceinline__ float from_operand(operand_t v) { return v; }
#else
typedef unsigned short operand_t;
// Round to nearest, ties to even, as __float2bfloat16_rn does; NaN stays NaN. Integers up to 256 in magnitude (the
// quantized activations) and −1, 0, 1 (the ternary weights) are exact.
__device__ __forceinline__ operand_t to_operand(float v)
{
    unsigned int bits = __float_as_uint(v);
    if ((bits & 0x7fffffffu) > 0x7f800000u)
        return (operand_t)((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (operand_t)(bits >> 16);
}
__device__ __forceinline__ float from_operand(operand_t v) { return __uint_as_float(((unsigned int)v) << 16); }
#endif

__device__ __forceinline__ double warp_sum_double(double v)
{
    for (int offset = WARP / 2; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(FULL_MASK, v, offset);
    return v;
}

// Row kernels that give a block one row (or a few, one after another): thread k holds columns k, k + blockDim, …, at
// most ROW_VALUES of them, in registers (the loops over them are unrolled, so the arrays stay in registers); the host
// picks blockDim so that a row fits.
#define ROW_VALUES 8

// The global warp index and lane of a warp-per-row kernel's thread.
__device__ __forceinline__ long long global_warp() { return ((long long)blockIdx.x * blockDim.x + threadIdx.x) / WARP; }
__device__ __forceinline__ int lane_id() { return threadIdx.x % WARP; }

// CounterHash.Hash of Tern.Training (SplitMix64's output function over key + (counter + 1)·golden ratio): the same
// bits as the CPU, so a dropout mask here equals the CPU's. An element is kept when the hash's top 53 bits, as a
// fraction of 2⁵³, reach the probability: the host passes that threshold as ⌈p·2⁵³⌉, an exact integer comparison.
__device__ __forceinline__ unsigned long long counter_hash(unsigned long long key, unsigned long long counter)
{
    unsigned long long z = key + (counter + 1ull) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// x·(1/(1−p)) where the mask keeps the element, else 0; threshold 0 keeps everything (scale 1 then).
__device__ __forceinline__ float dropout(float x, unsigned long long key, unsigned long long index,
    unsigned long long threshold, float keep_scale)
{
    if (threshold == 0ull)
        return x;
    return (counter_hash(key, index) >> 11) >= threshold ? x * keep_scale : 0.0f;
}

// The attention-dropout factor of softmax weight `index` (its index in [batch, H, T, T], AttentionDropout.Counter):
// keep_scale = 1/(1−p) where the mask keeps it, 0 where it drops it, and 1 when threshold is 0 (dropout off), so
// that multiplying by it changes nothing then.
__device__ __forceinline__ float attention_dropout_factor(unsigned long long key, unsigned long long index,
    unsigned long long threshold, float keep_scale)
{
    if (threshold == 0ull)
        return 1.0f;
    return (counter_hash(key, index) >> 11) >= threshold ? keep_scale : 0.0f;
}

// γ/s for one row of a BitLinear output: γ of the weight (gammas null: 1) over the row's activation scale s
// (scales null: 1), the factor the CPU's BitLinear.Forward applies.
__device__ __forceinline__ float bitlinear_factor(const float* gammas, int gamma_index, const float* scales, long long row)
{
    float gamma = gammas ? gammas[gamma_index] : 1.0f;
    return gamma / (scales ? scales[row] : 1.0f);
}

// Whole-arena work over the parameter layout, cut into chunks of one tensor each (the host's chunk table: where each
// chunk starts, its length, its tensor; each tensor's kind, in ParameterKind's numbering): the weight quantizer's γ,
// the ternary (or converted) weight operands, the global gradient norm and clip factor, and AdamW.

#define KIND_LINEAR 1
#define KIND_NORM 3

// A block's sum in double, in a fixed order (warps' sums in warp order); blockDim.x ≤ 1024.
__device__ double block_sum_double(double value)
{
    __shared__ double warp_sums[32];
    value = warp_sum_double(value);
    if (lane_id() == 0)
        warp_sums[threadIdx.x / WARP] = value;
    __syncthreads();
    double total = 0.0;
    for (int w = 0; w < (int)(blockDim.x / WARP); w++)
        total += warp_sums[w];
    __syncthreads();
    return total;
}

// partials[chunk] = Σ |w| (absolute, for γ; only chunks of BitLinear weights) or Σ g² (squares, every chunk), in double.
extern "C" __global__ void chunk_sums(const float* __restrict__ values, const long long* __restrict__ chunk_offsets,
    const int* __restrict__ chunk_lengths, const int* __restrict__ chunk_tensors, const int* __restrict__ tensor_kinds,
    int squares, double* __restrict__ partials)
{
    int chunk = blockIdx.x;
    if (!squares && tensor_kinds[chunk_tensors[chunk]] != KIND_LINEAR)
        return;
    const float* v = values + chunk_offsets[chunk];
    int length = chunk_lengths[chunk];
    double sum = 0.0;
    for (int i = threadIdx.x; i < length; i += blockDim.x)
    {
        double x = (double)v[i];
        sum += squares ? x * x : fabs(x);
    }
    sum = block_sum_double(sum);
    if (threadIdx.x == 0)
        partials[chunk] = sum;
}

// γ = max(mean|W|, 1e-5) per BitLinear tensor from its chunks' sums, added in order; 1 for every other tensor.
extern "C" __global__ void weight_gammas(const double* __restrict__ partials, const int* __restrict__ tensor_first_chunks,
    const int* __restrict__ tensor_chunk_counts, const long long* __restrict__ tensor_lengths,
    const int* __restrict__ tensor_kinds, int tensors, float* __restrict__ gammas)
{
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= tensors)
        return;
    if (tensor_kinds[t] != KIND_LINEAR)
    {
        gammas[t] = 1.0f;
        return;
    }
    double sum = 0.0;
    for (int k = 0; k < tensor_chunk_counts[t]; k++)
        sum += partials[tensor_first_chunks[t] + k];
    gammas[t] = (float)fmax(sum / (double)tensor_lengths[t], 1e-5);
}

// The weights as the products read them: W̃ = clamp(rint(W/γ), −1, 1) for BitLinear weights when ternary, W itself
// (as an operand) for the rest; norm weights have no operand.
extern "C" __global__ void weight_operands(const float* __restrict__ parameters, const long long* __restrict__ chunk_offsets,
    const int* __restrict__ chunk_lengths, const int* __restrict__ chunk_tensors, const int* __restrict__ tensor_kinds,
    const float* __restrict__ gammas, int ternary, operand_t* __restrict__ operands)
{
    int chunk = blockIdx.x;
    int tensor = chunk_tensors[chunk];
    int kind = tensor_kinds[tensor];
    if (kind == KIND_NORM)
        return;
    long long offset = chunk_offsets[chunk];
    int length = chunk_lengths[chunk];
    float gamma = gammas[tensor];
    bool quantize = ternary && kind == KIND_LINEAR;
    for (int i = threadIdx.x; i < length; i += blockDim.x)
    {
        float w = parameters[offset + i];
        operands[offset + i] = to_operand(quantize ? fminf(fmaxf(rintf(w / gamma), -1.0f), 1.0f) : w);
    }
}

// The global norm √Σg² from the chunks' sums (one block), and the factor that clips it: max_norm / norm when the
// norm exceeds max_norm > 0, else 1 (GradientClipping's rule, no epsilon).
extern "C" __global__ void gradient_norm(const double* __restrict__ partials, int chunks, double max_norm,
    double* __restrict__ norm, float* __restrict__ clip_factor)
{
    double sum = 0.0;
    for (int i = threadIdx.x; i < chunks; i += blockDim.x)
        sum += partials[i];
    sum = block_sum_double(sum);
    if (threadIdx.x == 0)
    {
        double value = sqrt(sum);
        *norm = value;
        *clip_factor = max_norm > 0.0 && value > max_norm ? (float)(max_norm / value) : 1.0f;
    }
}

// AdamW as AdamW<float> computes it, on clipped gradients g·clip_factor: decoupled decay (decay = 1 − lr·λ, not for
// norm weights), bias-corrected moments through step_size = lr / (1 − β1ᵗ) and sqrt_correction2 = √(1 − β2ᵗ).
extern "C" __global__ void adamw(float* __restrict__ parameters, const float* __restrict__ gradients,
    float* __restrict__ first_moment, float* __restrict__ second_moment, const long long* __restrict__ chunk_offsets,
    const int* __restrict__ chunk_lengths, const int* __restrict__ chunk_tensors, const int* __restrict__ tensor_kinds,
    const float* __restrict__ clip_factor, float beta1, float beta2, float epsilon, float step_size,
    float sqrt_correction2, float decay)
{
    int chunk = blockIdx.x;
    float d = tensor_kinds[chunk_tensors[chunk]] == KIND_NORM ? 1.0f : decay;
    float factor = *clip_factor;
    long long offset = chunk_offsets[chunk];
    int length = chunk_lengths[chunk];
    for (int k = threadIdx.x; k < length; k += blockDim.x)
    {
        long long i = offset + k;
        float g = factor != 1.0f ? gradients[i] * factor : gradients[i];
        float m = first_moment[i] = (beta1 * first_moment[i]) + ((1.0f - beta1) * g);
        float v = second_moment[i] = (beta2 * second_moment[i]) + ((1.0f - beta2) * g * g);
        parameters[i] = (parameters[i] * d) - (step_size * m / ((sqrtf(v) / sqrt_correction2) + epsilon));
    }
}

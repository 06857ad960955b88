// The gated FFN between the fused gate/up product and the down product: m = act(g) ⊙ u, act = relu(g)² (bitnet-b1.58)
// or silu(g) (llama), then the FFN sub-norm (bitnet-b1.58) and the down projection's activation quantizer, in one
// pass per row; and the way back.

__device__ __forceinline__ float activate(int relu_squared, float g)
{
    if (relu_squared)
    {
        float r = fmaxf(g, 0.0f);
        return r * r;
    }
    return g / (1.0f + expf(-g));
}

__device__ __forceinline__ float activation_derivative(int relu_squared, float g)
{
    if (relu_squared)
        return 2.0f * fmaxf(g, 0.0f);
    float sigmoid = 1.0f / (1.0f + expf(-g));
    return sigmoid * (1.0f + (g * (1.0f - sigmoid)));
}

// A block per row of gu [rows, 2F] (gate columns, then up columns), the raw product: m = act(g·γg/s) ⊙ (u·γu/s), then
// m's operand for the down projection (normalized by the sub-norm when normalize, quantized when quantize). Neither
// the scaled gate and up nor m are stored: the backward pass recomputes them from the raw product, bit for bit, which
// costs less than writing and reading them back.
extern "C" __global__ void gated_forward(const float* __restrict__ gu, int rows, int ffn, const float* __restrict__ gammas,
    int gamma_index_gate, const float* __restrict__ scales, int relu_squared, int normalize,
    const float* __restrict__ weight, float epsilon, int quantize, float* __restrict__ reciprocal_rms,
    operand_t* __restrict__ out, float* __restrict__ out_scales)
{
    __shared__ float shared[32];
    long long row = blockIdx.x;
    float gate_factor = bitlinear_factor(gammas, gamma_index_gate, scales, row);
    float up_factor = bitlinear_factor(gammas, gamma_index_gate + 1, scales, row);
    const float* g = gu + row * 2 * ffn;
    const float* u = g + ffn;
    float m[ROW_VALUES];
#pragma unroll
    for (int k = 0; k < ROW_VALUES; k++)
    {
        int c = threadIdx.x + k * blockDim.x;
        m[k] = c < ffn ? activate(relu_squared, g[c] * gate_factor) * (u[c] * up_factor) : 0.0f;
    }
    norm_quantize_values(m, weight, ffn, epsilon, normalize, quantize, row, reciprocal_rms, out, out_scales, shared);
}

// A block per rows_per_block rows: from dy, the gradient of the down projection's input, back through the sub-norm
// (the block's partial sums of its weight's gradient, as in rmsnorm_backward) and the gate, to the operands of the
// gate/up backward products: [dg·γg | du·γu] and [dg/s | du/s]. The gate, up and m are recomputed from the raw
// product gu as gated_forward computed them.
extern "C" __global__ void gated_backward(const float* __restrict__ dy, const float* __restrict__ reciprocal_rms,
    const float* __restrict__ weight, int normalize, const float* __restrict__ gu, int rows, int ffn, int relu_squared,
    const float* __restrict__ gammas, int gamma_index_gate, const float* __restrict__ scales, int rows_per_block,
    operand_t* __restrict__ d_gamma, operand_t* __restrict__ d_over_scale, float* __restrict__ partials)
{
    __shared__ float shared[32];
    float w[ROW_VALUES], part[ROW_VALUES];
#pragma unroll
    for (int k = 0; k < ROW_VALUES; k++)
    {
        int c = threadIdx.x + k * blockDim.x;
        w[k] = normalize && c < ffn ? weight[c] : 0.0f;
        part[k] = 0.0f;
    }
    float gamma_gate = gammas ? gammas[gamma_index_gate] : 1.0f;
    float gamma_up = gammas ? gammas[gamma_index_gate + 1] : 1.0f;
    float n = (float)ffn;
    int first = blockIdx.x * rows_per_block;
    int last = min(first + rows_per_block, rows);
    for (int row = first; row < last; row++)
    {
        const float* dyr = dy + (long long)row * ffn;
        const float* g = gu + (long long)row * 2 * ffn;
        const float* u = g + ffn;
        float gate_factor = bitlinear_factor(gammas, gamma_index_gate, scales, row);
        float up_factor = bitlinear_factor(gammas, gamma_index_gate + 1, scales, row);
        float gate[ROW_VALUES], up[ROW_VALUES], dv[ROW_VALUES];
        float dot = 0.0f;
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            gate[k] = c < ffn ? g[c] * gate_factor : 0.0f;
            up[k] = c < ffn ? u[c] * up_factor : 0.0f;
            dv[k] = c < ffn ? dyr[c] : 0.0f;
            dot += (activate(relu_squared, gate[k]) * up[k]) * w[k] * dv[k];
        }
        float inverse = 1.0f, correction = 0.0f;
        if (normalize)
        {
            dot = block_sum(dot, shared);
            inverse = reciprocal_rms[row];
            correction = inverse * inverse * inverse * dot / n;
        }
        float inverse_scale = scales ? 1.0f / scales[row] : 1.0f;
        operand_t* out_gamma = d_gamma + (long long)row * 2 * ffn;
        operand_t* out_scale = d_over_scale + (long long)row * 2 * ffn;
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            if (c >= ffn)
                continue;
            float activated = activate(relu_squared, gate[k]);
            float dm = dv[k];
            if (normalize)
            {
                float h = activated * up[k];
                part[k] += dv[k] * h * inverse;
                dm = (inverse * w[k] * dv[k]) - (correction * h);
            }
            float d_gate = dm * up[k] * activation_derivative(relu_squared, gate[k]);
            float d_up = dm * activated;
            out_gamma[c] = to_operand(d_gate * gamma_gate);
            out_gamma[ffn + c] = to_operand(d_up * gamma_up);
            out_scale[c] = to_operand(scales ? d_gate * inverse_scale : d_gate);
            out_scale[ffn + c] = to_operand(scales ? d_up * inverse_scale : d_up);
        }
    }
    if (normalize)
    {
#pragma unroll
        for (int k = 0; k < ROW_VALUES; k++)
        {
            int c = threadIdx.x + k * blockDim.x;
            if (c < ffn)
                partials[(long long)blockIdx.x * ffn + c] = part[k];
        }
    }
}

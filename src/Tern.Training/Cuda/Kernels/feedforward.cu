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

// A warp per row of gu [rows, 2F] (gate columns, then up columns), the raw product: m = act(g·γg/s) ⊙ (u·γu/s), then
// m's operand for the down projection (normalized by the sub-norm when normalize, quantized when quantize). Neither
// the scaled gate and up nor m are stored: the backward pass recomputes them from the raw product, bit for bit, which
// costs less than writing and reading them back. Each of the three passes over the row recomputes m from the row
// (8 KB at F = 1024), which stays in L1.
extern "C" __global__ void gated_forward(const float* __restrict__ gu, int rows, int ffn, const float* __restrict__ gammas,
    int gamma_index_gate, const float* __restrict__ scales, int relu_squared, int normalize,
    const float* __restrict__ weight, float epsilon, int quantize, float* __restrict__ reciprocal_rms,
    operand_t* __restrict__ out, float* __restrict__ out_scales)
{
    long long row = global_warp();
    if (row >= rows)
        return;
    int lane = lane_id();
    float gate_factor = bitlinear_factor(gammas, gamma_index_gate, scales, row);
    float up_factor = bitlinear_factor(gammas, gamma_index_gate + 1, scales, row);
    const float* g = gu + row * 2 * ffn;
    const float* u = g + ffn;
    float inverse = 1.0f;
    if (normalize)
    {
        float sum = 0.0f;
        for (int c = lane; c < ffn; c += WARP)
        {
            float m = activate(relu_squared, g[c] * gate_factor) * (u[c] * up_factor);
            sum += m * m;
        }
        sum = warp_sum(sum);
        inverse = 1.0f / sqrtf((sum / (float)ffn) + epsilon);
        if (lane == 0)
            reciprocal_rms[row] = inverse;
    }

    float scale = 1.0f;
    if (quantize)
    {
        float largest = 0.0f;
        for (int c = lane; c < ffn; c += WARP)
        {
            float m = activate(relu_squared, g[c] * gate_factor) * (u[c] * up_factor);
            largest = fmaxf(largest, fabsf(normalize ? weight[c] * (inverse * m) : m));
        }
        largest = warp_max(largest);
        scale = 127.0f / fmaxf(largest, 1e-5f);
        if (lane == 0)
            out_scales[row] = scale;
    }

    operand_t* o = out + row * ffn;
    for (int c = lane; c < ffn; c += WARP)
    {
        float m = activate(relu_squared, g[c] * gate_factor) * (u[c] * up_factor);
        float y = normalize ? weight[c] * (inverse * m) : m;
        o[c] = to_operand(quantize ? fminf(fmaxf(rintf(y * scale), -128.0f), 127.0f) : y);
    }
}

// A warp per row, rows_per_warp rows each: from dy, the gradient of the down projection's input, back through the
// sub-norm (partial sums of its weight's gradient as in rmsnorm_backward) and the gate, to the operands of the gate/up
// backward products: [dg·γg | du·γu] and [dg/s | du/s]. The gate, up and m are recomputed from the raw product gu as
// gated_forward computed them.
extern "C" __global__ void gated_backward(const float* __restrict__ dy, const float* __restrict__ reciprocal_rms,
    const float* __restrict__ weight, int normalize, const float* __restrict__ gu, int rows, int ffn, int relu_squared,
    const float* __restrict__ gammas,
    int gamma_index_gate, const float* __restrict__ scales, int rows_per_warp, operand_t* __restrict__ d_gamma,
    operand_t* __restrict__ d_over_scale, float* __restrict__ partials)
{
    long long warp = global_warp();
    long long first = warp * rows_per_warp;
    if (first >= rows)
        return;
    int lane = lane_id();
    float* part = partials + warp * ffn;
    if (normalize)
    {
        for (int c = lane; c < ffn; c += WARP)
            part[c] = 0.0f;
    }
    float gamma_gate = gammas ? gammas[gamma_index_gate] : 1.0f;
    float gamma_up = gammas ? gammas[gamma_index_gate + 1] : 1.0f;
    float n = (float)ffn;
    long long last = min(first + rows_per_warp, (long long)rows);
    for (long long row = first; row < last; row++)
    {
        const float* dyr = dy + row * ffn;
        const float* g = gu + row * 2 * ffn;
        const float* u = g + ffn;
        float gate_factor = bitlinear_factor(gammas, gamma_index_gate, scales, row);
        float up_factor = bitlinear_factor(gammas, gamma_index_gate + 1, scales, row);
        float inverse = 1.0f, correction = 0.0f;
        if (normalize)
        {
            inverse = reciprocal_rms[row];
            float dot = 0.0f;
            for (int c = lane; c < ffn; c += WARP)
                dot += (activate(relu_squared, g[c] * gate_factor) * (u[c] * up_factor)) * weight[c] * dyr[c];
            dot = warp_sum(dot);
            correction = inverse * inverse * inverse * dot / n;
        }
        float inverse_scale = scales ? 1.0f / scales[row] : 1.0f;
        operand_t* out_gamma = d_gamma + row * 2 * ffn;
        operand_t* out_scale = d_over_scale + row * 2 * ffn;
        for (int c = lane; c < ffn; c += WARP)
        {
            float gate = g[c] * gate_factor, up = u[c] * up_factor;
            float activated = activate(relu_squared, gate);
            float dm = dyr[c];
            if (normalize)
            {
                float h = activated * up;
                part[c] += dyr[c] * h * inverse;
                dm = (inverse * weight[c] * dyr[c]) - (correction * h);
            }
            float d_gate = dm * up * activation_derivative(relu_squared, gate);
            float d_up = dm * activated;
            out_gamma[c] = to_operand(d_gate * gamma_gate);
            out_gamma[ffn + c] = to_operand(d_up * gamma_up);
            out_scale[c] = to_operand(scales ? d_gate * inverse_scale : d_gate);
            out_scale[ffn + c] = to_operand(scales ? d_up * inverse_scale : d_up);
        }
    }
}

// The loss: softmax cross-entropy over rows of the head's logits, and the in-order sum of the rows' losses.

// A warp per row of logits [rows, V]: losses[r] = log Σ exp(z) − z[target] (one pass keeps each lane's running
// maximum and sum), and with gradient the operand dlogits = (softmax(z) − onehot(target)) · inverse_rows.
extern "C" __global__ void cross_entropy(const float* __restrict__ logits, const int* __restrict__ targets, int rows,
    int vocabulary, float inverse_rows, int gradient, float* __restrict__ losses, operand_t* __restrict__ dlogits)
{
    long long row = global_warp();
    if (row >= rows)
        return;
    int lane = lane_id();
    const float* z = logits + row * vocabulary;
    const float negative_infinity = __int_as_float(0xff800000);
    float largest = negative_infinity, sum = 0.0f;
    for (int c = lane; c < vocabulary; c += WARP)
    {
        float v = z[c];
        if (v > largest)
        {
            sum = sum * expf(largest - v) + 1.0f;
            largest = v;
        }
        else
        {
            sum += expf(v - largest);
        }
    }
    float row_max = warp_max(largest);
    sum = largest == negative_infinity ? 0.0f : sum * expf(largest - row_max);
    float log_sum = logf(warp_sum(sum)) + row_max;
    int target = targets[row];
    if (lane == 0)
        losses[row] = log_sum - z[target];
    if (!gradient)
        return;
    operand_t* d = dlogits + row * vocabulary;
    for (int c = lane; c < vocabulary; c += WARP)
    {
        float value = expf(z[c] - log_sum) * inverse_rows;
        if (c == target)
            value -= inverse_rows;
        d[c] = to_operand(value);
    }
}

// *total = Σ losses[0..count) in double: one block of 1024 threads, each summing a strided share, then the warps'
// sums and the block's in a fixed order.
extern "C" __global__ void sum_losses(const float* __restrict__ losses, int count, double* __restrict__ total)
{
    __shared__ double warp_sums[32];
    double sum = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x)
        sum += (double)losses[i];
    sum = warp_sum_double(sum);
    if (lane_id() == 0)
        warp_sums[threadIdx.x / WARP] = sum;
    __syncthreads();
    if (threadIdx.x == 0)
    {
        double all = 0.0;
        for (int w = 0; w < (int)(blockDim.x / WARP); w++)
            all += warp_sums[w];
        *total = all;
    }
}

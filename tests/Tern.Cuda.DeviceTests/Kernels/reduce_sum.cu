// total += sum(x): each thread sums a grid-stride slice in double, warps combine by shuffles, the warps of a block
// through shared memory, and one atomic per block adds the block's sum. Double throughout, so the result can be held
// to a tight tolerance against the CPU whatever the order of the atomics.
extern "C" __global__ void reduce_sum(const float* x, long long n, double* total)
{
    __shared__ double warpSums[32];
    double sum = 0.0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        sum += x[i];
    for (int offset = 16; offset > 0; offset >>= 1)
        sum += __shfl_down_sync(0xffffffffu, sum, offset);
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    if (lane == 0)
        warpSums[warp] = sum;
    __syncthreads();
    if (warp == 0)
    {
        int warps = (blockDim.x + 31) >> 5;
        sum = lane < warps ? warpSums[lane] : 0.0;
        for (int offset = 16; offset > 0; offset >>= 1)
            sum += __shfl_down_sync(0xffffffffu, sum, offset);
        if (lane == 0)
            atomicAdd(total, sum);
    }
}

// c[i] = a[i] + b[i]: the smallest kernel that proves compile, load, argument passing and launch.
extern "C" __global__ void vector_add(const float* a, const float* b, float* c, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}

// x[i] += value: launched a hundred times in a row to fill a CUDA graph.
extern "C" __global__ void add_scalar(float* x, float value, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        x[i] += value;
}

// Greedy sampling on the device: the index of the largest logit, so that a greedy decoding step hands the host 4
// bytes rather than the whole vocabulary's logits. Blocks are ARGMAX_THREADS threads.
//
// The answer is Session.ArgMax's exactly. That loop starts at index 0 and moves only to a strictly larger value, so:
// NaN is never chosen and never displaces anything, equal values keep the lowest index (-0 and +0 are equal), and a
// NaN at index 0 is never left (every comparison with it is false), so the answer is then 0. Ordering candidates by
// value, then by lower index, is a total order once NaNs are set aside: the winner does not depend on how the
// reduction is grouped, so blocks may finish in any order and still give the loop's answer.

#define ARGMAX_THREADS 256
#define ARGMAX_MAX_BLOCKS 256
// The index of "no candidate yet" (with value −∞): it loses to every real value, −∞ included, as its index is larger.
#define ARGMAX_NONE 0x7fffffff

__device__ __forceinline__ void keep_larger(float& best, int& best_index, float v, int index)
{
    if (v > best || (v == best && index < best_index))
    {
        best = v;
        best_index = index;
    }
}

// The block's best candidate, in thread 0 only. `shared_values` and `shared_indices` hold ARGMAX_THREADS / WARP entries.
__device__ __forceinline__ void block_keep_larger(float& best, int& best_index, float* shared_values, int* shared_indices)
{
    for (int offset = WARP / 2; offset > 0; offset >>= 1)
    {
        float v = __shfl_xor_sync(FULL_MASK, best, offset);
        int index = __shfl_xor_sync(FULL_MASK, best_index, offset);
        keep_larger(best, best_index, v, index);
    }
    __syncthreads();
    if (threadIdx.x % WARP == 0)
    {
        shared_values[threadIdx.x / WARP] = best;
        shared_indices[threadIdx.x / WARP] = best_index;
    }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        for (int w = 1; w < ARGMAX_THREADS / WARP; w++)
            keep_larger(best, best_index, shared_values[w], shared_indices[w]);
    }
}

// *token = Session.ArgMax(values[0 .. n)), n ≥ 1, in one launch of at most ARGMAX_MAX_BLOCKS blocks: each block
// reduces a grid-strided share to one candidate in partial_values/partial_indices, and the last block to count
// itself done in *finished combines them. That block sets *finished back to 0, so the next launch (a CUDA graph
// replays the same arguments every step) starts from zero; the buffer must be zero before the first launch.
extern "C" __global__ void argmax(const float* __restrict__ values, int n, float* partial_values, int* partial_indices,
    unsigned int* finished, int* token)
{
    TIMELINE_START
    __shared__ float shared_values[ARGMAX_THREADS / WARP];
    __shared__ int shared_indices[ARGMAX_THREADS / WARP];
    __shared__ bool last;

    float best = __int_as_float(0xff800000);
    int best_index = ARGMAX_NONE;
    // A thread's indices only grow, so a strictly larger value is all it needs to look for; v == v skips NaN.
    for (int i = blockIdx.x * ARGMAX_THREADS + threadIdx.x; i < n; i += gridDim.x * ARGMAX_THREADS)
    {
        float v = values[i];
        if (v == v && (v > best || best_index == ARGMAX_NONE))
        {
            best = v;
            best_index = i;
        }
    }
    block_keep_larger(best, best_index, shared_values, shared_indices);

    if (threadIdx.x == 0)
    {
        partial_values[blockIdx.x] = best;
        partial_indices[blockIdx.x] = best_index;
        // The partial is visible to every block before this block counts itself done.
        __threadfence();
        last = atomicAdd(finished, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    TIMELINE_END(TIMELINE_ARGMAX)
    if (!last)
        return;

    // Read through L2: L1 may not see other blocks' writes.
    best = __int_as_float(0xff800000);
    best_index = ARGMAX_NONE;
    if (threadIdx.x < gridDim.x)
    {
        best = __ldcg(partial_values + threadIdx.x);
        best_index = __ldcg(partial_indices + threadIdx.x);
    }
    block_keep_larger(best, best_index, shared_values, shared_indices);
    if (threadIdx.x == 0)
    {
        float first = values[0];
        *token = first != first ? 0 : best_index;
        *finished = 0;
    }
}

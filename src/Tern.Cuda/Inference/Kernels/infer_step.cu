// A whole decoding step's blocks in one persistent kernel: one block per SM, every block taking its share of each of
// a layer's five phases (Q/K/V, attention, output, gate/up, down) in turn, with a grid-wide barrier between phases in
// place of a kernel boundary (a dependent launch costs about 2.5 µs on the H100: 150 of them were two thirds of a
// step). Each phase's arithmetic is the fused decoding kernels' (ternary_rows, gate_up_rows, attend_decode_head), so
// the tokens and logits are theirs bit for bit.
//
// The block's codes for a phase are copied into shared memory (bulk copies, infer_bulk.cuh) one phase ahead, into two regions that the
// matrix phases take in turn: A holds Q/K/V, then gate/up; B holds output, then down. Each region's codes are followed
// by the norm's weights its phase normalizes with. The input region (the staged, quantized input of a matrix phase)
// holds the scores during attention. So while a block multiplies, the codes of its next phase are on their way.
//
// Everything a phase reads that another block wrote in this launch is read through L2 (__ldcg, cp.async.cg): L1 is
// not coherent between SMs.
//
// A matrix phase's input is normalized and quantized by every block that has rows in it, but its statistics (Σx² and
// the quantizer's absmax, per chunk of NORM_CHUNK columns) come from the phase that wrote it: each block writes its
// own rows' chunks, and the readers combine a few hundred numbers with one warp. So the output, gate/up and down
// phases hand out rows NORM_CHUNK at a time (DecodeStepPlan), and attention writes its head's chunks when head_dim
// is a multiple of NORM_CHUNK. Two sets of statistics take turns: a phase reads one and writes the other.

// A layer's pointers in the step's table (CudaDecodeStep's layout): the codes of Q, K, V, output, gate, up and down;
// the weights of the attention norm, its sub-norm, the FFN norm and its sub-norm (null: none); the KV cache; then the
// seven matrices' scales.
struct StepLayer
{
    const uint4* codes[7];
    const float* norms[4];
    float* cache[2];
    float gamma[8];
};

// The shapes of a step (CudaDecodeStep's layout): rows per block of each matrix phase, the byte sizes of the
// shared regions A and B, the chunks of the widest vector (each set of statistics holds that many sums, then as many
// absmaxes), and whether attention writes its output's statistics.
struct StepShape
{
    int dim, q_len, kv_len, ffn, heads, kv_heads, head_dim, neox, silu;
    int dim_groups, q_groups, ffn_groups;
    int qkv_rows, o_rows, ffn_rows, down_rows;
    int a_bytes, b_bytes;
    float epsilon;
    int stat_chunks, attention_stats;
};

#define STEP_Q 0
#define STEP_K 1
#define STEP_V 2
#define STEP_O 3
#define STEP_GATE 4
#define STEP_UP 5
#define STEP_DOWN 6

// Waits until every block of the grid has arrived here for the `generation`th time in this launch (counter starts
// at zero). Writes before it are visible to reads after it through L2: the block's barrier orders its threads'
// writes before thread 0's release, which the other blocks' acquire reads (no separate fence: it measured 0.2 µs
// a barrier slower).
__device__ __forceinline__ void grid_barrier(unsigned int* counter, unsigned int generation)
{
    __syncthreads();
    if (threadIdx.x == 0)
    {
        asm volatile("red.release.gpu.global.add.u32 [%0], 1;" ::"l"(counter) : "memory");
        unsigned int target = generation * gridDim.x, seen;
        do
        {
            asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(seen) : "l"(counter) : "memory");
#ifdef STEP_SPIN_SLEEP
            if (seen < target)
                __nanosleep(STEP_SPIN_SLEEP);
#endif
        } while (seen < target);
    }
    __syncthreads();
}

// Q, K and V of a layer as decode_ternary's segments, writing to q, k and v.
__device__ __forceinline__ TernarySegments qkv_segments(const StepLayer& layer, const StepShape& shape, float* q, float* k, float* v)
{
    TernarySegments s;
    s.count = 3;
    s.codes[0] = layer.codes[STEP_Q];
    s.codes[1] = layer.codes[STEP_K];
    s.codes[2] = layer.codes[STEP_V];
    s.out[0] = q;
    s.out[1] = k;
    s.out[2] = v;
    s.gamma[0] = layer.gamma[STEP_Q];
    s.gamma[1] = layer.gamma[STEP_K];
    s.gamma[2] = layer.gamma[STEP_V];
    s.rows[0] = shape.q_len;
    s.rows[1] = shape.kv_len;
    s.rows[2] = shape.kv_len;
    s.first_row[0] = 0;
    s.first_row[1] = shape.q_len;
    s.first_row[2] = shape.q_len + shape.kv_len;
    return s;
}

// One matrix (output or down) as a single segment, added to the residual stream.
__device__ __forceinline__ TernarySegments residual_segment(const uint4* codes, float gamma, int rows, float* hidden)
{
    TernarySegments s;
    s.count = 1;
    s.codes[0] = codes;
    s.out[0] = hidden;
    s.gamma[0] = gamma;
    s.rows[0] = rows;
    s.first_row[0] = 0;
    return s;
}

// The block's rows [first, first + n) of a phase with `rows` rows, `per_block` a block.
__device__ __forceinline__ int block_rows(int rows, int per_block, int& first)
{
    first = (int)blockIdx.x * per_block;
    return max(0, min(per_block, rows - first));
}

// Region A (thread 0): the block's Q/K/V codes and the attention norm's weights.
__device__ __forceinline__ void fill_qkv(const StepLayer& layer, const StepShape& shape, uint4* a, unsigned long long* fill)
{
    int first;
    int n = block_rows(shape.q_len + 2 * shape.kv_len, shape.qkv_rows, first);
    TernarySegments segments = qkv_segments(layer, shape, nullptr, nullptr, nullptr);
    float* tail = reinterpret_cast<float*>(a + shape.qkv_rows * shape.dim_groups);
    begin_fill(fill, (unsigned int)n * shape.dim_groups * 16 + norm_bytes(layer.norms[0], shape.dim));
    for (int k = 0; k < 3; k++)
    {
        int lo = max(first, segments.first_row[k]), hi = min(first + n, segments.first_row[k] + segments.rows[k]);
        if (lo < hi)
            bulk_copy(a + (lo - first) * shape.dim_groups, segments.codes[k] + (long long)(lo - segments.first_row[k]) * shape.dim_groups,
                (unsigned int)(hi - lo) * shape.dim_groups * 16, fill);
    }
    bulk_copy(tail, layer.norms[0], norm_bytes(layer.norms[0], shape.dim), fill);
}

// Region B (thread 0): one matrix's codes for the block's rows (output or down: `rows` rows of `groups` groups,
// rows_per_block a block) and the weights of the norm its phase normalizes with (width floats, null: none).
__device__ __forceinline__ void fill_matrix(const uint4* matrix, const float* norm, int rows, int rows_per_block, int groups,
    int width, uint4* b, unsigned long long* fill)
{
    int first;
    int n = block_rows(rows, rows_per_block, first);
    unsigned int codes = (unsigned int)n * groups * 16;
    begin_fill(fill, codes + norm_bytes(norm, width));
    bulk_copy(b, matrix + (long long)first * groups, codes, fill);
    bulk_copy(b + rows_per_block * groups, norm, norm_bytes(norm, width), fill);
}

// Region B: the output codes and the attention sub-norm's weights.
__device__ __forceinline__ void fill_output(const StepLayer& layer, const StepShape& shape, uint4* b, unsigned long long* fill)
{
    fill_matrix(layer.codes[STEP_O], layer.norms[1], shape.dim, shape.o_rows, shape.q_groups, shape.q_len, b, fill);
}

// Region A (thread 0): the block's gate and up codes and the FFN norm's weights.
__device__ __forceinline__ void fill_gate_up(const StepLayer& layer, const StepShape& shape, uint4* a, unsigned long long* fill)
{
    int first;
    int n = block_rows(shape.ffn, shape.ffn_rows, first);
    int stride = shape.ffn_rows * shape.dim_groups;
    unsigned int codes = (unsigned int)n * shape.dim_groups * 16;
    begin_fill(fill, 2 * codes + norm_bytes(layer.norms[2], shape.dim));
    bulk_copy(a, layer.codes[STEP_GATE] + (long long)first * shape.dim_groups, codes, fill);
    bulk_copy(a + stride, layer.codes[STEP_UP] + (long long)first * shape.dim_groups, codes, fill);
    bulk_copy(a + 2 * stride, layer.norms[2], norm_bytes(layer.norms[2], shape.dim), fill);
}

// Region B: the down codes and the FFN sub-norm's weights.
__device__ __forceinline__ void fill_down(const StepLayer& layer, const StepShape& shape, uint4* b, unsigned long long* fill)
{
    fill_matrix(layer.codes[STEP_DOWN], layer.norms[3], shape.dim, shape.down_rows, shape.ffn_groups, shape.ffn, b, fill);
}

// A matrix phase whose rows add to the residual stream (output, down), once its region's codes and norm weights have
// arrived: x (width columns, `groups` groups) normalized, quantized and multiplied, rows_per_block rows a block.
__device__ __forceinline__ void residual_phase(const float* x, const float* norm, int width, int groups, const uint4* codes,
    float gamma, int rows_per_block, const StepShape& shape, float* hidden, const uint4* region, uint4* input,
    ChunkStats in_stats, ChunkStats out_stats, float* produced)
{
    DecodeInput in = decode_input(input, groups);
    in.ws = reinterpret_cast<float*>(const_cast<uint4*>(region + rows_per_block * groups));
    int first;
    int n = block_rows(shape.dim, rows_per_block, first);
    ternary_rows(x, norm != nullptr, width, shape.epsilon, groups, residual_segment(codes, gamma, shape.dim, hidden), first, n,
        true, region, in, in_stats, out_stats, produced, false);
}

// Statistics set `which` (0 or 1) of `stats`, for a vector to be normalized with `weight`.
__device__ __forceinline__ ChunkStats step_stats(float* stats, int which, const StepShape& shape, const float* weight)
{
    ChunkStats s;
    s.sums = stats + 2 * which * shape.stat_chunks;
    s.largest = s.sums + shape.stat_chunks;
    s.weight = weight;
    return s;
}

#ifdef STEP_TIMING
// Experiment hook (TERN_CUDA_DEFINES=STEP_TIMING): the first and last blocks' thread 0 add each phase's SM cycles
// (work, then barrier) over the layers of the step at position 64, and print them per layer.
#define STEP_MARK(slot)                     \
    if (timing)                             \
    {                                       \
        long long now = clock64();          \
        spent[slot] += now - last;          \
        last = now;                         \
    }
#else
#define STEP_MARK(slot)
#endif

// Every layer of a decoding step (one token, hidden state in `hidden`, position step[0]); step[1] is the barrier's
// counter, zero at the launch. `stats` holds two sets of chunk statistics (4·stat_chunks floats). Launched
// cooperatively with one block of 256 threads per SM. Dynamic shared memory: DecodeStepPlan.SharedBytes.
extern "C" __global__ void __launch_bounds__(256, 1) decode_step(const StepLayer* __restrict__ layers, int layer_count,
    StepShape shape, float* hidden, float* queries, float* keys, float* values, float* attended, float* activated,
    const float* __restrict__ cos_table, const float* __restrict__ sin_table, int* step, float* stats)
{
    extern __shared__ uint4 staged[];
    __shared__ float reduce[32];
    __shared__ float produced[DECODE_WARPS * DECODE_ROWS_PER_WARP];
    ChunkStats none = {};
    __shared__ unsigned long long fills[2];
    unsigned int parity_a = 0, parity_b = 0;
    uint4* a = staged;
    uint4* b = staged + shape.a_bytes / 16;
    uint4* input = b + shape.b_bytes / 16;
    unsigned int* counter = reinterpret_cast<unsigned int*>(step + 1);
    unsigned int generation = 0;
    int position = step[0];
    // This position's RoPE angles, read once for every layer's rotations.
    __shared__ float rope_cos[ATTENTION_MAX_DIMS * 128], rope_sin[ATTENTION_MAX_DIMS * 128];
    int half = shape.head_dim / 2;
    for (int j = threadIdx.x; j < half; j += blockDim.x)
    {
        float cj = cos_table[(long long)position * half + j], sj = sin_table[(long long)position * half + j];
        rope_cos[j] = cj;
        rope_sin[j] = sj;
    }
    const float* c = rope_cos;
    const float* sn = rope_sin;

#ifdef STEP_TIMING
    bool timing = threadIdx.x == 0 && (blockIdx.x == 0 || blockIdx.x == gridDim.x - 1) && position == 64;
    long long spent[20] = {};
    long long start = clock64(), last = start;
    unsigned long long start_ns;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start_ns));
#endif
    if (threadIdx.x == 0)
    {
        init_fill(&fills[0]);
        init_fill(&fills[1]);
        fill_qkv(layers[0], shape, a, &fills[0]);
        fill_output(layers[0], shape, b, &fills[1]);
    }
    __syncthreads();
    for (int l = 0; l < layer_count; l++)
    {
        const StepLayer& layer = layers[l];
        int first, n;

        // Q, K, V (region A; B's output codes stay on their way).
        DecodeInput in = decode_input(input, shape.dim_groups);
        in.ws = reinterpret_cast<float*>(a + shape.qkv_rows * shape.dim_groups);
        n = block_rows(shape.q_len + 2 * shape.kv_len, shape.qkv_rows, first);
        wait_fill(&fills[0], parity_a);
        STEP_MARK(0);
        // The first layer's input comes from the host, without statistics; the others' from the down phase before.
        ternary_rows(hidden, layer.norms[0] != nullptr, shape.dim, shape.epsilon, shape.dim_groups,
            qkv_segments(layer, shape, queries, keys, values), first, n, false, a, in,
            l == 0 ? none : step_stats(stats, 0, shape, layer.norms[0]), none, produced, false);
        __syncthreads();
        STEP_MARK(1);
        if (threadIdx.x == 0)
            fill_gate_up(layer, shape, a, &fills[0]);
        for (int h = blockIdx.x; h < shape.heads; h += gridDim.x)
            prefetch_head_cache(layer.cache[0], layer.cache[1], h, 0, position, shape.heads, shape.kv_heads, shape.head_dim);
        STEP_MARK(2);
        grid_barrier(counter, ++generation);
        STEP_MARK(3);

#ifndef STEP_SKIP_ATTENTION
        for (int h = blockIdx.x; h < shape.heads; h += gridDim.x)
        {
            attend_decode_head(h, queries, keys, values, layer.cache[0], layer.cache[1], c, sn, position, shape.heads,
                shape.kv_heads, shape.head_dim, shape.neox, attended, reinterpret_cast<float*>(input), reduce,
                shape.attention_stats ? step_stats(stats, 1, shape, layer.norms[1]) : none, nullptr, nullptr, 0);
            __syncthreads();
        }
#endif
        STEP_MARK(5);
        grid_barrier(counter, ++generation);
        STEP_MARK(7);

        // Output (region B), added to the residual stream.
        wait_fill(&fills[1], parity_b);
        STEP_MARK(8);
        residual_phase(attended, layer.norms[1], shape.q_len, shape.q_groups, layer.codes[STEP_O], layer.gamma[STEP_O],
            shape.o_rows, shape, hidden, b, input, shape.attention_stats ? step_stats(stats, 1, shape, layer.norms[1]) : none,
            step_stats(stats, 0, shape, layer.norms[2]), produced);
        __syncthreads();
        STEP_MARK(9);
        if (threadIdx.x == 0)
            fill_down(layer, shape, b, &fills[1]);
        STEP_MARK(10);
        grid_barrier(counter, ++generation);
        STEP_MARK(11);

        // Gate and up (region A).
        in = decode_input(input, shape.dim_groups);
        int stride = shape.ffn_rows * shape.dim_groups;
        in.ws = reinterpret_cast<float*>(a + 2 * stride);
        n = block_rows(shape.ffn, shape.ffn_rows, first);
        wait_fill(&fills[0], parity_a);
        STEP_MARK(12);
        gate_up_rows(hidden, layer.norms[2] != nullptr, shape.dim, shape.epsilon, shape.dim_groups,
            layer.gamma[STEP_GATE], layer.gamma[STEP_UP], first, n, stride, shape.silu != 0, activated, a, in,
            step_stats(stats, 0, shape, layer.norms[2]), step_stats(stats, 1, shape, layer.norms[3]), produced, false);
        __syncthreads();
        STEP_MARK(13);
        if (threadIdx.x == 0 && l + 1 < layer_count)
            fill_qkv(layers[l + 1], shape, a, &fills[0]);
        STEP_MARK(14);
        grid_barrier(counter, ++generation);
        STEP_MARK(15);

        // Down (region B), added to the residual stream.
        wait_fill(&fills[1], parity_b);
        STEP_MARK(16);
        // The last layer's output goes to the head, which normalizes it in its own launch.
        residual_phase(activated, layer.norms[3], shape.ffn, shape.ffn_groups, layer.codes[STEP_DOWN], layer.gamma[STEP_DOWN],
            shape.down_rows, shape, hidden, b, input, step_stats(stats, 1, shape, layer.norms[3]),
            l + 1 < layer_count ? step_stats(stats, 0, shape, layers[l + 1].norms[0]) : none, produced);
        STEP_MARK(17);
        if (l + 1 < layer_count)
        {
            __syncthreads();
            if (threadIdx.x == 0)
                fill_output(layers[l + 1], shape, b, &fills[1]);
            STEP_MARK(18);
            grid_barrier(counter, ++generation);
            STEP_MARK(19);
        }
    }
#ifdef STEP_TIMING
    if (timing)
    {
        unsigned long long end_ns;
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(end_ns));
        double per = 1.0 / layer_count;
        printf("decode_step block %d: %lld cycles, %llu ns; per layer (cycles: wait, work, fill, barrier): qkv %.0f %.0f %.0f %.0f | "
            "attention %.0f %.0f | output %.0f %.0f %.0f %.0f | gate/up %.0f %.0f %.0f %.0f | down %.0f %.0f %.0f %.0f\n",
            blockIdx.x, clock64() - start, end_ns - start_ns, spent[0] * per, spent[1] * per, spent[2] * per, spent[3] * per,
            spent[5] * per, spent[7] * per, spent[8] * per, spent[9] * per, spent[10] * per, spent[11] * per,
            spent[12] * per, spent[13] * per, spent[14] * per, spent[15] * per, spent[16] * per, spent[17] * per,
            spent[18] * per, spent[19] * per);
        if (blockIdx.x == 0)
            print_rows_cycles();
    }
#endif
}

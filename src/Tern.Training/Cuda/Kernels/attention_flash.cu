// Causal attention in one pass over key tiles (FlashAttention-2's scheme) on the tensor cores, for the bfloat16 mode:
// the T×T scores and probabilities never reach device memory. Queries, keys and values come head-major,
// [batch·H, T, hd], as rope_permute_forward writes them (keys and values repeated per query head). The forward pass
// keeps each query's log-sum-exp of scores; the backward pass recomputes the probabilities from it, in two kernels
// (one owns a tile of keys and sums dK, dV over queries; one owns a tile of queries and sums dQ over keys), so every
// gradient has one writer and a fixed order of sums.
//
// Attention dropout (threshold nonzero): the forward pass sums the undropped exponentials into the softmax's
// denominator but multiplies V by the dropped ones, so O = (P ⊙ M / (1 − p))·V; the backward passes recompute the
// mask of each (query, key) from the layer's key and the weight's index in [batch·H, T, T] (attention_dropout_bits).
// D = rowsum(dO ⊙ O) is still Σ_j P·dP with dP = (dO·Vᵀ) ⊙ M / (1 − p), because O is the dropped output.
//
// Warps compute with mma.sync m16n8k16 (bfloat16 in, float32 accumulators). Fragment layouts (PTX ISA, "Matrix
// Fragments for mma.m16n8k16"), with g = lane / 4 and q = lane % 4:
//   A (16×16, row-major), four 32-bit registers of two bf16 each: (row g, cols 2q, 2q+1), (row g+8, cols 2q, 2q+1),
//     (row g, cols 2q+8, 2q+9), (row g+8, cols 2q+8, 2q+9);
//   B (16×8, k×n), two registers: (k 2q, 2q+1; n g), (k 2q+8, 2q+9; n g);
//   C (16×8 float): (row g, cols 2q, 2q+1), (row g+8, cols 2q, 2q+1).
// A C tile pair of 16×16 is exactly an A fragment's layout, so probabilities go from one product to the next in
// registers. The lower 16 bits of a register hold the element of the lower column (or k).

#define FLASH_TILE 64
#define FLASH_WARPS 4

__device__ __forceinline__ unsigned int bf16_bits(float v)
{
    unsigned int bits = __float_as_uint(v);
    if ((bits & 0x7fffffffu) > 0x7f800000u)
        return (bits >> 16) | 0x40u;
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return bits >> 16;
}

__device__ __forceinline__ unsigned int pack_bf16(float low, float high) { return bf16_bits(low) | (bf16_bits(high) << 16); }

__device__ __forceinline__ void mma_bf16(float (&c)[4], const unsigned int (&a)[4], unsigned int b0, unsigned int b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// A fragments of 16 rows (first_row + 0..15) of a row-major [rows, HD] bf16 matrix, for every k-step of 16 columns;
// rows at or past `rows` read as zeros.
template <int HD>
__device__ __forceinline__ void load_a_fragments(unsigned int (&a)[HD / 16][4], const unsigned short* matrix, int first_row, int rows)
{
    int g = lane_id() / 4, q = lane_id() % 4;
    int r0 = first_row + g, r1 = first_row + g + 8;
#pragma unroll
    for (int k = 0; k < HD / 16; k++)
    {
        int c = k * 16 + 2 * q;
        a[k][0] = r0 < rows ? *(const unsigned int*)(matrix + (long long)r0 * HD + c) : 0u;
        a[k][1] = r1 < rows ? *(const unsigned int*)(matrix + (long long)r1 * HD + c) : 0u;
        a[k][2] = r0 < rows ? *(const unsigned int*)(matrix + (long long)r0 * HD + c + 8) : 0u;
        a[k][3] = r1 < rows ? *(const unsigned int*)(matrix + (long long)r1 * HD + c + 8) : 0u;
    }
}

// Rows first_row..first_row+63 of a [rows, HD] bf16 matrix into shared memory with row stride HD + 8 (the padding
// spreads a fragment's loads over all 32 banks), 16 bytes per thread and load; rows past `rows` become zeros.
template <int HD>
__device__ __forceinline__ void load_tile(unsigned short* tile, const unsigned short* matrix, int first_row, int rows)
{
    const int vectors_per_row = HD / 8;
    for (int v = threadIdx.x; v < FLASH_TILE * vectors_per_row; v += blockDim.x)
    {
        int r = v / vectors_per_row, part = v % vectors_per_row;
        uint4 value = make_uint4(0u, 0u, 0u, 0u);
        if (first_row + r < rows)
            value = *(const uint4*)(matrix + (long long)(first_row + r) * HD + part * 8);
        *(uint4*)(tile + r * (HD + 8) + part * 8) = value;
    }
}

// B fragment for k-step k, n-tile n, when B[k][n] = tile[n][k] (the tile's rows are B's columns): ldmatrix reads the
// two 8×8 blocks (columns k·16 … +7 and k·16 + 8 … +15 of rows n·8 … +7) in one instruction; threads 0–15 give the
// rows' addresses (16-byte aligned: the row stride is (HD + 8)·2 bytes, a multiple of 16).
template <int HD>
__device__ __forceinline__ void b_from_rows(const unsigned short* tile, int n, int k, unsigned int* b0, unsigned int* b1)
{
    int lane = lane_id();
    const unsigned short* row = tile + (n * 8 + (lane & 7)) * (HD + 8) + k * 16 + ((lane >> 3) & 1) * 8;
    unsigned int address = (unsigned int)__cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n" : "=r"(*b0), "=r"(*b1) : "r"(address));
}

// B fragment for k-step k, n-tile n, when B[k][n] = tile[k][n] (the tile's rows are B's k): the transposing ldmatrix
// reads rows k·16 … +7 and k·16 + 8 … +15, columns n·8 … +7.
template <int HD>
__device__ __forceinline__ void b_from_columns(const unsigned short* tile, int n, int k, unsigned int* b0, unsigned int* b1)
{
    int lane = lane_id();
    const unsigned short* row = tile + (k * 16 + ((lane >> 3) & 1) * 8 + (lane & 7)) * (HD + 8) + n * 8;
    unsigned int address = (unsigned int)__cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n" : "=r"(*b0), "=r"(*b1) : "r"(address));
}

// The A fragment of rows first_row … +15, columns k·16 … +15 of a shared tile (row-major, stride HD + 8): one ldmatrix
// of four 8×8 blocks, (rows 0–7, cols 0–7), (rows 8–15, cols 0–7), (rows 0–7, cols 8–15), (rows 8–15, cols 8–15).
template <int HD>
__device__ __forceinline__ void a_from_tile(const unsigned short* tile, int first_row, int k, unsigned int (&a)[4])
{
    int lane = lane_id();
    const unsigned short* row = tile + (first_row + (lane & 7) + ((lane >> 3) & 1) * 8) * (HD + 8) + k * 16 + ((lane >> 4) & 1) * 8;
    unsigned int address = (unsigned int)__cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
        : "=r"(a[0]), "=r"(a[1]), "=r"(a[2]), "=r"(a[3]) : "r"(address));
}

// The A fragments of a 16×64 float accumulator block (8 n-tiles) rounded to bf16: k-step j covers n-tiles 2j, 2j+1.
__device__ __forceinline__ void accumulators_to_a(const float (&c)[8][4], unsigned int (&a)[4][4])
{
#pragma unroll
    for (int j = 0; j < 4; j++)
    {
        a[j][0] = pack_bf16(c[2 * j][0], c[2 * j][1]);
        a[j][1] = pack_bf16(c[2 * j][2], c[2 * j][3]);
        a[j][2] = pack_bf16(c[2 * j + 1][0], c[2 * j + 1][1]);
        a[j][3] = pack_bf16(c[2 * j + 1][2], c[2 * j + 1][3]);
    }
}

// The attention-dropout mask of a thread's elements of a warp's 16×64 block of weights (8 n-tiles of C fragments):
// bit 4n + e for element [n][e], whose row is first_row + g (+ 8 for e ≥ 2) and column first_column + 8n + 2q + (e & 1);
// rows_are_queries says which of the two is the query. Elements above the diagonal or past the context read as kept
// (their weight is 0). The loop is not unrolled, so its 64-bit hashes do not crowd the accumulators' registers.
__device__ __forceinline__ unsigned int attention_dropout_bits(unsigned long long dropout_key, unsigned long long dropout_threshold,
    int bh, int context, int first_row, int first_column, bool rows_are_queries)
{
    int g = lane_id() / 4, q = lane_id() % 4;
    unsigned int bits = 0u;
#pragma unroll 1
    for (int i = 0; i < 32; i++)
    {
        int row = first_row + g + ((i & 2) ? 8 : 0), column = first_column + (i >> 2) * 8 + 2 * q + (i & 1);
        int query = rows_are_queries ? row : column, key = rows_are_queries ? column : row;
        bool kept = key > query || query >= context
            || (counter_hash(dropout_key, ((unsigned long long)bh * context + query) * context + key) >> 11) >= dropout_threshold;
        bits |= (kept ? 1u : 0u) << i;
    }
    return bits;
}

// One block per (64-query tile, batch·head); warp w owns queries tile·64 + 16w … +15. Writes the output straight into
// rows [batch·T, H·hd] (float32) and each query's log-sum-exp of its scaled scores.
template <int HD>
__device__ void flash_forward(const unsigned short* __restrict__ q_heads, const unsigned short* __restrict__ k_heads,
    const unsigned short* __restrict__ v_heads, int context, int heads, float scale, unsigned long long dropout_key,
    unsigned long long dropout_threshold, float keep_scale, float* __restrict__ out, float* __restrict__ log_sum_exp)
{
    __shared__ __align__(16) unsigned short keys[FLASH_TILE * (HD + 8)];
    __shared__ __align__(16) unsigned short values[FLASH_TILE * (HD + 8)];
    const float negative_infinity = __int_as_float(0xff800000);
    int bh = blockIdx.y, tile = blockIdx.x;
    int warp = threadIdx.x / WARP, g = lane_id() / 4, q = lane_id() % 4;
    long long head_offset = (long long)bh * context * HD;
    int first_query = tile * FLASH_TILE + warp * 16;

    unsigned int qa[HD / 16][4];
    load_a_fragments<HD>(qa, q_heads + head_offset, first_query, context);
    float o[HD / 8][4];
#pragma unroll
    for (int n = 0; n < HD / 8; n++)
        o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    float row_max[2] = { negative_infinity, negative_infinity }, row_sum[2] = { 0.0f, 0.0f };

    int key_tiles = min((context + FLASH_TILE - 1) / FLASH_TILE, tile + 1);
    for (int kt = 0; kt < key_tiles; kt++)
    {
        __syncthreads();
        load_tile<HD>(keys, k_heads + head_offset, kt * FLASH_TILE, context);
        load_tile<HD>(values, v_heads + head_offset, kt * FLASH_TILE, context);
        __syncthreads();

        // The mask before the scores, while fewer registers are live.
        unsigned int kept = dropout_threshold != 0ull
            ? attention_dropout_bits(dropout_key, dropout_threshold, bh, context, first_query, kt * FLASH_TILE, true)
            : 0xffffffffu;
        float s[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
            for (int k = 0; k < HD / 16; k++)
            {
                unsigned int b0, b1;
                b_from_rows<HD>(keys, n, k, &b0, &b1);
                mma_bf16(s[n], qa[k], b0, b1);
            }
        }

        float tile_max[2] = { negative_infinity, negative_infinity };
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
#pragma unroll
            for (int e = 0; e < 4; e++)
            {
                int key = kt * FLASH_TILE + n * 8 + 2 * q + (e & 1);
                int query = first_query + g + (e >= 2 ? 8 : 0);
                s[n][e] = key <= query && key < context ? s[n][e] * scale : negative_infinity;
                tile_max[e >> 1] = fmaxf(tile_max[e >> 1], s[n][e]);
            }
        }
        float correction[2];
#pragma unroll
        for (int r = 0; r < 2; r++)
        {
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(FULL_MASK, tile_max[r], 1));
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(FULL_MASK, tile_max[r], 2));
            float new_max = fmaxf(row_max[r], tile_max[r]);
            // Every row has an unmasked key in its first tile, so new_max is finite from the first tile on.
            correction[r] = expf(row_max[r] - new_max);
            row_max[r] = new_max;
        }
        float tile_sum[2] = { 0.0f, 0.0f };
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
#pragma unroll
            for (int e = 0; e < 4; e++)
            {
                s[n][e] = expf(s[n][e] - row_max[e >> 1]);
                tile_sum[e >> 1] += s[n][e];
            }
        }
#pragma unroll
        for (int r = 0; r < 2; r++)
        {
            tile_sum[r] += __shfl_xor_sync(FULL_MASK, tile_sum[r], 1);
            tile_sum[r] += __shfl_xor_sync(FULL_MASK, tile_sum[r], 2);
            row_sum[r] = row_sum[r] * correction[r] + tile_sum[r];
        }
        if (dropout_threshold != 0ull)
        {
#pragma unroll
            for (int n = 0; n < 8; n++)
            {
#pragma unroll
                for (int e = 0; e < 4; e++)
                    s[n][e] = ((kept >> (4 * n + e)) & 1u) ? s[n][e] * keep_scale : 0.0f;
            }
        }
#pragma unroll
        for (int n = 0; n < HD / 8; n++)
        {
            o[n][0] *= correction[0];
            o[n][1] *= correction[0];
            o[n][2] *= correction[1];
            o[n][3] *= correction[1];
        }

        unsigned int pa[4][4];
        accumulators_to_a(s, pa);
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
#pragma unroll
            for (int n = 0; n < HD / 8; n++)
            {
                unsigned int b0, b1;
                b_from_columns<HD>(values, n, j, &b0, &b1);
                mma_bf16(o[n], pa[j], b0, b1);
            }
        }
    }

    int b = bh / heads, h = bh % heads;
#pragma unroll
    for (int r = 0; r < 2; r++)
    {
        int query = first_query + g + 8 * r;
        if (query >= context)
            continue;
        float inverse = 1.0f / row_sum[r];
        float* row = out + ((long long)b * context + query) * heads * HD + h * HD;
#pragma unroll
        for (int n = 0; n < HD / 8; n++)
        {
            row[n * 8 + 2 * q] = o[n][2 * r] * inverse;
            row[n * 8 + 2 * q + 1] = o[n][2 * r + 1] * inverse;
        }
        if (q == 0)
            log_sum_exp[(long long)bh * context + query] = row_max[r] + logf(row_sum[r]);
    }
}

// Where the backward kernels put dQ, dK and dV. Without grouped key/value heads (H = Hkv) they write straight into the
// fused QKV product's gradient operands, as rope_backward_unpermute would: rows [batch·T, H·hd | H·hd | H·hd], the RoPE
// rotation undone (a thread holds both elements of each pair: columns i and i + hd/2 sit in n-tiles n and n + hd/16
// of the same thread, 2i and 2i + 1 in one tile), then d·γ and d/s as bf16, two columns per 32-bit store. With
// grouped heads (d_gamma null) they write float32 head-major for rope_backward_unpermute to sum the group.
struct QkvGradientTarget
{
    unsigned short* d_gamma;
    unsigned short* d_over_scale;
    const float* cos_table;
    const float* sin_table;
    const float* gammas;
    const float* scales;
    int gamma_index_q;
    int rope_mode;   // 0: none, 1: (i, i + hd/2) pairs, 2: (2i, 2i + 1) pairs
    int heads;
    int context;
};

// Row r (0: g, 1: g + 8) of a warp's 16-row accumulator block, times factor, as the gradient of section `section`
// (0 q, 1 k, 2 v) of head h at position t of sequence b.
template <int HD>
__device__ __forceinline__ void write_qkv_gradient(const float (&acc)[HD / 8][4], int r, float factor, const QkvGradientTarget& target,
    int section, int b, int h, int t)
{
    int q = lane_id() % 4;
    const int half = HD / 2;
    float v[HD / 8][2];
#pragma unroll
    for (int n = 0; n < HD / 8; n++)
    {
        v[n][0] = acc[n][2 * r] * factor;
        v[n][1] = acc[n][2 * r + 1] * factor;
    }
    int mode = section < 2 ? target.rope_mode : 0;
    if (mode == 1)
    {
#pragma unroll
        for (int n = 0; n < HD / 16; n++)
        {
#pragma unroll
            for (int e = 0; e < 2; e++)
            {
                int i = n * 8 + 2 * q + e;
                float cosine = target.cos_table[t * half + i], sine = -target.sin_table[t * half + i];
                float x0 = v[n][e], x1 = v[n + HD / 16][e];
                v[n][e] = (x0 * cosine) - (x1 * sine);
                v[n + HD / 16][e] = (x0 * sine) + (x1 * cosine);
            }
        }
    }
    else if (mode == 2)
    {
#pragma unroll
        for (int n = 0; n < HD / 8; n++)
        {
            int i = n * 4 + q;
            float cosine = target.cos_table[t * half + i], sine = -target.sin_table[t * half + i];
            float x0 = v[n][0], x1 = v[n][1];
            v[n][0] = (x0 * cosine) - (x1 * sine);
            v[n][1] = (x0 * sine) + (x1 * cosine);
        }
    }
    int q_width = target.heads * HD;
    int row = b * target.context + t;
    float gamma = target.gammas ? target.gammas[target.gamma_index_q + section] : 1.0f;
    float inverse_scale = target.scales ? 1.0f / target.scales[row] : 1.0f;
    long long base = (long long)row * 3 * q_width + section * q_width + h * HD;
#pragma unroll
    for (int n = 0; n < HD / 8; n++)
    {
        int c = n * 8 + 2 * q;
        *(unsigned int*)(target.d_gamma + base + c) = pack_bf16(v[n][0] * gamma, v[n][1] * gamma);
        *(unsigned int*)(target.d_over_scale + base + c) = target.scales
            ? pack_bf16(v[n][0] * inverse_scale, v[n][1] * inverse_scale)
            : pack_bf16(v[n][0], v[n][1]);
    }
}

// One block per (64-key tile, batch·head); warp w owns keys tile·64 + 16w … +15 and sums, over the query tiles at or
// after its keys, dV = Pᵀ·dO and dK = dSᵀ·Q·scale, with dS = P ⊙ (dP − D) and dP = dO·Vᵀ; D is rowsum(dO ⊙ O).
template <int HD>
__device__ void flash_backward_keys(const unsigned short* __restrict__ q_heads, const unsigned short* __restrict__ k_heads,
    const unsigned short* __restrict__ v_heads, const unsigned short* __restrict__ d_out, const float* __restrict__ log_sum_exp,
    const float* __restrict__ d_dot, int context, float scale, unsigned long long dropout_key, unsigned long long dropout_threshold,
    float keep_scale, float* __restrict__ dk, float* __restrict__ dv, QkvGradientTarget target)
{
    __shared__ __align__(16) unsigned short queries[FLASH_TILE * (HD + 8)];
    __shared__ __align__(16) unsigned short gradients[FLASH_TILE * (HD + 8)];
    // The block's own keys and values stay in shared memory rather than in registers as A fragments: fewer registers
    // per thread, more warps per multiprocessor.
    __shared__ __align__(16) unsigned short own_keys[FLASH_TILE * (HD + 8)];
    __shared__ __align__(16) unsigned short own_values[FLASH_TILE * (HD + 8)];
    __shared__ float lse_tile[FLASH_TILE], d_tile[FLASH_TILE];
    int bh = blockIdx.y, tile = blockIdx.x;
    int warp = threadIdx.x / WARP, g = lane_id() / 4, q = lane_id() % 4;
    long long head_offset = (long long)bh * context * HD;
    int first_key = tile * FLASH_TILE + warp * 16;

    load_tile<HD>(own_keys, k_heads + head_offset, tile * FLASH_TILE, context);
    load_tile<HD>(own_values, v_heads + head_offset, tile * FLASH_TILE, context);
    float dk_acc[HD / 8][4], dv_acc[HD / 8][4];
#pragma unroll
    for (int n = 0; n < HD / 8; n++)
    {
        dk_acc[n][0] = dk_acc[n][1] = dk_acc[n][2] = dk_acc[n][3] = 0.0f;
        dv_acc[n][0] = dv_acc[n][1] = dv_acc[n][2] = dv_acc[n][3] = 0.0f;
    }

    // The factor of a weight the mask keeps: 1 without dropout (every bit set then), so nothing changes.
    float kept_factor = dropout_threshold != 0ull ? keep_scale : 1.0f;
    int query_tiles = (context + FLASH_TILE - 1) / FLASH_TILE;
    for (int qt = tile; qt < query_tiles; qt++)
    {
        __syncthreads();
        load_tile<HD>(queries, q_heads + head_offset, qt * FLASH_TILE, context);
        load_tile<HD>(gradients, d_out + head_offset, qt * FLASH_TILE, context);
        for (int i = threadIdx.x; i < FLASH_TILE; i += blockDim.x)
        {
            int query = qt * FLASH_TILE + i;
            lse_tile[i] = query < context ? log_sum_exp[(long long)bh * context + query] : 0.0f;
            d_tile[i] = query < context ? d_dot[(long long)bh * context + query] : 0.0f;
        }
        __syncthreads();

        // Pᵀ and dPᵀ: 16 keys × 64 queries.
        unsigned int kept = dropout_threshold != 0ull
            ? attention_dropout_bits(dropout_key, dropout_threshold, bh, context, first_key, qt * FLASH_TILE, false)
            : 0xffffffffu;
        float p[8][4], dp[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
            p[n][0] = p[n][1] = p[n][2] = p[n][3] = 0.0f;
            dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.0f;
#pragma unroll
            for (int k = 0; k < HD / 16; k++)
            {
                unsigned int a[4], b0, b1;
                a_from_tile<HD>(own_keys, warp * 16, k, a);
                b_from_rows<HD>(queries, n, k, &b0, &b1);
                mma_bf16(p[n], a, b0, b1);
                a_from_tile<HD>(own_values, warp * 16, k, a);
                b_from_rows<HD>(gradients, n, k, &b0, &b1);
                mma_bf16(dp[n], a, b0, b1);
            }
#pragma unroll
            for (int e = 0; e < 4; e++)
            {
                int column = n * 8 + 2 * q + (e & 1);
                int query = qt * FLASH_TILE + column;
                int key = first_key + g + (e >= 2 ? 8 : 0);
                bool valid = key <= query && query < context && key < context;
                float probability = valid ? expf(p[n][e] * scale - lse_tile[column]) : 0.0f;
                float factor = ((kept >> (4 * n + e)) & 1u) ? kept_factor : 0.0f;
                p[n][e] = probability * factor;
                dp[n][e] = probability * ((dp[n][e] * factor) - d_tile[column]);
            }
        }

        unsigned int pa[4][4], dsa[4][4];
        accumulators_to_a(p, pa);
        accumulators_to_a(dp, dsa);
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
#pragma unroll
            for (int n = 0; n < HD / 8; n++)
            {
                unsigned int b0, b1;
                b_from_columns<HD>(gradients, n, j, &b0, &b1);
                mma_bf16(dv_acc[n], pa[j], b0, b1);
                b_from_columns<HD>(queries, n, j, &b0, &b1);
                mma_bf16(dk_acc[n], dsa[j], b0, b1);
            }
        }
    }

#pragma unroll
    for (int r = 0; r < 2; r++)
    {
        int key = first_key + g + 8 * r;
        if (key >= context)
            continue;
        if (target.d_gamma)
        {
            write_qkv_gradient<HD>(dk_acc, r, scale, target, 1, bh / target.heads, bh % target.heads, key);
            write_qkv_gradient<HD>(dv_acc, r, 1.0f, target, 2, bh / target.heads, bh % target.heads, key);
            continue;
        }
        float* dk_row = dk + head_offset + (long long)key * HD;
        float* dv_row = dv + head_offset + (long long)key * HD;
#pragma unroll
        for (int n = 0; n < HD / 8; n++)
        {
            dk_row[n * 8 + 2 * q] = dk_acc[n][2 * r] * scale;
            dk_row[n * 8 + 2 * q + 1] = dk_acc[n][2 * r + 1] * scale;
            dv_row[n * 8 + 2 * q] = dv_acc[n][2 * r];
            dv_row[n * 8 + 2 * q + 1] = dv_acc[n][2 * r + 1];
        }
    }
}

// One block per (64-query tile, batch·head); warp w owns queries tile·64 + 16w … +15 and sums, over the key tiles at or
// before them, dQ = dS·K·scale.
template <int HD>
__device__ void flash_backward_queries(const unsigned short* __restrict__ q_heads, const unsigned short* __restrict__ k_heads,
    const unsigned short* __restrict__ v_heads, const unsigned short* __restrict__ d_out, const float* __restrict__ log_sum_exp,
    const float* __restrict__ d_dot, int context, float scale, unsigned long long dropout_key, unsigned long long dropout_threshold,
    float keep_scale, float* __restrict__ dq, QkvGradientTarget target)
{
    __shared__ __align__(16) unsigned short keys[FLASH_TILE * (HD + 8)];
    __shared__ __align__(16) unsigned short values[FLASH_TILE * (HD + 8)];
    int bh = blockIdx.y, tile = blockIdx.x;
    int warp = threadIdx.x / WARP, g = lane_id() / 4, q = lane_id() % 4;
    long long head_offset = (long long)bh * context * HD;
    int first_query = tile * FLASH_TILE + warp * 16;

    unsigned int qa[HD / 16][4], da[HD / 16][4];
    load_a_fragments<HD>(qa, q_heads + head_offset, first_query, context);
    load_a_fragments<HD>(da, d_out + head_offset, first_query, context);
    float lse[2], dd[2];
#pragma unroll
    for (int r = 0; r < 2; r++)
    {
        int query = first_query + g + 8 * r;
        lse[r] = query < context ? log_sum_exp[(long long)bh * context + query] : 0.0f;
        dd[r] = query < context ? d_dot[(long long)bh * context + query] : 0.0f;
    }
    float dq_acc[HD / 8][4];
#pragma unroll
    for (int n = 0; n < HD / 8; n++)
        dq_acc[n][0] = dq_acc[n][1] = dq_acc[n][2] = dq_acc[n][3] = 0.0f;

    float kept_factor = dropout_threshold != 0ull ? keep_scale : 1.0f;
    int key_tiles = min((context + FLASH_TILE - 1) / FLASH_TILE, tile + 1);
    for (int kt = 0; kt < key_tiles; kt++)
    {
        __syncthreads();
        load_tile<HD>(keys, k_heads + head_offset, kt * FLASH_TILE, context);
        load_tile<HD>(values, v_heads + head_offset, kt * FLASH_TILE, context);
        __syncthreads();

        unsigned int kept = dropout_threshold != 0ull
            ? attention_dropout_bits(dropout_key, dropout_threshold, bh, context, first_query, kt * FLASH_TILE, true)
            : 0xffffffffu;
        float s[8][4], dp[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
            dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.0f;
#pragma unroll
            for (int k = 0; k < HD / 16; k++)
            {
                unsigned int b0, b1;
                b_from_rows<HD>(keys, n, k, &b0, &b1);
                mma_bf16(s[n], qa[k], b0, b1);
                b_from_rows<HD>(values, n, k, &b0, &b1);
                mma_bf16(dp[n], da[k], b0, b1);
            }
#pragma unroll
            for (int e = 0; e < 4; e++)
            {
                int key = kt * FLASH_TILE + n * 8 + 2 * q + (e & 1);
                int query = first_query + g + (e >= 2 ? 8 : 0);
                bool valid = key <= query && key < context && query < context;
                float probability = valid ? expf(s[n][e] * scale - lse[e >> 1]) : 0.0f;
                float factor = ((kept >> (4 * n + e)) & 1u) ? kept_factor : 0.0f;
                s[n][e] = probability * ((dp[n][e] * factor) - dd[e >> 1]);
            }
        }

        unsigned int dsa[4][4];
        accumulators_to_a(s, dsa);
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
#pragma unroll
            for (int n = 0; n < HD / 8; n++)
            {
                unsigned int b0, b1;
                b_from_columns<HD>(keys, n, j, &b0, &b1);
                mma_bf16(dq_acc[n], dsa[j], b0, b1);
            }
        }
    }

#pragma unroll
    for (int r = 0; r < 2; r++)
    {
        int query = first_query + g + 8 * r;
        if (query >= context)
            continue;
        if (target.d_gamma)
        {
            write_qkv_gradient<HD>(dq_acc, r, scale, target, 0, bh / target.heads, bh % target.heads, query);
            continue;
        }
        float* dq_row = dq + head_offset + (long long)query * HD;
#pragma unroll
        for (int n = 0; n < HD / 8; n++)
        {
            dq_row[n * 8 + 2 * q] = dq_acc[n][2 * r] * scale;
            dq_row[n * 8 + 2 * q + 1] = dq_acc[n][2 * r + 1] * scale;
        }
    }
}

// D = rowsum(dO ⊙ O) per (batch·head, query), the softmax backward's correction term: a warp per pair, dO head-major
// (bf16), O in rows [batch·T, H·hd] (float32).
extern "C" __global__ void attention_row_dot(const unsigned short* __restrict__ d_out, const float* __restrict__ out,
    int rows_bh, int context, int heads, int head_dim, float* __restrict__ d_dot)
{
    long long pair = global_warp();
    if (pair >= rows_bh)
        return;
    int bh = (int)(pair / context), t = (int)(pair % context);
    int b = bh / heads, h = bh % heads;
    const unsigned short* d = d_out + pair * head_dim;
    const float* o = out + ((long long)b * context + t) * heads * head_dim + h * head_dim;
    float sum = 0.0f;
    for (int i = lane_id(); i < head_dim; i += WARP)
        sum += __uint_as_float((unsigned int)d[i] << 16) * o[i];
    sum = warp_sum(sum);
    if (lane_id() == 0)
        d_dot[pair] = sum;
}

// The forward kernel of head size 64 is held to 128 registers (four blocks per multiprocessor), as it compiled before
// the dropout mask was added; ptxas takes 140 without the bound, and spills nothing with it (NVRTC 11.8, sm_80).
// A minimum of 0 blocks sets no bound.
#define FLASH_FORWARD_MIN_BLOCKS(HD) ((HD) == 64 ? 4 : 0)

#define FLASH_ENTRY_POINTS(HD)                                                                                          \
    extern "C" __global__ void __launch_bounds__(FLASH_WARPS * WARP, FLASH_FORWARD_MIN_BLOCKS(HD))                     \
        flash_forward_##HD(const unsigned short* q_heads,                                                              \
        const unsigned short* k_heads, const unsigned short* v_heads, int context, int heads, float scale,                \
        unsigned long long dropout_key, unsigned long long dropout_threshold, float keep_scale, float* out,              \
        float* log_sum_exp)                                                                                            \
    {                                                                                                                  \
        flash_forward<HD>(q_heads, k_heads, v_heads, context, heads, scale, dropout_key, dropout_threshold, keep_scale,  \
            out, log_sum_exp);                                                                                         \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(FLASH_WARPS * WARP) flash_backward_keys_##HD(                          \
        const unsigned short* q_heads, const unsigned short* k_heads, const unsigned short* v_heads,                    \
        const unsigned short* d_out, const float* log_sum_exp, const float* d_dot, int context, float scale,             \
        unsigned long long dropout_key, unsigned long long dropout_threshold, float keep_scale, float* dk, float* dv,    \
        QkvGradientTarget target)                                                                                      \
    {                                                                                                                  \
        flash_backward_keys<HD>(q_heads, k_heads, v_heads, d_out, log_sum_exp, d_dot, context, scale, dropout_key,      \
            dropout_threshold, keep_scale, dk, dv, target);                                                            \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(FLASH_WARPS * WARP) flash_backward_queries_##HD(                       \
        const unsigned short* q_heads, const unsigned short* k_heads, const unsigned short* v_heads,                    \
        const unsigned short* d_out, const float* log_sum_exp, const float* d_dot, int context, float scale,             \
        unsigned long long dropout_key, unsigned long long dropout_threshold, float keep_scale, float* dq,               \
        QkvGradientTarget target)                                                                                      \
    {                                                                                                                  \
        flash_backward_queries<HD>(q_heads, k_heads, v_heads, d_out, log_sum_exp, d_dot, context, scale, dropout_key,   \
            dropout_threshold, keep_scale, dq, target);                                                                \
    }

FLASH_ENTRY_POINTS(16)
FLASH_ENTRY_POINTS(32)
FLASH_ENTRY_POINTS(64)

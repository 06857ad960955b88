// Filling shared memory with the bulk copy engine (cp.async.bulk, sm_90): thread 0 tells the region's mbarrier how
// many bytes to expect and starts one copy per contiguous run (a matrix's rows, a norm's weights), so no thread
// issues thousands of 16-byte copies; the block's threads wait on the mbarrier's phase before they read the region.
// Per-thread copies (cp.async) of a kernel that starts early go through the same load/store pipeline as the shared
// loads and shuffles of the kernel still running on that SM, and slow it down; a bulk copy is one instruction.
// Sources, destinations and sizes are multiples of 16 bytes (device allocations, rows of uint4, norm weights of a
// multiple of 4 floats).

__device__ __forceinline__ unsigned int shared_address(const void* p)
{
    return (unsigned int)__cvta_generic_to_shared(p);
}

// Thread 0, once per launch, before any fill: the mbarrier counts one arrival a phase (begin_fill's). The block's
// other threads may wait on it only after a barrier that follows this.
__device__ __forceinline__ void init_fill(unsigned long long* fill)
{
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(shared_address(fill)) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

__device__ __forceinline__ void bulk_copy(void* shared, const void* global, unsigned int bytes, unsigned long long* fill)
{
    if (bytes > 0)
    {
        asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
            ::"r"(shared_address(shared)), "l"(global), "r"(bytes), "r"(shared_address(fill)) : "memory");
    }
}

// Thread 0: the region's readers are done (a barrier precedes this), so the copy engine may overwrite it; `bytes`
// will arrive, and this thread's arrival completes the fill's phase once they have.
__device__ __forceinline__ void begin_fill(unsigned long long* fill, unsigned int bytes)
{
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(shared_address(fill)), "r"(bytes) : "memory");
}

// Every thread: waits for the region's fill number `parity` (mod 2) to complete, then flips the parity.
__device__ __forceinline__ void wait_fill(unsigned long long* fill, unsigned int& parity)
{
    unsigned int done = 0;
    while (!done)
    {
        asm volatile("{\n\t.reg .pred p;\n\tmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\tselp.u32 %0, 1, 0, p;\n\t}"
            : "=r"(done) : "r"(shared_address(fill)), "r"(parity) : "memory");
    }
    parity ^= 1;
}

// A norm's weights (width floats, a multiple of 4), if there is a norm.
__device__ __forceinline__ unsigned int norm_bytes(const float* weight, int width)
{
    return weight ? (unsigned int)width * 4 : 0;
}

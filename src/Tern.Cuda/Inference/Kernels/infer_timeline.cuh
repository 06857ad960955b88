#ifdef STEP_TIMING
// Experiment hook (TERN_CUDA_DEFINES=STEP_TIMING): block 0's thread 0 adds the cycles of each part of its matrix
// phases (slots: staging, quantizing, products, writes, statistics; +8 for gate/up; 13–15, 17, 18 attention's
// loads, scores, softmax, values and statistics) over every step; decode_step prints them, and so does the
// KERNEL_TIMELINE print of the launched kernels.
__device__ unsigned long long rows_cycles[20];
#define ROWS_START long long rows_mark = clock64();
#define ROWS_MARK(slot)                                                                  \
    if (threadIdx.x == 0 && blockIdx.x == 0)                                             \
    {                                                                                    \
        long long now = clock64();                                                       \
        atomicAdd(&rows_cycles[slot], (unsigned long long)(now - rows_mark));            \
        rows_mark = now;                                                                 \
    }

// Block 0's averages per call (a layer is three ternary_rows calls, one gate_up_rows and block 0's attention head).
__device__ void print_rows_cycles()
{
    double calls = (double)rows_cycles[16];
    printf("block 0 ternary_rows per call (%.0f calls): stage %.0f quantize %.0f products %.0f writes %.0f statistics %.0f | "
        "gate_up_rows: stage %.0f quantize %.0f products %.0f writes %.0f statistics %.0f\n", calls,
        rows_cycles[0] / calls, rows_cycles[1] / calls, rows_cycles[2] / calls, rows_cycles[3] / calls, rows_cycles[4] / calls,
        2 * rows_cycles[8] / calls, 2 * rows_cycles[9] / calls, 2 * rows_cycles[10] / calls, 2 * rows_cycles[11] / calls,
        2 * rows_cycles[12] / calls);
    double heads = calls / 3;
    printf("block 0 attention per head: loads %.0f scores %.0f softmax %.0f values %.0f statistics %.0f\n",
        rows_cycles[13] / heads, rows_cycles[14] / heads, rows_cycles[15] / heads, rows_cycles[17] / heads,
        rows_cycles[18] / heads);
}
#else
#define ROWS_START
#define ROWS_MARK(slot)
#endif

// Experiment hook (TERN_CUDA_DEFINES=KERNEL_TIMELINE): where a decoding step's time goes between the launches of
// its graph. Each decoding kernel's blocks note the global timer when they start, when their wait for the previous
// kernel returns and when they end; the last block of a launch files the launch's earliest start, earliest and
// latest release and latest end in a ring per kernel. The argmax that ends every 128th step prints, per kind of
// launch, the averages over the step's layers: how long its blocks sat resident before the release, the gap from
// the previous launch's end to the release, and the work from the release to the end. Launched decoding only (with
// the persistent step, TERN_CUDA_DECODE=step, there are no launches to time).

#ifdef KERNEL_TIMELINE
#define TIMELINE_TERNARY 0
#define TIMELINE_ATTENTION 1
#define TIMELINE_GATE_UP 2
#define TIMELINE_ARGMAX 3
#define TIMELINE_KINDS 4
#define TIMELINE_RING 256
#ifndef TIMELINE_LAYERS
#define TIMELINE_LAYERS 30
#endif

// Earliest times are kept as the largest complement, so that a zeroed slot is empty for every field.
struct TimelineSlot
{
    unsigned long long start_complement, release_complement, release_last, end;
};

__device__ TimelineSlot timeline_slots[TIMELINE_KINDS][TIMELINE_RING];
__device__ unsigned int timeline_launches[TIMELINE_KINDS];
__device__ unsigned int timeline_finished[TIMELINE_KINDS];

__device__ __forceinline__ unsigned long long timeline_now()
{
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

__device__ void timeline_print(int layers);

#define TIMELINE_START unsigned long long timeline_start = timeline_now(), timeline_release = timeline_start;
#define TIMELINE_RELEASED timeline_release = timeline_now();
#define TIMELINE_END(kind) timeline_file(kind, timeline_start, timeline_release);

// Thread 0 of every block, at the block's end (after the release, so the previous launch of the same kind has
// counted itself and its launch number is final).
__device__ __forceinline__ void timeline_file(int kind, unsigned long long start, unsigned long long release)
{
    __syncthreads();
    if (threadIdx.x != 0)
        return;
    unsigned int launch = *(volatile unsigned int*)&timeline_launches[kind];
    TimelineSlot* slot = &timeline_slots[kind][launch % TIMELINE_RING];
    atomicMax(&slot->start_complement, ~start);
    atomicMax(&slot->release_complement, ~release);
    atomicMax(&slot->release_last, release);
    atomicMax(&slot->end, timeline_now());
    __threadfence();
    if (atomicAdd(&timeline_finished[kind], 1u) == gridDim.x - 1)
    {
        TimelineSlot* next = &timeline_slots[kind][(launch + 1) % TIMELINE_RING];
        next->start_complement = next->release_complement = next->release_last = next->end = 0;
        timeline_finished[kind] = 0;
        __threadfence();
        atomicAdd(&timeline_launches[kind], 1u);
        if (kind == TIMELINE_ARGMAX)
            timeline_print(TIMELINE_LAYERS);
    }
}

__device__ __forceinline__ const TimelineSlot& timeline_back(int kind, int back)
{
    unsigned int launch = *(volatile unsigned int*)&timeline_launches[kind];
    return timeline_slots[kind][(launch - back + 2 * TIMELINE_RING) % TIMELINE_RING];
}

// The argmax's last block to file itself: a step is `layers` × (Q/K/V, attention, output, gate/up, down) and
// the head, then this argmax.
__device__ void timeline_print(int layers)
{
    unsigned int steps = *(volatile unsigned int*)&timeline_launches[TIMELINE_ARGMAX];
    if (steps % 128 != 64 || 3 * layers > TIMELINE_RING)
        return;
    const char* names[5] = {"qkv", "attention", "output", "gate/up", "down"};
    double resident[5] = {}, gap[5] = {}, work[5] = {}, spread[5] = {};
    unsigned long long previous_end = 0, first_start = 0;
    for (int l = 0; l < layers; l++)
    {
        const TimelineSlot* phases[5] = {
            &timeline_back(TIMELINE_TERNARY, 3 * (layers - l)), &timeline_back(TIMELINE_ATTENTION, layers - l),
            &timeline_back(TIMELINE_TERNARY, 3 * (layers - l) - 1), &timeline_back(TIMELINE_GATE_UP, layers - l),
            &timeline_back(TIMELINE_TERNARY, 3 * (layers - l) - 2)};
        for (int p = 0; p < 5; p++)
        {
            unsigned long long start = ~phases[p]->start_complement, release = ~phases[p]->release_complement;
            if (l == 0 && p == 0)
                first_start = start;
            else
                gap[p] += (double)(long long)(release - previous_end);
            resident[p] += (double)(long long)(release - start);
            spread[p] += (double)(long long)(phases[p]->release_last - release);
            work[p] += (double)(long long)(phases[p]->end - release);
            previous_end = phases[p]->end;
        }
    }
    const TimelineSlot& argmax = timeline_back(TIMELINE_ARGMAX, 1);
    printf("timeline step %u, %d layers, ns per launch (resident before release / gap after previous end / release spread / work):\n",
        steps, layers);
    for (int p = 0; p < 5; p++)
        printf("  %-9s %7.0f %7.0f %7.0f %7.0f\n", names[p], resident[p] / layers, gap[p] / (p == 0 ? layers - 1 : layers),
            spread[p] / layers, work[p] / layers);
    printf("  head + argmax start %llu, argmax %llu, step %llu\n", ~argmax.start_complement - previous_end,
        argmax.end - ~argmax.start_complement, argmax.end - first_start);
#ifdef STEP_TIMING
    print_rows_cycles();
#endif
}
#else
#define TIMELINE_START
#define TIMELINE_RELEASED
#define TIMELINE_END(kind)
#endif

using Tern.Cuda.Inference;

namespace Tern.Tests.Cuda;

/// <summary>
/// How the persistent decoding kernel splits a step (<see cref="DecodeStepPlan"/>), worked by hand for 2B-4T's shapes
/// on an H100 (132 SMs, 227 KiB of shared memory a block), and the shapes it declines.
/// </summary>
public class DecodeStepPlanTests
{
    private const int Shared = (227 * 1024) - 128;

    private static readonly DecodeStepDimensions BitNet2B4T = new(Embedding: 2560, QueryLength: 2560, KeyValueLength: 640, FeedForward: 6912, HeadDim: 128);

    [Fact]
    public void The_2B_4T_step_fits_one_block_an_SM()
    {
        var plan = DecodeStepPlan.For(BitNet2B4T, 132, Shared, contextLength: 4096)!.Value;

        // Rows a block: Q/K/V ⌈3840 / 132⌉ = 30; output and down ⌈2560 / 132⌉ = 20 and gate/up ⌈6912 / 132⌉ = 53, both
        // rounded up to whole chunks of 16 (their blocks write the statistics of the rows they write): 32 and 64.
        Assert.Equal((132, 30, 32, 64, 32), (plan.Blocks, plan.QkvRows, plan.OutputRows, plan.FfnRows, plan.DownRows));
        // A: gate and up, 2·64 rows of 40 groups of 16 bytes, then 2560 norm weights (max with Q/K/V's 30·40·16 + 10240).
        Assert.Equal((2 * 64 * 40 * 16) + (40 * 64 * 4), plan.RegionABytes);
        // B: down, 32 rows of 108 groups (6912 columns), then 6912 sub-norm weights (output needs 32·40·16 + 10240).
        Assert.Equal((32 * 108 * 16) + (108 * 64 * 4), plan.RegionBBytes);
        // Input: the widest phase's 108·64 int8 and floats and 108·8 floats of chunk statistics (scores of 4096
        // positions take 4·(384 + 4096) = 17,920).
        Assert.Equal(108 * ((64 * 5) + 32), plan.InputBytes);
        Assert.Equal(92_160 + 82_944 + 38_016, plan.SharedBytes);
        // Statistics: 6912 / 16 = 432 chunks; 128-wide heads are whole chunks.
        Assert.Equal(432, DecodeStepPlan.StatisticsChunks(BitNet2B4T));
        Assert.True(DecodeStepPlan.AttentionWritesStatistics(BitNet2B4T));
        Assert.False(DecodeStepPlan.AttentionWritesStatistics(BitNet2B4T with { HeadDim = 72 }));
    }

    [Fact]
    public void A_long_context_grows_the_input_region_to_the_scores()
    {
        var plan = DecodeStepPlan.For(BitNet2B4T, 132, Shared, contextLength: 12_000)!.Value;
        Assert.Equal(4 * ((3 * 128) + 12_000), plan.InputBytes);
        Assert.Null(DecodeStepPlan.For(BitNet2B4T, 132, Shared, contextLength: 16_384));
    }

    [Fact]
    public void More_rows_a_block_than_eight_warps_take_has_no_plan()
    {
        // Llama 3 8B's FFN: ⌈14336 / 132⌉ = 109 rows of gate and up a block, beyond 64.
        var llama8B = new DecodeStepDimensions(4096, 4096, 1024, 14336, 128);
        Assert.Null(DecodeStepPlan.For(llama8B, 132, Shared, 4096));
    }

    [Fact]
    public void Regions_beyond_shared_memory_have_no_plan()
    {
        // 2B-4T on 108 SMs (an A100): gate/up 64 rows fit the warps, but 2·64·640 + 10240 + B + input exceed 163 KiB.
        Assert.Null(DecodeStepPlan.For(BitNet2B4T, 108, (163 * 1024) - 128, 4096));
    }
}

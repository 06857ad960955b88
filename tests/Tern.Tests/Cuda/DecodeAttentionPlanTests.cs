using Tern.Cuda.Inference;

namespace Tern.Tests.Cuda;

/// <summary>
/// How many positions' cached keys and values attention_decode stages in shared memory
/// (<see cref="DecodeAttentionPlan"/>), worked by hand for 2B-4T's shapes on an H100, and the switch that turns it on.
/// </summary>
public class DecodeAttentionPlanTests
{
    // 227 KiB a block on an H100; the Q/K/V block (30 rows) and the output block (20 rows) that share the SM with it.
    private const int Shared = 227 * 1024;
    private const int Input = 40 * ((64 * 9) + 32);
    private const int Neighbours = (30 * 40 * 16) + Input + (20 * 40 * 16) + Input;

    [Fact]
    public void A_2B_4T_block_stages_what_the_Q_K_V_and_output_blocks_leave()
    {
        // 232,448 − 80,640 − 4,096 − (3·128 + 4096)·4 = 129,792 bytes; a position takes 2·128·4 = 1,024: 126 positions.
        Assert.Equal(80_640, Neighbours);
        Assert.Equal(126, DecodeAttentionPlan.Capacity(128, 4096, CudaAccelerator.AutomaticAttentionStaging, Shared, Neighbours));
        // A context of 256: the scores take 15,360 bytes fewer, 141 positions.
        Assert.Equal(141, DecodeAttentionPlan.Capacity(128, 256, CudaAccelerator.AutomaticAttentionStaging, Shared, Neighbours));
    }

    [Fact]
    public void The_context_and_the_limit_bound_it()
    {
        Assert.Equal(100, DecodeAttentionPlan.Capacity(128, 100, CudaAccelerator.AutomaticAttentionStaging, Shared, Neighbours));
        Assert.Equal(5, DecodeAttentionPlan.Capacity(128, 4096, 5, Shared, Neighbours));
        Assert.Equal(0, DecodeAttentionPlan.Capacity(128, 4096, 0, Shared, Neighbours));
    }

    [Fact]
    public void Nothing_is_staged_without_room_or_with_rows_that_are_not_whole_16_byte_units()
    {
        Assert.Equal(0, DecodeAttentionPlan.Capacity(128, 4096, CudaAccelerator.AutomaticAttentionStaging, Neighbours + 1000, Neighbours));
        Assert.Equal(0, DecodeAttentionPlan.Capacity(126, 64, CudaAccelerator.AutomaticAttentionStaging, Shared, Neighbours));
    }

    [Fact]
    public void Shared_memory_pads_the_scores_to_whole_float4s_before_the_staged_rows()
    {
        // 3·128 + 104 floats of query, key, value and scores (101 padded to 104), then 2·7·128 of keys and values.
        Assert.Equal(488, DecodeAttentionPlan.ScoreFloats(128, 101));
        Assert.Equal((488 + (2 * 7 * 128)) * 4, DecodeAttentionPlan.SharedBytes(128, 101, 7));
        Assert.Equal(488 * 4, DecodeAttentionPlan.SharedBytes(128, 101, 0));
    }

    [Theory]
    [InlineData("auto", CudaAccelerator.AutomaticAttentionStaging)]
    [InlineData("12", 12)]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("0", 0)]
    [InlineData("-3", 0)]
    [InlineData("all", 0)]
    public void TERN_CUDA_ATTENTION_STAGING_reads_auto_or_a_count(string? value, int expected) =>
        Assert.Equal(expected, CudaAccelerator.ParseStagingLimit(value));
}

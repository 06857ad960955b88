using Tern.Cuda.Inference;

namespace Tern.Tests.Cuda;

/// <summary>
/// How the fused decoding kernels split a matrix's rows over the SMs (<see cref="DecodeGrid"/>), worked by hand for
/// 2B-4T's shapes on an H100 (132 SMs, 227 KiB of shared memory a block), and its limits.
/// </summary>
public class DecodeGridTests
{
    private const int Shared = (227 * 1024) - 128;

    [Fact]
    public void Q_K_and_V_of_2B_4T_take_30_rows_a_block()
    {
        // 2560 + 640 + 640 rows of 2560 columns (40 groups): ⌈3840 / 132⌉ = 30 rows, 128 blocks, 30·40·16 bytes of codes
        // and 40·(64·9 + 32) of staged input (int8, floats and norm weights per column, 8 floats of chunk statistics per group).
        var grid = DecodeGrid.For(3840, 40, 1, 132, Shared)!.Value;
        Assert.Equal(new DecodeGrid(30, 128, (30 * 40 * 16) + (40 * ((64 * 9) + 32))), grid);
    }

    [Fact]
    public void Gate_and_up_stage_both_matrices_rows()
    {
        // 6912 rows: ⌈6912 / 132⌉ = 53 rows of each matrix, 131 blocks.
        var grid = DecodeGrid.For(6912, 40, 2, 132, Shared)!.Value;
        Assert.Equal(53, grid.RowsPerBlock);
        Assert.Equal(131, grid.Blocks);
        Assert.Equal((53 * 2 * 40 * 16) + (40 * ((64 * 9) + 32)), grid.SharedBytes);
    }

    [Fact]
    public void Rows_a_block_are_capped_by_the_warps_and_by_shared_memory()
    {
        Assert.Equal(DecodeGrid.MaxRowsPerBlock, DecodeGrid.For(100_000, 40, 1, 132, Shared)!.Value.RowsPerBlock);
        // Rows of 14336 columns (224 groups, 3584 bytes of codes) beside 136 KB of staged input: 26 fit.
        var wide = DecodeGrid.For(4096, 224, 1, 16, Shared)!.Value;
        Assert.Equal(26, wide.RowsPerBlock);
        Assert.True(wide.SharedBytes <= Shared);
        Assert.Equal((4096 + wide.RowsPerBlock - 1) / wide.RowsPerBlock, wide.Blocks);
    }

    [Fact]
    public void An_input_too_wide_for_shared_memory_has_no_grid() =>
        Assert.Null(DecodeGrid.For(100, 400, 1, 132, Shared));
}

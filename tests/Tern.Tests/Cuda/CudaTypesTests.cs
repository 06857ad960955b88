using Tern.Cuda;

namespace Tern.Tests.Cuda;

/// <summary>The parts of Tern.Cuda that need no GPU: sizes, addresses, argument packing, product descriptions.</summary>
public class CudaTypesTests
{
    [Fact]
    public void Dim3_covers_a_count_with_whole_blocks()
    {
        Assert.Equal(new Dim3(4), Dim3.Covering(1024, 256));
        Assert.Equal(new Dim3(5), Dim3.Covering(1025, 256));
        Assert.Equal(1u, ((Dim3)7).Y);
        Assert.Equal(24, new Dim3(2, 3, 4).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dim3(0));
    }

    [Fact]
    public void DevicePointer_alignment_is_the_largest_power_of_two_up_to_256()
    {
        Assert.Equal(256, new DevicePointer(0x7f00_0000_0000).Alignment);
        Assert.Equal(4, new DevicePointer(0x7f00_0000_0104).Alignment);
        Assert.Equal(2, (new DevicePointer(0x1000) + 2).Alignment);
        Assert.Equal(0x1010ul, (new DevicePointer(0x1000) + 16).Address);
    }

    [Fact]
    public unsafe void KernelArguments_keep_each_value_and_its_size()
    {
        var arguments = new KernelArguments();
        arguments.Add(new DevicePointer(0x1234_5678_9abc));
        arguments.Add(42);
        arguments.Add(0.5f);
        arguments.Add((byte)7);
        arguments.Add(-3L);
        void** pointers = stackalloc void*[KernelArguments.Capacity];
        int* sizes = stackalloc int[KernelArguments.Capacity];
        Assert.Equal(5, arguments.Describe(pointers, sizes));
        Assert.Equal(0x1234_5678_9abcul, *(ulong*)pointers[0]);
        Assert.Equal(42, *(int*)pointers[1]);
        Assert.Equal(0.5f, *(float*)pointers[2]);
        Assert.Equal((byte)7, *(byte*)pointers[3]);
        Assert.Equal(-3L, *(long*)pointers[4]);
        Assert.Equal([8, 4, 4, 1, 8], new[] { sizes[0], sizes[1], sizes[2], sizes[3], sizes[4] });
        Assert.Equal(0, (long)pointers[4] % 8);
    }

    [Fact]
    public void KernelArguments_refuse_more_than_their_capacity()
    {
        var arguments = new KernelArguments();
        for (int i = 0; i < KernelArguments.Capacity; i++)
            arguments.Add(i);
        bool refused = false;
        try
        {
            arguments.Add(1);
        }
        catch (InvalidOperationException)
        {
            refused = true;
        }
        Assert.True(refused);
    }

    [Fact]
    public void GemmDescription_derives_stored_shapes_strides_and_extents()
    {
        var linear = new GemmDescription(M: 16, N: 64, K: 32, GemmPrecision.BFloat16, TransposeB: true);
        Assert.Equal((16, 32), linear.StoredA);
        Assert.Equal((64, 32), linear.StoredB);
        Assert.Equal(32, linear.RowStrideA);
        Assert.Equal(32, linear.RowStrideB);
        Assert.Equal(64, linear.RowStrideC);
        Assert.Equal(16 * 32, linear.ElementsA);
        Assert.Equal(2, linear.InputElementBytes);

        var padded = new GemmDescription(3, 5, 7, GemmPrecision.Float32, TransposeA: true) { LeadingDimensionA = 4, LeadingDimensionC = 8 };
        Assert.Equal((7, 3), padded.StoredA);
        Assert.Equal(6 * 4 + 3, padded.ElementsA);
        Assert.Equal(2 * 8 + 5, padded.ElementsC);
        padded.Validate();

        Assert.Throws<ArgumentOutOfRangeException>(() => (padded with { LeadingDimensionA = 2 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new GemmDescription(0, 1, 1, GemmPrecision.Float32).Validate());
    }

    [Fact]
    public void KernelSource_names_what_is_missing_from_an_assembly()
    {
        var exception = Assert.Throws<FileNotFoundException>(() => KernelSource.FromResource(typeof(CudaTypesTests).Assembly, "nothing_here.cu"));
        Assert.Contains("nothing_here.cu", exception.Message, StringComparison.Ordinal);
        Assert.Equal("k.cu", KernelSource.FromText("k.cu", "extern \"C\" __global__ void k() {}").Name);
    }
}

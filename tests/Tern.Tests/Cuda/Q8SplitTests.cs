using Tern.Cuda.Inference;
using Tern.Quantization;

namespace Tern.Tests.Cuda;

/// <summary>
/// The split of Q8_0 blocks into int8 values and fp16 scale bits that <see cref="DeviceQ8Matrix"/> uploads, checked
/// without a GPU: value·scale must give back Q8_0Format.Decode's floats, for rows of odd block counts.
/// </summary>
public class Q8SplitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(80)]
    public void Values_times_scales_decode_to_the_blocks_floats(int blocks)
    {
        var random = new Random(blocks);
        int n = blocks * Q8_0Format.BlockSize;
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)((random.NextDouble() * 6) - 3);
        x[5] = 0;
        var q8 = new byte[Q8_0Format.ByteSize(n)];
        Q8_0Format.Encode(x, q8);
        var expected = new float[n];
        Q8_0Format.Decode(q8, expected);

        var values = new sbyte[n];
        var scales = new ushort[blocks];
        DeviceQ8Matrix.Split(q8, values, scales);
        for (int i = 0; i < n; i++)
        {
            float scale = (float)BitConverter.UInt16BitsToHalf(scales[i / Q8_0Format.BlockSize]);
            Assert.Equal(expected[i], values[i] * scale);
        }
    }
}

using Tern.Kernels;

namespace Tern.Tests.Kernels;

/// <summary><see cref="PortableExp"/>: within 2 ulp of e^x computed in double over the whole float range, and the edges.</summary>
public class PortableExpTests
{
    [Fact]
    public void Is_within_two_ulp_of_the_exact_value()
    {
        var random = new Random(5);
        double worst = 0;
        for (int i = 0; i < 200_000; i++)
        {
            float x = (float)((random.NextDouble() * 190) - 102);
            double exact = Math.Exp(x);
            float actual = PortableExp.Exp(x);
            double ulp = (double)MathF.BitIncrement((float)exact) - (float)exact;
            worst = Math.Max(worst, Math.Abs(actual - exact) / ulp);
        }

        Assert.True(worst <= 2, $"worst error {worst:F2} ulp");
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(1f, 2.7182817f)]
    [InlineData(-1f, 0.36787945f)]
    [InlineData(89f, float.PositiveInfinity)]
    [InlineData(-104f, 0f)]
    [InlineData(float.NegativeInfinity, 0f)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    public void Edges(float x, float expected) => Assert.Equal(expected, PortableExp.Exp(x), 7);

    [Fact]
    public void Subnormal_results_and_nan()
    {
        Assert.True(float.IsNaN(PortableExp.Exp(float.NaN)));
        float tiny = PortableExp.Exp(-100f);
        Assert.True(tiny > 0 && tiny < float.Epsilon * (1 << 22), $"{tiny}");
        Assert.InRange(Math.Abs(tiny - Math.Exp(-100)), 0, 2 * (double)float.Epsilon);
    }
}

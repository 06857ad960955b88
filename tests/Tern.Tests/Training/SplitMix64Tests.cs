using Tern.Training.Data;

namespace Tern.Tests.Training;

public sealed class SplitMix64Tests
{
    [Fact]
    public void Gives_the_published_reference_sequence()
    {
        // Vigna's splitmix64.c, seeded with 0 and with 1234567.
        var zero = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, zero.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, zero.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, zero.NextUInt64());

        var seeded = new SplitMix64(1234567);
        Assert.Equal(6457827717110365317UL, seeded.NextUInt64());
        Assert.Equal(3203168211198807973UL, seeded.NextUInt64());
        Assert.Equal(9817491932198370423UL, seeded.NextUInt64());
    }

    [Fact]
    public void Continues_from_a_saved_state()
    {
        var original = new SplitMix64(42);
        original.NextUInt64();
        var copy = new SplitMix64(original.State);
        Assert.Equal(original.NextUInt64(), copy.NextUInt64());
    }

    [Fact]
    public void Draws_below_a_bound_cover_it_evenly()
    {
        var random = new SplitMix64(3);
        var counts = new int[6];
        for (int i = 0; i < 60_000; i++)
            counts[random.NextBelow(6)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        Assert.Equal(0UL, random.NextBelow(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextBelow(0));
    }
}

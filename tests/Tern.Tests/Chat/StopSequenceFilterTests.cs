using Tern.Chat;

namespace Tern.Tests.Chat;

public class StopSequenceFilterTests
{
    [Fact]
    public void TextIsCutBeforeAStopSequenceSplitOverPieces()
    {
        var filter = new StopSequenceFilter(["\nUser:"]);
        Assert.Equal("Hello", filter.Push("Hello"));
        Assert.Equal(" there.", filter.Push(" there.\nUs"));
        Assert.False(filter.Stopped);
        Assert.Equal("", filter.Push("er: more"));
        Assert.True(filter.Stopped);
        Assert.Equal("", filter.Push("anything"));
        Assert.Equal("", filter.Flush());
    }

    [Fact]
    public void HeldTextIsReleasedWhenItTurnsOutNotToBeAStop()
    {
        var filter = new StopSequenceFilter(["END"]);
        Assert.Equal("a", filter.Push("aE"));
        Assert.Equal("", filter.Push("N"));
        Assert.Equal("ENd", filter.Push("d"));
        Assert.Equal("x", filter.Push("xEN"));
        Assert.Equal("EN", filter.Flush());
    }

    [Fact]
    public void TheEarliestOfSeveralStopsWins()
    {
        var filter = new StopSequenceFilter(["world", "lo w", ""]);
        Assert.Equal("hel", filter.Push("hello world"));
        Assert.True(filter.Stopped);
    }

    [Fact]
    public void WithoutStopsEveryPieceIsReleasedAsItComes()
    {
        var filter = new StopSequenceFilter([]);
        Assert.Equal("abc", filter.Push("abc"));
        Assert.Equal("", filter.Flush());
    }
}

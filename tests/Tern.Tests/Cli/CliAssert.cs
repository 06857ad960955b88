namespace Tern.Tests.Cli;

public static class CliAssert
{
    /// <summary>Exit code 0; the output is shown when it is not, since the exit code alone says nothing.</summary>
    public static void Succeeded(TernResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    /// <summary>
    /// Bad input: exit code 1 and exactly one line on stderr, "error: …", that contains <paramref name="mentions"/>
    /// (the file or the field at fault), and no stack trace.
    /// </summary>
    public static void UserError(TernResult result, params string[] mentions)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        string stderr = result.Stderr.TrimEnd('\r', '\n');
        Assert.StartsWith("error:", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', stderr);
        NoStackTrace(result);
        foreach (var m in mentions)
            Assert.Contains(m, stderr, StringComparison.Ordinal);
    }

    /// <summary>Rejected by the parser before any command ran: non-zero exit code and a message naming the value.</summary>
    public static void ParseError(TernResult result, params string[] mentions)
    {
        Assert.True(result.ExitCode != 0, result.ToString());
        NoStackTrace(result);
        foreach (var m in mentions)
            Assert.Contains(m, result.Stderr, StringComparison.Ordinal);
    }

    public static void NoStackTrace(TernResult result)
    {
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Stderr, StringComparison.Ordinal);
    }
}

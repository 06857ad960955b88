using System.Diagnostics;

namespace Tern.Cuda.DeviceTests;

/// <summary>
/// Runs named checks one after another and prints one line for each: PASS with what was measured, or FAIL with
/// the exception. A failed check does not stop the others (unless it broke the context, which the next ones report).
/// </summary>
internal sealed class DeviceCheckRunner
{
    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public void Run(string name, Func<string> check)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            string detail = check();
            Passed++;
            Console.WriteLine($"PASS  {name} [{clock.Elapsed.TotalMilliseconds:F0} ms]  {detail}");
        }
        catch (Exception exception)
        {
            Failed++;
            string kind = exception is CheckFailedException ? "" : exception.GetType().Name + ": ";
            Console.WriteLine($"FAIL  {name} [{clock.Elapsed.TotalMilliseconds:F0} ms]  {kind}{exception.Message}");
        }
    }
}

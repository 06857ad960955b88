namespace Tern.Cuda.DeviceTests;

/// <summary>A device check whose result was wrong (as opposed to one that could not run).</summary>
internal sealed class CheckFailedException(string message) : Exception(message)
{
    public static void Expect(bool condition, string whatWentWrong)
    {
        if (!condition)
            throw new CheckFailedException(whatWentWrong);
    }
}

namespace Tern.Tests.Server;

/// <summary>A test that needs <see cref="Chromium"/>: skipped, saying why, where it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!Chromium.IsInstalled)
            Skip = Chromium.Missing;
    }
}

namespace Tern.Server.Hosting;

/// <summary>Where the served model is in its life.</summary>
public enum ModelState
{
    Loading,
    Ready,
    Failed,
}

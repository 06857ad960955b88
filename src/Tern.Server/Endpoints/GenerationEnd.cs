namespace Tern.Server.Endpoints;

/// <summary>How a generation ended: completely, or cut short by the client leaving or the server stopping.</summary>
internal enum GenerationEnd
{
    Finished,
    ClientLeft,
    ServerStopping,
}

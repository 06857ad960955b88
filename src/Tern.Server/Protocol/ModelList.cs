namespace Tern.Server.Protocol;

/// <summary>The answer to GET /v1/models: the one model this server serves.</summary>
public sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object => "list";
}

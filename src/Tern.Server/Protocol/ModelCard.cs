namespace Tern.Server.Protocol;

/// <summary>One model in GET /v1/models; <see cref="Created"/> is the file's modification time in Unix seconds.</summary>
public sealed record ModelCard(string Id, long Created)
{
    public string Object => "model";

    public string OwnedBy => "tern";
}

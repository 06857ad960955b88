namespace Tern.Server.Protocol;

/// <summary>GET /health: "ok" once the model is loaded (200), "loading" before (503), "failed" when loading failed (503).</summary>
public sealed record HealthStatus(string Status);

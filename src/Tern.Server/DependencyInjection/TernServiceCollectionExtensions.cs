using Microsoft.Extensions.AI;
using Tern.Chat;
using Tern.Inference;

// In the namespace of IServiceCollection, as ASP.NET Core's and Microsoft.Extensions.AI's own registrations are, so
// that `services.AddTernChatClient(...)` needs no extra using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Tern's <see cref="IChatClient"/> for dependency injection.</summary>
public static class TernServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="TernModel"/> loaded from <paramref name="modelPath"/> (once, when first resolved, and
    /// disposed with the container) and a <see cref="TernChatClient"/> over it as the container's
    /// <see cref="IChatClient"/>. Returns the client's pipeline, to which Microsoft.Extensions.AI's middleware
    /// (UseLogging, UseOpenTelemetry, UseDistributedCache, …) can be added; Semantic Kernel and any other
    /// Microsoft.Extensions.AI consumer then resolve IChatClient.
    /// </summary>
    public static ChatClientBuilder AddTernChatClient(this IServiceCollection services, string modelPath,
        TernChatClientOptions? options = null, TernModelOptions? modelOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        services.AddSingleton(_ => TernModel.Load(modelPath, modelOptions));
        return services.AddChatClient(provider => new TernChatClient(provider.GetRequiredService<TernModel>(), options: options));
    }
}

using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Server.Generation;
using Tern.Server.Hosting;
using Tern.Server.Metrics;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>
/// Runs a request's generation and hands each piece to the endpoint's writer. The generation stops before its next
/// step when the client disconnects (HttpContext.RequestAborted) or the server's shutdown grace is over, and a write
/// to a client that is gone stops it too.
/// </summary>
internal static class GenerationStream
{
    /// <summary>Runs a request that is not streamed to its end and returns the whole text, or null when the client
    /// left; a server that stops before the text is complete answers 503.</summary>
    public static async Task<string?> CollectAsync(HttpContext context, ModelHost host, ServedModel served, SessionSlot slot,
        GenerationRequest request, GenerationOutcome outcome, string whatWasCut)
    {
        var text = new StringBuilder();
        var end = await RunAsync(context, host, served, slot, request, outcome, (piece, _) =>
        {
            text.Append(piece);
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        if (end == GenerationEnd.ClientLeft)
            return null;
        if (end == GenerationEnd.ServerStopping)
            throw ApiException.Unavailable($"the server stopped before {whatWasCut} was complete", "shutting_down", retryAfterSeconds: 5);
        return text.ToString();
    }

    public static async Task<GenerationEnd> RunAsync(HttpContext context, ModelHost host, ServedModel served, SessionSlot slot,
        GenerationRequest request, GenerationOutcome outcome, Func<string, CancellationToken, Task> onPiece)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, host.Draining);
        try
        {
            await foreach (string piece in served.GenerateAsync(slot, request, outcome, stop.Token).ConfigureAwait(false))
                await onPiece(piece, stop.Token).ConfigureAwait(false);
            return GenerationEnd.Finished;
        }
        catch (Exception e) when ((e is OperationCanceledException && stop.IsCancellationRequested) || e is IOException)
        {
            // IOException: the connection was reset while a piece was being written.
            context.RequestServices.GetRequiredService<ServerMetrics>().Cancelled();
            return host.Draining.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested
                ? GenerationEnd.ServerStopping
                : GenerationEnd.ClientLeft;
        }
    }
}

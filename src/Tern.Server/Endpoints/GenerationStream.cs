using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Server.Generation;
using Tern.Server.Hosting;
using Tern.Server.Metrics;

namespace Tern.Server.Endpoints;

/// <summary>
/// Runs a request's generation and hands each piece to the endpoint's writer. The generation stops before its next
/// step when the client disconnects (HttpContext.RequestAborted) or the server's shutdown grace is over, and a write
/// to a client that is gone stops it too.
/// </summary>
internal static class GenerationStream
{
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

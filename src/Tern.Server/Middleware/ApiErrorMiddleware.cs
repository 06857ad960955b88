using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tern.Server.Endpoints;
using Tern.Server.Metrics;
using Tern.Server.Protocol;

namespace Tern.Server.Middleware;

/// <summary>
/// Turns what goes wrong into OpenAI's error body: a refused request (<see cref="ApiException"/>) into its status;
/// a body over the size limit into 413; an unexpected exception into a 500 whose message points to the server's log,
/// never a stack trace. A client that left gets nothing: there is no one to answer.
/// </summary>
internal sealed class ApiErrorMiddleware(RequestDelegate next, ServerMetrics metrics, ILogger<ApiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client disconnected, while waiting in the queue or while its answer was written.
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            if (e.Detail.Code == "server_busy")
                metrics.Rejected();
            await JsonResponses.WriteErrorAsync(context.Response, e).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            // Kestrel's own refusals while the body is read: too large (413), too slow, cut short.
            await JsonResponses.WriteErrorAsync(context.Response, e.StatusCode, new ApiErrorDetail(e.Message, ErrorTypes.InvalidRequest, null, null)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            await JsonResponses.WriteErrorAsync(context.Response, StatusCodes.Status500InternalServerError,
                new ApiErrorDetail("the server failed to answer; its log has the details", ErrorTypes.Server, null, "internal_error")).ConfigureAwait(false);
        }
    }
}

using System.Net;

namespace Tern.Tests.Server;

/// <summary>
/// Requests the server must refuse: each gets a 4xx in OpenAI's error shape with a sentence that names the field,
/// never a stack trace, and the server goes on answering.
/// </summary>
public sealed class BadRequestTests(ServedBit3M served) : IClassFixture<ServedBit3M>
{
    private const string Chat = "/v1/chat/completions";
    private const string Completions = "/v1/completions";

    public static TheoryData<string, string, int, string?, string> Refused => new()
    {
        // path, body, status, error.param, a fragment of error.message
        { Chat, "{\"messages\": [", 400, null, "not valid JSON" },
        { Chat, "", 400, null, "not valid JSON" },
        { Chat, "[1, 2]", 400, null, "must be a JSON object, not an array" },
        { Chat, "{}", 400, "messages", "'messages' is required" },
        { Chat, "{\"messages\": []}", 400, "messages", "'messages' is empty" },
        { Chat, "{\"messages\": \"hello\"}", 400, "messages", "must be an array, not a string" },
        { Chat, "{\"messages\": [\"hello\"]}", 400, "messages[0]", "must be an object" },
        { Chat, "{\"messages\": [{\"content\": \"hi\"}]}", 400, "messages[0].role", "is required" },
        { Chat, "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", 400, "messages[0].role", "\"wizard\", which is not a role" },
        { Chat, "{\"messages\": [{\"role\": \"tool\", \"content\": \"hi\"}]}", 400, "messages[0].role", "does not call tools" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": 42}]}", 400, "messages[0].content", "a string or an array of text parts" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", 400, "messages[0].content[0].type", "only text parts" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": -0.5}", 400, "temperature", "between 0 and 2" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"warm\"}", 400, "temperature", "must be a number, not a string" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_p\": 0}", 400, "top_p", "above 0" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}", 400, "max_tokens", "between 1 and" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 1.5}", 400, "max_tokens", "must be an integer" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 1000000000000}", 400, "max_tokens", "between 1 and 2147483647" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 100000}", 400, "max_tokens", "passes the context of 512 tokens" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_completion_tokens\": 100000}", 400, "max_completion_tokens", "passes the context" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": \"yes\"}", 400, "stream", "must be a boolean" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 7}", 400, "stop", "a string or an array of strings" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", 400, "stop", "at most 4" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 3}", 400, "n", "one choice per request" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"seed\": \"abc\"}", 400, "seed", "must be an integer" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"model\": 5}", 400, "model", "must be a string" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"presence_penalty\": 1}", 400, "presence_penalty", "not supported" },
        { Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream_options\": {\"include_usage\": 1}}", 400, "stream_options.include_usage", "must be a boolean" },
        { Chat, $"{{\"messages\": [{{\"role\": \"user\", \"content\": \"{string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 150))}\"}}]}}", 400, "messages", "a session's context holds 512" },
        { Completions, "{}", 400, "prompt", "'prompt' is required" },
        { Completions, "{\"prompt\": 12}", 400, "prompt", "a string or an array of token ids" },
        { Completions, "{\"prompt\": []}", 400, "prompt", "empty array" },
        { Completions, "{\"prompt\": [\"a\", \"b\"]}", 400, "prompt", "one prompt per request" },
        { Completions, "{\"prompt\": [1, 99999]}", 400, "prompt[1]", "from 0 to 511" },
        { Completions, "{\"prompt\": \"Once\", \"echo\": true}", 400, "echo", "not supported" },
        { Completions, "{\"prompt\": \"Once\", \"max_tokens\": 600}", 400, "max_tokens", "ask for at most" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task IsRefusedWithAClearMessageAndTheServerGoesOn(string path, string body, int status, string? param, string fragment)
    {
        var answer = await served.Server.PostAsync(path, body);

        Assert.Equal(status, (int)answer.Status);
        Assert.Equal("application/json", answer.ContentType);
        var error = answer.Error;
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(param, error.Param);
        Assert.DoesNotContain("   at ", answer.Body, StringComparison.Ordinal);
        await AssertStillAnsweringAsync();
    }

    [Fact]
    public async Task UnknownPathsAndMethodsAreOpenAIErrors()
    {
        var missing = await served.Server.PostAsync("/v1/embeddings", "{}");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Contains("no endpoint at POST /v1/embeddings", missing.Error.Message, StringComparison.Ordinal);

        var wrongMethod = await served.Server.GetAsync("/v1/chat/completions");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.Status);
        Assert.Contains("does not take GET", wrongMethod.Error.Message, StringComparison.Ordinal);
        await AssertStillAnsweringAsync();
    }

    [Fact]
    public async Task ABodyOverTheLimitIs413()
    {
        string huge = $"{{\"prompt\": \"{new string('a', 5 << 20)}\"}}";
        var request = RunningServer.Request(HttpMethod.Post, "/v1/completions", huge, null);
        // The client waits for the server's go-ahead before sending the body: the server refuses from the length
        // alone, and the client reads that answer rather than failing on a connection closed under its upload.
        request.Headers.ExpectContinue = true;
        var answer = await served.Server.SendAsync(request, default);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.Status);
        Assert.Equal("invalid_request_error", answer.Error.Type);
        await AssertStillAnsweringAsync();
    }

    [Fact]
    public async Task UnknownFieldsAndNullsAreIgnoredAsOpenAIClientsExpect()
    {
        var answer = await served.Server.PostAsync("/v1/chat/completions",
            "{\"model\": \"anything\", \"user\": \"u1\", \"temperature\": null, \"logit_bias\": {}, \"frequency_penalty\": 0, \"max_tokens\": 4, "
            + "\"messages\": [{\"role\": \"developer\", \"content\": [{\"type\": \"text\", \"text\": \"Be brief.\"}]}, {\"role\": \"user\", \"content\": \"Hi\", \"name\": \"ann\"}]}");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(4, answer.Json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    private async Task AssertStillAnsweringAsync()
    {
        var health = await served.Server.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.Status);
        var answer = await served.Server.PostAsync("/v1/completions", "{\"prompt\": \"Once upon a time\", \"max_tokens\": 3, \"temperature\": 0}");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(3, answer.Json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}

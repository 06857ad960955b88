using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>
/// The "messages" of a chat completion: a non-empty array of {role, content}, where content is a string or an array
/// of text parts. The roles are system (and OpenAI's newer name for it, developer), user and assistant; tools and
/// images are refused with a message that says so.
/// </summary>
internal static class ChatMessages
{
    public static List<ChatMessage> Read(RequestReader reader)
    {
        if (reader.Field("messages") is not { } messages)
            throw ApiException.BadRequest("'messages' is required: an array of {\"role\", \"content\"} objects", "messages");
        if (messages.ValueKind != JsonValueKind.Array)
            throw RequestReader.WrongType("messages", "an array", messages);
        if (messages.GetArrayLength() == 0)
            throw ApiException.BadRequest("'messages' is empty; a chat needs at least one message", "messages");

        var read = new List<ChatMessage>(messages.GetArrayLength());
        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"messages[{i++}]";
            if (message.ValueKind != JsonValueKind.Object)
                throw RequestReader.WrongType(at, "an object", message);
            read.Add(new ChatMessage(Role(message, at), Content(message, at)));
        }

        return read;
    }

    private static ChatRole Role(JsonElement message, string at)
    {
        string param = at + ".role";
        if (!message.TryGetProperty("role", out var value) || value.ValueKind == JsonValueKind.Null)
            throw ApiException.BadRequest($"'{param}' is required: system, user or assistant", param);
        return RequestReader.String(value, param) switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "tool" or "function" => throw ApiException.BadRequest($"'{param}' is \"{value.GetString()}\": Tern does not call tools", param),
            var other => throw ApiException.BadRequest($"'{param}' is \"{other}\", which is not a role; use system, user or assistant", param),
        };
    }

    private static string Content(JsonElement message, string at)
    {
        string param = at + ".content";
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            return "";
        if (content.ValueKind == JsonValueKind.String)
            return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array)
            throw RequestReader.WrongType(param, "a string or an array of text parts", content);
        var text = new StringBuilder();
        int j = 0;
        foreach (var part in content.EnumerateArray())
        {
            string partParam = $"{param}[{j++}]";
            if (part.ValueKind != JsonValueKind.Object)
                throw RequestReader.WrongType(partParam, "an object", part);
            string type = part.TryGetProperty("type", out var t) ? RequestReader.String(t, partParam + ".type") : "";
            if (type != "text")
                throw ApiException.BadRequest($"'{partParam}.type' is \"{type}\": Tern reads only text parts", partParam + ".type");
            if (!part.TryGetProperty("text", out var partText))
                throw ApiException.BadRequest($"'{partParam}.text' is required", partParam + ".text");
            text.Append(RequestReader.String(partText, partParam + ".text"));
        }

        return text.ToString();
    }
}

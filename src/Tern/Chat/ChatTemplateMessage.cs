namespace Tern.Chat;

/// <summary>One message of a conversation as a chat template sees it: a role ("system", "user", "assistant", …) and its text.</summary>
public readonly record struct ChatTemplateMessage(string Role, string Content)
{
    public static ChatTemplateMessage System(string content) => new("system", content);

    public static ChatTemplateMessage User(string content) => new("user", content);

    public static ChatTemplateMessage Assistant(string content) => new("assistant", content);
}

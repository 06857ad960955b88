using System.Text;

namespace Tern.Chat;

/// <summary>
/// Writes a conversation as the prompt text a model was trained on, ending with the header of the assistant's turn
/// so that the model writes the reply. Special tokens appear as their text (&lt;|eot_id|&gt;); tokenize the prompt with
/// special tokens recognized and without adding BOS, since the template writes it. Each template is the fixed
/// output of a known Jinja template (<see cref="Recognize"/>), not a Jinja engine.
/// </summary>
public abstract partial class ChatTemplate
{
    /// <summary>The name <see cref="FromName"/> knows it by.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Text after which the reply is over even if the model goes on, for templates whose turns end without a special
    /// token (a base model continues the transcript with the user's next line).
    /// </summary>
    public virtual IReadOnlyList<string> StopSequences => [];

    /// <summary>
    /// The prompt for <paramref name="messages"/>: <paramref name="bosToken"/> (the text of the tokenizer's BOS, or
    /// empty for a model that takes none), every message, then the assistant's header when
    /// <paramref name="addAssistantHeader"/>.
    /// </summary>
    public string Format(IEnumerable<ChatTemplateMessage> messages, string bosToken = "", bool addAssistantHeader = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(bosToken);
        var text = new StringBuilder(bosToken);
        foreach (var message in messages)
            AppendMessage(text, message.Role, message.Content ?? "");
        if (addAssistantHeader)
            AppendAssistantHeader(text);
        return text.ToString();
    }

    public override string ToString() => Name;

    private protected abstract void AppendMessage(StringBuilder text, string role, string content);

    private protected abstract void AppendAssistantHeader(StringBuilder text);

    /// <summary>Jinja's <c>capitalize</c> filter: the first character upper case, the rest lower case.</summary>
    private protected static string Capitalize(string role) =>
        role.Length == 0 ? role : string.Concat(role[..1].ToUpperInvariant(), role[1..].ToLowerInvariant());
}

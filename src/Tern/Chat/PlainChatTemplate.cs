using System.Text;

namespace Tern.Chat;

/// <summary>
/// For models without a chat format (base models): a transcript, one line per message, <c>User: …\nAssistant:</c>.
/// The header ends without a space, so that the model writes the reply's first word with its own leading space,
/// as it saw words in training. A base model goes on to write the user's next line, so that ends the reply.
/// </summary>
internal sealed class PlainChatTemplate : ChatTemplate
{
    public override string Name => "plain";

    public override IReadOnlyList<string> StopSequences { get; } = ["\nUser:"];

    private protected override void AppendMessage(StringBuilder text, string role, string content) =>
        text.Append(Capitalize(role)).Append(": ").Append(content.Trim()).Append('\n');

    private protected override void AppendAssistantHeader(StringBuilder text) => text.Append("Assistant:");
}

using System.Text;

namespace Tern.Chat;

/// <summary>
/// BitNet b1.58 2B-4T's template: <c>&lt;|begin_of_text|&gt;System: …&lt;|eot_id|&gt;User: …&lt;|eot_id|&gt;Assistant: </c>.
/// The role is capitalized and the content trimmed, as its Jinja template does.
/// </summary>
internal sealed class BitNetChatTemplate : ChatTemplate
{
    public override string Name => "bitnet";

    private protected override void AppendMessage(StringBuilder text, string role, string content) =>
        text.Append(Capitalize(role)).Append(": ").Append(content.Trim()).Append("<|eot_id|>");

    private protected override void AppendAssistantHeader(StringBuilder text) => text.Append("Assistant: ");
}

using System.Text;

namespace Tern.Chat;

/// <summary>
/// Llama 3 Instruct's template: <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\n…&lt;|eot_id|&gt;</c> per message,
/// the content trimmed, as its Jinja template does.
/// </summary>
internal sealed class Llama3ChatTemplate : ChatTemplate
{
    public override string Name => "llama3";

    private protected override void AppendMessage(StringBuilder text, string role, string content) =>
        text.Append("<|start_header_id|>").Append(role).Append("<|end_header_id|>\n\n").Append(content.Trim()).Append("<|eot_id|>");

    private protected override void AppendAssistantHeader(StringBuilder text) => text.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
}

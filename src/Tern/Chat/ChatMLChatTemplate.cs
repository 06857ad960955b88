using System.Text;

namespace Tern.Chat;

/// <summary>ChatML (Qwen, many fine-tunes): <c>&lt;|im_start|&gt;role\n…&lt;|im_end|&gt;\n</c> per message, the content as given.</summary>
internal sealed class ChatMLChatTemplate : ChatTemplate
{
    public override string Name => "chatml";

    private protected override void AppendMessage(StringBuilder text, string role, string content) =>
        text.Append("<|im_start|>").Append(role).Append('\n').Append(content).Append("<|im_end|>\n");

    private protected override void AppendAssistantHeader(StringBuilder text) => text.Append("<|im_start|>assistant\n");
}

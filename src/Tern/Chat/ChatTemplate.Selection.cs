using Tern.Gguf;

namespace Tern.Chat;

/// <summary>The known templates, and which one a model uses.</summary>
public abstract partial class ChatTemplate
{
    public static ChatTemplate BitNet { get; } = new BitNetChatTemplate();

    public static ChatTemplate Llama3 { get; } = new Llama3ChatTemplate();

    public static ChatTemplate ChatML { get; } = new ChatMLChatTemplate();

    public static ChatTemplate Plain { get; } = new PlainChatTemplate();

    public static IReadOnlyList<ChatTemplate> All { get; } = [BitNet, Llama3, ChatML, Plain];

    /// <summary>The template called <paramref name="name"/> (bitnet, llama3, chatml, plain; any case).</summary>
    public static ChatTemplate FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"no chat template named \"{name}\"; Tern knows {string.Join(", ", All.Select(t => t.Name))}", nameof(name));
    }

    /// <summary>
    /// The template a model file asks for: its tokenizer.chat_template when <see cref="Recognize"/> knows it; else
    /// BitNet b1.58 2B-4T's format for the bitnet-b1.58 architecture (its GGUF files often carry no template);
    /// else <see cref="Plain"/>.
    /// </summary>
    public static ChatTemplate ForModel(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.GetStringOrDefault(GgufKeys.ChatTemplate) is { } jinja && Recognize(jinja) is { } known)
            return known;
        return metadata.Architecture == "bitnet-b1.58" ? BitNet : Plain;
    }

    /// <summary>
    /// The known template that <paramref name="jinja"/> writes, recognized by the text only it contains, or null.
    /// </summary>
    public static ChatTemplate? Recognize(string jinja)
    {
        ArgumentNullException.ThrowIfNull(jinja);
        if (jinja.Contains("<|start_header_id|>", StringComparison.Ordinal) && jinja.Contains("<|eot_id|>", StringComparison.Ordinal))
            return Llama3;
        // 2B-4T's template (tokenizer_config.json) writes each role capitalized and followed by ': ', and 'Assistant: '
        // to ask for the reply.
        if (jinja.Contains("<|eot_id|>", StringComparison.Ordinal) && jinja.Contains("capitalize", StringComparison.Ordinal)
            && jinja.Contains("Assistant: ", StringComparison.Ordinal))
            return BitNet;
        // Microsoft's own 2B-4T GGUF carries a placeholder its conversion script writes (Human: … BITNETAssistant:),
        // not the format the model was trained on: that file gets the trained one.
        if (jinja.Contains("BITNETAssistant", StringComparison.Ordinal))
            return BitNet;
        if (jinja.Contains("<|im_start|>", StringComparison.Ordinal) && jinja.Contains("<|im_end|>", StringComparison.Ordinal))
            return ChatML;
        return null;
    }
}

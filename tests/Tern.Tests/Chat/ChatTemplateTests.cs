using System.Text.Json;
using Tern.Chat;
using Tern.Gguf;

namespace Tern.Tests.Chat;

/// <summary>Every template's exact prompt for one multi-turn conversation with a system message, written out by hand.</summary>
public class ChatTemplateTests
{
    private static readonly ChatTemplateMessage[] Conversation =
    [
        ChatTemplateMessage.System("You are a helpful assistant."),
        ChatTemplateMessage.User("Hi!"),
        ChatTemplateMessage.Assistant("Hello! How can I help?"),
        ChatTemplateMessage.User("Tell me a joke."),
    ];

    [Fact]
    public void BitNet2B4TFormat()
    {
        Assert.Equal(
            "<|begin_of_text|>System: You are a helpful assistant.<|eot_id|>User: Hi!<|eot_id|>Assistant: Hello! How can I help?<|eot_id|>User: Tell me a joke.<|eot_id|>Assistant: ",
            ChatTemplate.BitNet.Format(Conversation, "<|begin_of_text|>"));
    }

    [Fact]
    public void Llama3Format()
    {
        Assert.Equal(
            "<|begin_of_text|>" +
            "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nTell me a joke.<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            ChatTemplate.Llama3.Format(Conversation, "<|begin_of_text|>"));
    }

    [Fact]
    public void ChatMLFormat()
    {
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n" +
            "<|im_start|>assistant\nHello! How can I help?<|im_end|>\n<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.ChatML.Format(Conversation));
    }

    [Fact]
    public void PlainFormat()
    {
        Assert.Equal(
            "<s>System: You are a helpful assistant.\nUser: Hi!\nAssistant: Hello! How can I help?\nUser: Tell me a joke.\nAssistant:",
            ChatTemplate.Plain.Format(Conversation, "<s>"));
        Assert.Equal(["\nUser:"], ChatTemplate.Plain.StopSequences);
    }

    [Fact]
    public void WithoutTheAssistantHeaderTheConversationEndsAfterItsLastMessage()
    {
        Assert.Equal("<|begin_of_text|>User: Hi!<|eot_id|>",
            ChatTemplate.BitNet.Format([ChatTemplateMessage.User("Hi!")], "<|begin_of_text|>", addAssistantHeader: false));
    }

    [Fact]
    public void BitNetAndLlama3TrimTheContentAsTheirJinjaTemplatesDo()
    {
        var message = ChatTemplateMessage.User("  Hi!\n");
        Assert.Equal("User: Hi!<|eot_id|>Assistant: ", ChatTemplate.BitNet.Format([message]));
        Assert.Equal("<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", ChatTemplate.Llama3.Format([message]));
    }

    [Fact]
    public void TheRealLlama3TemplateIsRecognized()
    {
        // The Llama 3 tokenizer's own tokenizer_config.json (shared data).
        using var config = JsonDocument.Parse(File.ReadAllText(TestData.SharedDataPath("tokenizers", "llama3", "tokenizer_config.json")));
        string jinja = config.RootElement.GetProperty("chat_template").GetString()!;
        Assert.Same(ChatTemplate.Llama3, ChatTemplate.Recognize(jinja));
    }

    [Fact]
    public void TheBitNet2B4TTemplatesAreRecognized()
    {
        // The shape of 2B-4T's tokenizer_config.json template: the capitalized role, ': ', the trimmed content, <|eot_id|>.
        const string huggingFace = "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{{ message['role'] | capitalize + ': ' + " +
            "message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";
        Assert.Same(ChatTemplate.BitNet, ChatTemplate.Recognize(huggingFace));
        // The placeholder in Microsoft's GGUF: recognized, and answered with the format the model was trained on.
        const string placeholder = "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' }}{% endif %}{% endfor %}";
        Assert.Same(ChatTemplate.BitNet, ChatTemplate.Recognize(placeholder));
    }

    [Fact]
    public void ChatMLIsRecognizedAndAnUnknownTemplateIsNot()
    {
        Assert.Same(ChatTemplate.ChatML, ChatTemplate.Recognize("{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"));
        Assert.Null(ChatTemplate.Recognize("{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"));
    }

    [Theory]
    [InlineData("bitnet-b1.58", null, "bitnet")]
    [InlineData("llama", null, "plain")]
    [InlineData("bitnet", null, "plain")]
    [InlineData("llama", "{{ '<|start_header_id|>' + m + '<|end_header_id|>' + c + '<|eot_id|>' }}", "llama3")]
    [InlineData("bitnet-b1.58", "{{ 'Human: ' + c + 'BITNETAssistant: ' }}", "bitnet")]
    [InlineData("bitnet-b1.58", "an unknown template", "bitnet")]
    [InlineData("llama", "an unknown template", "plain")]
    public void ModelFilesGetTheirTemplateFromTheirJinjaThenTheirArchitecture(string architecture, string? jinja, string expected)
    {
        var metadata = new GgufMetadata();
        metadata.Set(GgufKeys.Architecture, architecture);
        if (jinja != null)
            metadata.Set(GgufKeys.ChatTemplate, jinja);
        Assert.Equal(expected, ChatTemplate.ForModel(metadata).Name);
    }

    [Fact]
    public void TemplatesAreForcedByName()
    {
        foreach (var template in ChatTemplate.All)
            Assert.Same(template, ChatTemplate.FromName(template.Name.ToUpperInvariant()));
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.FromName("vicuna"));
        Assert.Contains("vicuna", e.Message, StringComparison.Ordinal);
        Assert.Contains("llama3", e.Message, StringComparison.Ordinal);
    }
}

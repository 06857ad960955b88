namespace Tern.Inference;

/// <summary>
/// One generated token and the text it completes (empty while a multi-byte character is still incomplete). The last
/// item may have Id −1: text held back at the end (an unfinished character, shown as U+FFFD).
/// </summary>
public readonly record struct GeneratedToken(int Id, string Text);

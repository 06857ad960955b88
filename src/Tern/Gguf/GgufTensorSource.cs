namespace Tern.Gguf;

/// <summary>
/// A tensor to be written: its info and a callback that writes exactly <see cref="ByteSize"/> bytes when the writer
/// reaches it, so that a converter can produce one tensor at a time and never hold the model in memory.
/// </summary>
public sealed record GgufTensorSource(string Name, GgmlType Type, long[] Shape, long ByteSize, Action<Stream> WriteData);

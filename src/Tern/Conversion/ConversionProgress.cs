namespace Tern.Conversion;

/// <summary>Reported after each tensor is written.</summary>
public readonly record struct ConversionProgress(int TensorsWritten, int TensorCount, string LastTensor, long BytesWritten, long TotalBytes);

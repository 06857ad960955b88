namespace Tern.Cuda.Inference;

/// <summary>
/// What a matrix product on the device reads: the input as floats ([tokens, columns]) and, for ternary matrices, as
/// int8 activations ([tokens, <see cref="QuantizedStride"/>], zero past the columns) with each token's scale s. The
/// norm kernels write both, so any kind of matrix can follow any norm.
/// </summary>
internal readonly record struct MatrixInput(DevicePointer Floats, DevicePointer Quantized, DevicePointer Scales, int QuantizedStride);

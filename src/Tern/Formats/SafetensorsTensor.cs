namespace Tern.Formats;

/// <summary>A tensor together with the file that holds it, as a checkpoint of several shards hands it out.</summary>
public sealed record SafetensorsTensor(SafetensorsFile File, SafetensorsTensorInfo Info)
{
    public string Name => Info.Name;
    public SafetensorsDType DType => Info.DType;
    public long[] Shape => Info.Shape;

    public void ReadBytes(long offset, Span<byte> destination) => File.ReadBytes(Info, offset, destination);

    public void ReadRowsAsFloat(long firstRow, int rowCount, Span<float> dst) => File.ReadRowsAsFloat(Info, firstRow, rowCount, dst);

    /// <summary>The whole tensor as float32; for small tensors (norms, biases, test checks).</summary>
    public float[] ReadAllAsFloat()
    {
        long n = Info.ElementCount;
        if (n > Array.MaxLength)
            throw new InvalidOperationException($"tensor '{Name}' has {n} elements; read it by rows");
        var result = new float[n];
        File.ReadRowsAsFloat(Info, 0, checked((int)Info.RowCount), result);
        return result;
    }
}

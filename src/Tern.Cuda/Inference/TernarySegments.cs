using System.Runtime.InteropServices;

namespace Tern.Cuda.Inference;

/// <summary>
/// infer_decode.cu's TernarySegments, passed by value: up to three ternary matrices that read one input (Q, K, V),
/// each with its codes, output, scale, rows and first row in the rows of all of them. The layout is the C struct's (pointers first, 88 bytes).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TernarySegments
{
    public ulong Codes0, Codes1, Codes2;
    public ulong Out0, Out1, Out2;
    public float Gamma0, Gamma1, Gamma2;
    public int Rows0, Rows1, Rows2;
    public int FirstRow0, FirstRow1, FirstRow2;
    public int Count;

    /// <summary>The segments of <paramref name="matrices"/> writing to <paramref name="outputs"/>, and their rows in all.</summary>
    public static (TernarySegments Segments, int Rows) Of(IReadOnlyList<DeviceTernaryMatrix> matrices, IReadOnlyList<DevicePointer> outputs)
    {
        if (matrices.Count is < 1 or > 3 || outputs.Count != matrices.Count)
            throw new ArgumentException("one to three matrices, each with its output");
        var s = new TernarySegments { Count = matrices.Count };
        int first = 0;
        for (int i = 0; i < matrices.Count; i++)
        {
            var m = matrices[i];
            ulong codes = m.Codes.Address, output = outputs[i].Address;
            switch (i)
            {
                case 0: (s.Codes0, s.Out0, s.Gamma0, s.Rows0, s.FirstRow0) = (codes, output, m.UniformScale, m.Rows, first); break;
                case 1: (s.Codes1, s.Out1, s.Gamma1, s.Rows1, s.FirstRow1) = (codes, output, m.UniformScale, m.Rows, first); break;
                default: (s.Codes2, s.Out2, s.Gamma2, s.Rows2, s.FirstRow2) = (codes, output, m.UniformScale, m.Rows, first); break;
            }
            first += m.Rows;
        }

        return (s, first);
    }
}

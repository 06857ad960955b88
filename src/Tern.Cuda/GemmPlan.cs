using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// The cuBLASLt objects for one <see cref="GemmDescription"/> at one set of pointer alignments: operation
/// descriptor, three layouts (C doubles as D, the product is in place) and the heuristic's algorithm, made once and
/// reused by every product of that shape.
/// </summary>
internal sealed unsafe class GemmPlan : IDisposable
{
    private CublasLtHeuristicResult _algorithm;

    /// <summary>Builds the column-major problem that computes the row-major <paramref name="gemm"/> (see <see cref="CublasGemm"/>).</summary>
    public GemmPlan(nint handle, GemmDescription gemm, int alignmentA, int alignmentB, int alignmentC, long workspaceBytes)
    {
        IntegerProduct = gemm.Precision == GemmPrecision.Int8;
        int compute = gemm.Precision switch
        {
            GemmPrecision.Float32ViaTf32 => CublasLt.ComputeFloat32FastTf32,
            GemmPrecision.Int8 => CublasLt.ComputeInt32,
            _ => CublasLt.ComputeFloat32,
        };
        int input = gemm.Precision switch
        {
            GemmPrecision.BFloat16 => CublasLt.DataTypeBFloat16,
            GemmPrecision.Int8 => CublasLt.DataTypeInt8,
            _ => CublasLt.DataTypeFloat32,
        };
        int output = IntegerProduct ? CublasLt.DataTypeInt32 : CublasLt.DataTypeFloat32;
        nint preference = 0;
        try
        {
            Description = CublasLt.MatmulDescCreate(compute, output);
            // cuBLAS's first operand is our B and its second our A: Cᵀ = op(B)ᵀ·op(A)ᵀ.
            CublasLt.MatmulDescSetAttribute(Description, CublasLt.DescriptionTransposeA,
                gemm.TransposeB ? CublasLt.OperationTranspose : CublasLt.OperationNone);
            CublasLt.MatmulDescSetAttribute(Description, CublasLt.DescriptionTransposeB,
                gemm.TransposeA ? CublasLt.OperationTranspose : CublasLt.OperationNone);
            // A row-major R×C matrix with row stride ld is, read column-major, its C×R transpose with the same ld.
            (int rowsB, int columnsB) = gemm.StoredB;
            (int rowsA, int columnsA) = gemm.StoredA;
            FirstOperandLayout = CublasLt.MatrixLayoutCreate(input, columnsB, rowsB, gemm.RowStrideB);
            SecondOperandLayout = CublasLt.MatrixLayoutCreate(input, columnsA, rowsA, gemm.RowStrideA);
            OutputLayout = CublasLt.MatrixLayoutCreate(output, gemm.N, gemm.M, gemm.RowStrideC);
            if (gemm.Batches > 1)
            {
                SetBatch(FirstOperandLayout, gemm.Batches, gemm.BatchStrideB);
                SetBatch(SecondOperandLayout, gemm.Batches, gemm.BatchStrideA);
                SetBatch(OutputLayout, gemm.Batches, gemm.BatchStrideC);
            }

            preference = CublasLt.MatmulPreferenceCreate();
            CublasLt.MatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMaxWorkspaceBytes, (ulong)workspaceBytes);
            CublasLt.MatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMinAlignmentABytes, (uint)alignmentB);
            CublasLt.MatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMinAlignmentBBytes, (uint)alignmentA);
            CublasLt.MatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMinAlignmentCBytes, (uint)alignmentC);
            CublasLt.MatmulPreferenceSetAttribute(preference, CublasLt.PreferenceMinAlignmentDBytes, (uint)alignmentC);
            if (!CublasLt.MatmulAlgoGetHeuristic(handle, Description, FirstOperandLayout, SecondOperandLayout, OutputLayout,
                OutputLayout, preference, out _algorithm))
            {
                throw new NotSupportedException($"cuBLASLt has no algorithm for {gemm} with pointers aligned to {alignmentA}, {alignmentB}, {alignmentC} bytes");
            }
            WorkspaceBytes = (long)_algorithm.WorkspaceSize;
        }
        catch
        {
            Dispose();
            throw;
        }
        finally
        {
            if (preference != 0)
                CublasLt.MatmulPreferenceDestroy(preference);
        }
    }

    public nint Description { get; private set; }

    /// <summary>int8 inputs: α and β are int32, and C is int32.</summary>
    public bool IntegerProduct { get; }

    private static void SetBatch(nint layout, int count, long stride)
    {
        CublasLt.MatrixLayoutSetAttribute(layout, CublasLt.LayoutBatchCount, count);
        CublasLt.MatrixLayoutSetAttribute(layout, CublasLt.LayoutStridedBatchOffset, stride);
    }

    public nint FirstOperandLayout { get; private set; }

    public nint SecondOperandLayout { get; private set; }

    public nint OutputLayout { get; private set; }

    /// <summary>What the chosen algorithm needs of the workspace.</summary>
    public long WorkspaceBytes { get; }

    public void Run(nint handle, float alpha, DevicePointer a, DevicePointer b, float beta, DevicePointer c,
        DevicePointer workspace, long workspaceBytes, nint stream)
    {
        fixed (CublasLtHeuristicResult* algorithm = &_algorithm)
        {
            if (IntegerProduct)
            {
                CublasLt.Matmul(handle, Description, (int)alpha, b.Address, FirstOperandLayout, a.Address, SecondOperandLayout,
                    (int)beta, c.Address, OutputLayout, c.Address, OutputLayout, algorithm, workspace.Address, workspaceBytes, stream);
            }
            else
            {
                CublasLt.Matmul(handle, Description, alpha, b.Address, FirstOperandLayout, a.Address, SecondOperandLayout,
                    beta, c.Address, OutputLayout, c.Address, OutputLayout, algorithm, workspace.Address, workspaceBytes, stream);
            }
        }
    }

    public void Dispose()
    {
        if (OutputLayout != 0)
            CublasLt.MatrixLayoutDestroy(OutputLayout);
        if (SecondOperandLayout != 0)
            CublasLt.MatrixLayoutDestroy(SecondOperandLayout);
        if (FirstOperandLayout != 0)
            CublasLt.MatrixLayoutDestroy(FirstOperandLayout);
        if (Description != 0)
            CublasLt.MatmulDescDestroy(Description);
        OutputLayout = SecondOperandLayout = FirstOperandLayout = Description = 0;
    }
}

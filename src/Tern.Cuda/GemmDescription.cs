namespace Tern.Cuda;

/// <summary>
/// One matrix product for <see cref="CublasGemm"/>, in row-major terms: C (M×N) = α·op(A)·op(B) + β·C, where op(A) is
/// M×K and op(B) is K×N. A is stored M×K, or K×M when <see cref="TransposeA"/> (then op(A) = Aᵀ); B is stored K×N, or
/// N×K when <see cref="TransposeB"/>. A linear layer y = x·Wᵀ with x (tokens×in) and W (out×in) is
/// M = tokens, N = out, K = in, TransposeB. Leading dimensions are row strides in elements; 0 means the rows are
/// packed (the stored matrix's column count). With <see cref="BatchCount"/> above 1 it describes that many products
/// of the same shape at once (strided batch): product i reads A at i·<see cref="BatchStrideA"/> elements, B at
/// i·<see cref="BatchStrideB"/>, and writes C at i·<see cref="BatchStrideC"/>.
/// </summary>
public readonly record struct GemmDescription(int M, int N, int K, GemmPrecision Precision, bool TransposeA = false, bool TransposeB = false)
{
    /// <summary>Row stride of A as stored, in elements (0: packed).</summary>
    public int LeadingDimensionA { get; init; }

    /// <summary>Row stride of B as stored, in elements (0: packed).</summary>
    public int LeadingDimensionB { get; init; }

    /// <summary>Row stride of C, in elements (0: packed, N).</summary>
    public int LeadingDimensionC { get; init; }

    /// <summary>How many products of this shape (0 or 1: one).</summary>
    public int BatchCount { get; init; }

    /// <summary>Elements from one product's A to the next one's (0: all products read the same A).</summary>
    public long BatchStrideA { get; init; }

    public long BatchStrideB { get; init; }

    public long BatchStrideC { get; init; }

    /// <summary><see cref="BatchCount"/>, at least 1.</summary>
    public int Batches => Math.Max(1, BatchCount);

    /// <summary>Rows and columns of A as stored.</summary>
    public (int Rows, int Columns) StoredA => TransposeA ? (K, M) : (M, K);

    /// <summary>Rows and columns of B as stored.</summary>
    public (int Rows, int Columns) StoredB => TransposeB ? (N, K) : (K, N);

    public int RowStrideA => LeadingDimensionA != 0 ? LeadingDimensionA : StoredA.Columns;

    public int RowStrideB => LeadingDimensionB != 0 ? LeadingDimensionB : StoredB.Columns;

    public int RowStrideC => LeadingDimensionC != 0 ? LeadingDimensionC : N;

    /// <summary>Bytes per element of A and B.</summary>
    public int InputElementBytes => Precision switch
    {
        GemmPrecision.BFloat16 => 2,
        GemmPrecision.Int8 => 1,
        _ => 4,
    };

    /// <summary>Elements A must span: every row but the last at full stride.</summary>
    public long ElementsA => (Batches - 1) * BatchStrideA + (long)(StoredA.Rows - 1) * RowStrideA + StoredA.Columns;

    public long ElementsB => (Batches - 1) * BatchStrideB + (long)(StoredB.Rows - 1) * RowStrideB + StoredB.Columns;

    public long ElementsC => (Batches - 1) * BatchStrideC + (long)(M - 1) * RowStrideC + N;

    /// <summary>Multiply-adds times two, over every product of the batch.</summary>
    public double FloatingPointOperations => 2.0 * M * N * K * Batches;

    /// <summary>Throws when a size is not positive or a stride is shorter than its row.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(M, 1, nameof(M));
        ArgumentOutOfRangeException.ThrowIfLessThan(N, 1, nameof(N));
        ArgumentOutOfRangeException.ThrowIfLessThan(K, 1, nameof(K));
        if (!Enum.IsDefined(Precision))
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "not a GemmPrecision");
        if (RowStrideA < StoredA.Columns)
            throw new ArgumentOutOfRangeException(nameof(LeadingDimensionA), $"A's row stride {RowStrideA} is shorter than its {StoredA.Columns} columns");
        if (RowStrideB < StoredB.Columns)
            throw new ArgumentOutOfRangeException(nameof(LeadingDimensionB), $"B's row stride {RowStrideB} is shorter than its {StoredB.Columns} columns");
        if (RowStrideC < N)
            throw new ArgumentOutOfRangeException(nameof(LeadingDimensionC), $"C's row stride {RowStrideC} is shorter than its {N} columns");
        ArgumentOutOfRangeException.ThrowIfNegative(BatchCount, nameof(BatchCount));
        if (BatchStrideA < 0 || BatchStrideB < 0 || BatchStrideC < 0)
            throw new ArgumentOutOfRangeException(nameof(BatchStrideA), "batch strides must not be negative");
        if (Batches > 1 && BatchStrideC < (long)(M - 1) * RowStrideC + N)
            throw new ArgumentOutOfRangeException(nameof(BatchStrideC), $"C's batch stride {BatchStrideC} makes the products' outputs overlap");
    }

    public override string ToString() =>
        $"{(Batches > 1 ? $"{Batches}× " : "")}{M}×{N}×{K} {Precision}{(TransposeA ? " Aᵀ" : "")}{(TransposeB ? " Bᵀ" : "")}";
}

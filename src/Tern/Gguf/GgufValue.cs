using System.Globalization;

namespace Tern.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar, a string, or an array. Arrays of scalars and strings keep a typed .NET array
/// (the 128k-entry vocabularies stay compact); arrays of arrays hold <see cref="GgufValue"/> elements.
/// </summary>
public sealed class GgufValue : IEquatable<GgufValue>
{
    private readonly object _value;

    private GgufValue(GgufValueType type, GgufValueType elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        _value = value;
    }

    /// <summary>The value's type.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays, the type of their elements; otherwise the same as <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>The boxed scalar, the string, or the array (T[] for scalars and strings, GgufValue[] for nested arrays).</summary>
    public object RawValue => _value;

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements of an array value.</summary>
    public int ArrayLength => IsArray ? ((Array)_value).Length : throw new InvalidOperationException("not an array");

    public static GgufValue FromUInt8(byte v) => new(GgufValueType.UInt8, GgufValueType.UInt8, v);
    public static GgufValue FromInt8(sbyte v) => new(GgufValueType.Int8, GgufValueType.Int8, v);
    public static GgufValue FromUInt16(ushort v) => new(GgufValueType.UInt16, GgufValueType.UInt16, v);
    public static GgufValue FromInt16(short v) => new(GgufValueType.Int16, GgufValueType.Int16, v);
    public static GgufValue FromUInt32(uint v) => new(GgufValueType.UInt32, GgufValueType.UInt32, v);
    public static GgufValue FromInt32(int v) => new(GgufValueType.Int32, GgufValueType.Int32, v);
    public static GgufValue FromFloat32(float v) => new(GgufValueType.Float32, GgufValueType.Float32, v);
    public static GgufValue FromBool(bool v) => new(GgufValueType.Bool, GgufValueType.Bool, v);
    public static GgufValue FromString(string v) => new(GgufValueType.String, GgufValueType.String, v ?? throw new ArgumentNullException(nameof(v)));
    public static GgufValue FromUInt64(ulong v) => new(GgufValueType.UInt64, GgufValueType.UInt64, v);
    public static GgufValue FromInt64(long v) => new(GgufValueType.Int64, GgufValueType.Int64, v);
    public static GgufValue FromFloat64(double v) => new(GgufValueType.Float64, GgufValueType.Float64, v);

    public static GgufValue FromArray(byte[] v) => new(GgufValueType.Array, GgufValueType.UInt8, v);
    public static GgufValue FromArray(sbyte[] v) => new(GgufValueType.Array, GgufValueType.Int8, v);
    public static GgufValue FromArray(ushort[] v) => new(GgufValueType.Array, GgufValueType.UInt16, v);
    public static GgufValue FromArray(short[] v) => new(GgufValueType.Array, GgufValueType.Int16, v);
    public static GgufValue FromArray(uint[] v) => new(GgufValueType.Array, GgufValueType.UInt32, v);
    public static GgufValue FromArray(int[] v) => new(GgufValueType.Array, GgufValueType.Int32, v);
    public static GgufValue FromArray(float[] v) => new(GgufValueType.Array, GgufValueType.Float32, v);
    public static GgufValue FromArray(bool[] v) => new(GgufValueType.Array, GgufValueType.Bool, v);
    public static GgufValue FromArray(string[] v) => new(GgufValueType.Array, GgufValueType.String, v);
    public static GgufValue FromArray(ulong[] v) => new(GgufValueType.Array, GgufValueType.UInt64, v);
    public static GgufValue FromArray(long[] v) => new(GgufValueType.Array, GgufValueType.Int64, v);
    public static GgufValue FromArray(double[] v) => new(GgufValueType.Array, GgufValueType.Float64, v);

    /// <summary>An array of arrays (GGUF allows nesting); every element must be an array.</summary>
    public static GgufValue FromNestedArray(GgufValue[] v)
    {
        foreach (var e in v)
        {
            if (!e.IsArray)
                throw new ArgumentException("every element of a nested array must itself be an array", nameof(v));
        }

        return new(GgufValueType.Array, GgufValueType.Array, v);
    }

    public string AsString() => _value as string ?? throw Mismatch("string");

    public bool AsBool() => _value is bool b ? b : throw Mismatch("bool");

    /// <summary>Any integer value that fits, widened; a clear error for negative values or non-integers.</summary>
    public ulong AsUInt64() => _value switch
    {
        byte v => v,
        ushort v => v,
        uint v => v,
        ulong v => v,
        sbyte v when v >= 0 => (ulong)v,
        short v when v >= 0 => (ulong)v,
        int v when v >= 0 => (ulong)v,
        long v when v >= 0 => (ulong)v,
        _ => throw Mismatch("non-negative integer"),
    };

    /// <summary>Any integer value that fits in a long.</summary>
    public long AsInt64() => _value switch
    {
        byte v => v,
        ushort v => v,
        uint v => v,
        ulong v when v <= long.MaxValue => (long)v,
        sbyte v => v,
        short v => v,
        int v => v,
        long v => v,
        _ => throw Mismatch("integer"),
    };

    /// <summary>An integer value that fits in an int.</summary>
    public int AsInt32()
    {
        long v = AsInt64();
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw Mismatch("32-bit integer");
    }

    /// <summary>A float or integer value as a double.</summary>
    public double AsDouble() => _value switch
    {
        float f => f,
        double d => d,
        _ when Type is not (GgufValueType.String or GgufValueType.Array or GgufValueType.Bool) => AsInt64(),
        _ => throw Mismatch("number"),
    };

    public float AsSingle() => (float)AsDouble();

    /// <summary>The typed array of an array value (string[], float[], int[], GgufValue[] for nested arrays …).</summary>
    public T[] AsArray<T>() => _value as T[] ?? throw Mismatch($"array of {typeof(T).Name}");

    /// <summary>The elements of an array value as integers, whatever integer type they were stored as.</summary>
    public long[] AsInt64Array()
    {
        if (!IsArray)
            throw Mismatch("array of integers");
        return _value switch
        {
            long[] a => a,
            int[] a => Array.ConvertAll(a, x => (long)x),
            uint[] a => Array.ConvertAll(a, x => (long)x),
            short[] a => Array.ConvertAll(a, x => (long)x),
            ushort[] a => Array.ConvertAll(a, x => (long)x),
            sbyte[] a => Array.ConvertAll(a, x => (long)x),
            byte[] a => Array.ConvertAll(a, x => (long)x),
            ulong[] a => Array.ConvertAll(a, x => x <= long.MaxValue ? (long)x : throw Mismatch("array of integers that fit in 64 bits")),
            _ => throw Mismatch("array of integers"),
        };
    }

    private InvalidDataException Mismatch(string wanted) =>
        new($"expected a {wanted}, found {Describe()}");

    /// <summary>A short description: "uint32 7", "string \"llama\"", "array[128256] of string".</summary>
    public string Describe()
    {
        if (IsArray)
            return $"array[{ArrayLength}] of {ElementType.ToString().ToLowerInvariant()}";
        return Type switch
        {
            GgufValueType.String => $"string \"{Truncate((string)_value, 60)}\"",
            _ => $"{Type.ToString().ToLowerInvariant()} {Convert.ToString(_value, CultureInfo.InvariantCulture)}",
        };
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : string.Concat(s.AsSpan(0, max), "…");

    public override string ToString() => Describe();

    public bool Equals(GgufValue? other)
    {
        if (other is null || other.Type != Type || other.ElementType != ElementType)
            return false;
        if (!IsArray)
            return _value.Equals(other._value);
        var a = (Array)_value;
        var b = (Array)other._value;
        if (a.Length != b.Length)
            return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (!Equals(a.GetValue(i), b.GetValue(i)))
                return false;
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is GgufValue v && Equals(v);

    public override int GetHashCode() => HashCode.Combine(Type, ElementType, IsArray ? ((Array)_value).Length : _value.GetHashCode());
}

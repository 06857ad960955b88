using System.Runtime.Intrinsics;

namespace Tern.Kernels;

/// <summary>
/// A 16-bit float format widened to F32 in registers. .NET exposes no VCVTPH2PS, so each format widens with integer
/// operations on sign-extended 16-bit lanes (sign extension leaves the sign in bit 31 after any left shift of 13 or
/// more, which both formats use). Implemented by structs so that the generic kernels specialize per format.
/// </summary>
internal interface ISixteenBitFloat
{
    static abstract float ToSingle(ushort bits);

    static abstract Vector512<float> ToSingle(Vector512<int> signExtended);

    static abstract Vector256<float> ToSingle(Vector256<int> signExtended);

    static abstract Vector128<float> ToSingle(Vector128<int> signExtended);
}

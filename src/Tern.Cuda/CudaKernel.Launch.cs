// The Launch overloads for 0 to 8 arguments: each argument is a type parameter, so its address can be taken where
// it lies on the stack. They differ only in the count; change them all alike.
namespace Tern.Cuda;

public sealed unsafe partial class CudaKernel
{
    /// <summary>Launches with no arguments.</summary>
    public void Launch(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream)
    {
        void** arguments = stackalloc void*[1];
        int* sizes = stackalloc int[1];
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 0);
    }

    /// <summary>Launches with 1 argument, in the kernel's parameter order.</summary>
    public void Launch<T1>(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, T1 argument1)
        where T1 : unmanaged
    {
        void** arguments = stackalloc void*[1];
        int* sizes = stackalloc int[1];
        arguments[0] = &argument1;
        sizes[0] = sizeof(T1);
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 1);
    }

    /// <summary>Launches with 2 arguments, in the kernel's parameter order.</summary>
    public void Launch<T1, T2>(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, T1 argument1, T2 argument2)
        where T1 : unmanaged
        where T2 : unmanaged
    {
        void** arguments = stackalloc void*[2];
        int* sizes = stackalloc int[2];
        arguments[0] = &argument1;
        sizes[0] = sizeof(T1);
        arguments[1] = &argument2;
        sizes[1] = sizeof(T2);
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 2);
    }

    /// <summary>Launches with 3 arguments, in the kernel's parameter order.</summary>
    public void Launch<T1, T2, T3>(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, T1 argument1, T2 argument2, T3 argument3)
        where T1 : unmanaged
        where T2 : unmanaged
        where T3 : unmanaged
    {
        void** arguments = stackalloc void*[3];
        int* sizes = stackalloc int[3];
        arguments[0] = &argument1;
        sizes[0] = sizeof(T1);
        arguments[1] = &argument2;
        sizes[1] = sizeof(T2);
        arguments[2] = &argument3;
        sizes[2] = sizeof(T3);
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 3);
    }

    /// <summary>Launches with 4 arguments, in the kernel's parameter order.</summary>
    public void Launch<T1, T2, T3, T4>(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, T1 argument1, T2 argument2, T3 argument3, T4 argument4)
        where T1 : unmanaged
        where T2 : unmanaged
        where T3 : unmanaged
        where T4 : unmanaged
    {
        void** arguments = stackalloc void*[4];
        int* sizes = stackalloc int[4];
        arguments[0] = &argument1;
        sizes[0] = sizeof(T1);
        arguments[1] = &argument2;
        sizes[1] = sizeof(T2);
        arguments[2] = &argument3;
        sizes[2] = sizeof(T3);
        arguments[3] = &argument4;
        sizes[3] = sizeof(T4);
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 4);
    }

    /// <summary>Launches with 5 arguments, in the kernel's parameter order.</summary>
    public void Launch<T1, T2, T3, T4, T5>(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, T1 argument1, T2 argument2, T3 argument3, T4 argument4, T5 argument5)
        where T1 : unmanaged
        where T2 : unmanaged
        where T3 : unmanaged
        where T4 : unmanaged
        where T5 : unmanaged
    {
        void** arguments = stackalloc void*[5];
        int* sizes = stackalloc int[5];
        arguments[0] = &argument1;
        sizes[0] = sizeof(T1);
        arguments[1] = &argument2;
        sizes[1] = sizeof(T2);
        arguments[2] = &argument3;
        sizes[2] = sizeof(T3);
        arguments[3] = &argument4;
        sizes[3] = sizeof(T4);
        arguments[4] = &argument5;
        sizes[4] = sizeof(T5);
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 5);
    }

    /// <summary>Launches with 6 arguments, in the kernel's parameter order.</summary>
    public void Launch<T1, T2, T3, T4, T5, T6>(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, T1 argument1, T2 argument2, T3 argument3, T4 argument4, T5 argument5, T6 argument6)
        where T1 : unmanaged
        where T2 : unmanaged
        where T3 : unmanaged
        where T4 : unmanaged
        where T5 : unmanaged
        where T6 : unmanaged
    {
        void** arguments = stackalloc void*[6];
        int* sizes = stackalloc int[6];
        arguments[0] = &argument1;
        sizes[0] = sizeof(T1);
        arguments[1] = &argument2;
        sizes[1] = sizeof(T2);
        arguments[2] = &argument3;
        sizes[2] = sizeof(T3);
        arguments[3] = &argument4;
        sizes[3] = sizeof(T4);
        arguments[4] = &argument5;
        sizes[4] = sizeof(T5);
        arguments[5] = &argument6;
        sizes[5] = sizeof(T6);
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 6);
    }

    /// <summary>Launches with 7 arguments, in the kernel's parameter order.</summary>
    public void Launch<T1, T2, T3, T4, T5, T6, T7>(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, T1 argument1, T2 argument2, T3 argument3, T4 argument4, T5 argument5, T6 argument6, T7 argument7)
        where T1 : unmanaged
        where T2 : unmanaged
        where T3 : unmanaged
        where T4 : unmanaged
        where T5 : unmanaged
        where T6 : unmanaged
        where T7 : unmanaged
    {
        void** arguments = stackalloc void*[7];
        int* sizes = stackalloc int[7];
        arguments[0] = &argument1;
        sizes[0] = sizeof(T1);
        arguments[1] = &argument2;
        sizes[1] = sizeof(T2);
        arguments[2] = &argument3;
        sizes[2] = sizeof(T3);
        arguments[3] = &argument4;
        sizes[3] = sizeof(T4);
        arguments[4] = &argument5;
        sizes[4] = sizeof(T5);
        arguments[5] = &argument6;
        sizes[5] = sizeof(T6);
        arguments[6] = &argument7;
        sizes[6] = sizeof(T7);
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 7);
    }

    /// <summary>Launches with 8 arguments, in the kernel's parameter order.</summary>
    public void Launch<T1, T2, T3, T4, T5, T6, T7, T8>(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, T1 argument1, T2 argument2, T3 argument3, T4 argument4, T5 argument5, T6 argument6, T7 argument7, T8 argument8)
        where T1 : unmanaged
        where T2 : unmanaged
        where T3 : unmanaged
        where T4 : unmanaged
        where T5 : unmanaged
        where T6 : unmanaged
        where T7 : unmanaged
        where T8 : unmanaged
    {
        void** arguments = stackalloc void*[8];
        int* sizes = stackalloc int[8];
        arguments[0] = &argument1;
        sizes[0] = sizeof(T1);
        arguments[1] = &argument2;
        sizes[1] = sizeof(T2);
        arguments[2] = &argument3;
        sizes[2] = sizeof(T3);
        arguments[3] = &argument4;
        sizes[3] = sizeof(T4);
        arguments[4] = &argument5;
        sizes[4] = sizeof(T5);
        arguments[5] = &argument6;
        sizes[5] = sizeof(T6);
        arguments[6] = &argument7;
        sizes[6] = sizeof(T7);
        arguments[7] = &argument8;
        sizes[7] = sizeof(T8);
        LaunchCore(grid, block, sharedBytes, stream, arguments, sizes, 8);
    }
}

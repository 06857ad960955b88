namespace Tern.Runtime;

/// <summary>Work a <see cref="WorkerPool"/> splits: each worker is told its index and the number of workers.</summary>
public interface IParallelWork
{
    void Execute(int worker, int workers);
}

using System.Runtime.InteropServices;

namespace CrossModal.Distributed.Mpi;

/// <summary>A non-blocking collective in flight (<see cref="MpiCommunicator.StartAllReduceSum"/>): test it, then wait for it once.</summary>
public sealed unsafe class MpiRequest : ICollectiveRequest
{
    private readonly MpiCommunicator _owner;
    private nint _request;
    private GCHandle _pin;
    private bool _done;

    internal MpiRequest(MpiCommunicator owner, nint request, GCHandle pin)
    {
        _owner = owner;
        _request = request;
        _pin = pin;
    }

    /// <summary>Lets MPI progress the operation (MPI_Test); true once it has completed (the buffer then holds the result).</summary>
    public bool Test()
    {
        if (_done) return true;
        _owner.EnterRequest();
        int flag;
        nint r = _request;
        MpiNative.Check(MpiNative.MPI_Test(&r, &flag, null), "MPI_Test");
        _request = r;
        if (flag != 0) Finish();
        return _done;
    }

    /// <summary>Blocks until the operation has completed (MPI_Wait) and unpins the buffer.</summary>
    public void Wait()
    {
        if (_done) return;
        _owner.EnterRequest();
        nint r = _request;
        MpiNative.Check(MpiNative.MPI_Wait(&r, null), "MPI_Wait");
        _request = r;
        Finish();
    }

    private void Finish()
    {
        _done = true;
        if (_pin.IsAllocated) _pin.Free();
    }
}

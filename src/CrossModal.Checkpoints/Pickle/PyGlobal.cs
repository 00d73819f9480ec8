using CrossModal.Checkpoints.Torch;

namespace CrossModal.Checkpoints.Pickle;

/// <summary>An allow-listed global named by a pickle (a class or function reference); never a .NET delegate.</summary>
internal sealed record PyGlobal(string Module, string Name, GlobalKind Kind, TorchDType? StorageType = null)
{
    public string FullName => Module + "." + Name;

    public override string ToString() => FullName;
}

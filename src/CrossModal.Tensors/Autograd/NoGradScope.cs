namespace CrossModal.Tensors.Autograd;

/// <summary>Returned by <see cref="Tape.NoGrad"/>; recording resumes when disposed.</summary>
public readonly struct NoGradScope : IDisposable
{
    /// <summary>Ends the no-grad region.</summary>
    public void Dispose() => Tape.EndNoGrad();
}

namespace CrossModal.Tensors.Autograd;

/// <summary>
/// Hears where a thread's forward and backward stand (<see cref="Tape.Listener"/>): the points marked with
/// <see cref="Tape.Mark"/>, when they are recorded and when the backward has finished everything after them, and
/// each tape entry done. Data-parallel training uses it to all-reduce gradients while the backward goes on.
/// </summary>
public interface IBackwardListener
{
    /// <summary><see cref="Tape.Mark"/> was called with <paramref name="tag"/> during the forward.</summary>
    void Marked(object tag);

    /// <summary>During the backward: every entry recorded after that mark of <paramref name="tag"/> has run its backward.</summary>
    void Reached(object tag);

    /// <summary>During the backward, after each entry (cheap: called thousands of times a step).</summary>
    void Stepped();
}

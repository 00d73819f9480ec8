namespace CrossModal.Tensors.Autograd;

/// <summary>
/// Reverse-mode automatic differentiation on a per-thread tape. Every differentiable op whose inputs require a
/// gradient appends one entry (its output and a closure that, given the output's gradient, accumulates the
/// inputs' gradients). <see cref="Backward"/> walks the tape from the end; entries whose output received no
/// gradient are skipped. Ops are recorded by the thread that calls them; kernels may use other threads inside.
/// A thread's <see cref="Listener"/> hears during the backward where it stands: points set with <see cref="Mark"/>
/// (data-parallel training starts all-reducing a module's gradients once its mark is reached) and every entry done.
/// </summary>
public static class Tape
{
    /// <summary>One op (Output and Backward, or Outputs and MultiBackward), or a mark (Tag).</summary>
    private readonly record struct Entry(Tensor? Output, Action<Tensor>? Backward, Tensor[]? Outputs, Action? MultiBackward, object? Tag = null);

    [ThreadStatic] private static List<Entry>? _entries;
    [ThreadStatic] private static int _noGradDepth;
    [ThreadStatic] private static IBackwardListener? _listener;

    /// <summary>This thread's listener (null: none; marks are then not recorded).</summary>
    public static IBackwardListener? Listener
    {
        get => _listener;
        set => _listener = value;
    }

    private static List<Entry> Entries => _entries ??= new List<Entry>();

    /// <summary>False inside a <see cref="NoGrad"/> scope.</summary>
    public static bool Enabled => _noGradDepth == 0;

    internal static int Count => _entries?.Count ?? 0;

    /// <summary>True when an op with these inputs must be recorded.</summary>
    public static bool Needs(Tensor a) => _noGradDepth == 0 && a.RequiresGrad;

    public static bool Needs(Tensor a, Tensor b) => _noGradDepth == 0 && (a.RequiresGrad || b.RequiresGrad);

    public static bool Needs(IReadOnlyList<Tensor> inputs)
    {
        if (_noGradDepth != 0) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>Records that <paramref name="output"/> was computed by an op whose backward is <paramref name="backward"/>.</summary>
    public static void Record(Tensor output, Action<Tensor> backward)
    {
        output.RequiresGrad = true;
        output.IsLeaf = false;
        Entries.Add(new Entry(output, backward, null, null));
    }

    /// <summary>
    /// Records an op with several outputs (e.g. a GRU's outputs and final states). <paramref name="backward"/> runs
    /// once, when any output received a gradient, and reads the outputs' <c>Grad</c> (null where none arrived).
    /// </summary>
    public static void Record(Tensor[] outputs, Action backward)
    {
        foreach (var o in outputs)
        {
            o.RequiresGrad = true;
            o.IsLeaf = false;
        }
        Entries.Add(new Entry(outputs[0], null, outputs, backward));
    }

    /// <summary>
    /// With a <see cref="Listener"/> set and recording enabled, marks the current point of the tape with
    /// <paramref name="tag"/> (the listener hears it at once, and again during the backward once every entry
    /// recorded after this point has run its backward); otherwise does nothing.
    /// </summary>
    public static void Mark(object tag)
    {
        if (_listener is null || _noGradDepth != 0) return;
        Entries.Add(new Entry(null, null, null, null, tag));
        _listener.Marked(tag);
    }

    /// <summary>Disables recording until the returned object is disposed (evaluation, optimizer updates).</summary>
    public static NoGradScope NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope();
    }

    internal static void EndNoGrad() => _noGradDepth--;

    /// <summary>
    /// Back-propagates from <paramref name="output"/> (seeded with ones, or with <paramref name="seed"/>) through
    /// everything recorded on this thread, then clears the tape.
    /// </summary>
    public static void Backward(Tensor output, Tensor? seed = null)
    {
        if (!output.RequiresGrad) throw new InvalidOperationException("Backward called on a tensor that does not require a gradient.");
        var g = output.GradBuffer(out bool accumulate);
        if (seed is null)
        {
            if (accumulate) { foreach (ref var x in g) x += 1f; } else g.Fill(1f);
        }
        else
        {
            if (seed.Length != output.Length) throw new ArgumentException($"Seed gradient has {seed.Length} elements, output has {output.Length}.");
            if (accumulate) Kernels.Elementwise.AddInPlace(g, seed.Data); else seed.Data.CopyTo(g);
        }
        var entries = Entries;
        var listener = _listener;
        for (int i = entries.Count - 1; i >= 0; i--)
        {
            var e = entries[i];
            if (e.Tag is { } tag) listener?.Reached(tag);
            else if (e.Outputs is { } outs)
            {
                foreach (var o in outs)
                {
                    if (o.Grad is null) continue;
                    e.MultiBackward!();
                    break;
                }
            }
            else if (e.Output!.Grad is { } grad) e.Backward!(grad);
            listener?.Stepped();
        }
        entries.Clear();
    }

    /// <summary>Drops entries from <paramref name="mark"/> on.</summary>
    internal static void Truncate(int mark)
    {
        var entries = _entries;
        if (entries is not null && mark < entries.Count) entries.RemoveRange(mark, entries.Count - mark);
    }

    /// <summary>Drops every entry of this thread's tape.</summary>
    public static void Clear() => _entries?.Clear();
}

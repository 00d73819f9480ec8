using CrossModal.Tensors.Autograd;

namespace CrossModal.Tensors.Nn;

/// <summary>
/// A layer or model: named parameters, named buffers (running statistics) and child modules, in registration
/// order. Names follow PyTorch's state dict ("rnn.weight_ih_l0", "bn.running_mean"), so a parameter list can be
/// written and read under the original names.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = new();
    private readonly List<(string Name, Tensor Tensor)> _buffers = new();
    private readonly List<(string Name, Module Module)> _children = new();

    /// <summary>True in training mode (dropout active, batch statistics used).</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a trainable parameter under <paramref name="name"/>.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        tensor.RequiresGrad = true;
        tensor.Name = name;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a non-trainable state tensor (e.g. running mean) under <paramref name="name"/>.</summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor)
    {
        tensor.Name = name;
        _buffers.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a child whose entries are prefixed with "<paramref name="name"/>.".</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        _children.Add((name, module));
        return module;
    }

    /// <summary>Trainable parameters with their full names, in PyTorch order.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters(string prefix = "")
    {
        foreach (var (n, t) in _parameters) yield return (prefix + n, t);
        foreach (var (n, m) in _children)
            foreach (var p in m.NamedParameters(prefix + n + ".")) yield return p;
    }

    /// <summary>This module and every module below it, depth first in registration order (PyTorch's modules()).</summary>
    public IEnumerable<Module> Modules()
    {
        yield return this;
        foreach (var (_, m) in _children)
            foreach (var d in m.Modules()) yield return d;
    }

    /// <summary>
    /// Marks the tape (<see cref="Tape.Mark"/>) where this module's forward starts, so that a backward listener hears
    /// when this module's parameter gradients are final: once the backward has run through every op recorded after
    /// the mark. Call it right before the module first uses its parameters in a forward, and only for a module whose
    /// parameters nothing recorded earlier in the forward reads (a module called several times marks each call; its
    /// gradients are final at the earliest mark).
    /// </summary>
    public void MarkForward() => Tape.Mark(this);

    /// <summary>Trainable parameters.</summary>
    public List<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor).ToList();

    /// <summary>Parameters and buffers with their full names, in PyTorch's state-dict order.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateDict(string prefix = "")
    {
        foreach (var (n, t) in _parameters) yield return (prefix + n, t);
        foreach (var (n, t) in _buffers) yield return (prefix + n, t);
        foreach (var (n, m) in _children)
            foreach (var p in m.StateDict(prefix + n + ".")) yield return p;
    }

    /// <summary>
    /// Copies tensors into this module's parameters and buffers by name. With <paramref name="strict"/>, a missing
    /// or unexpected name is an error; a shape mismatch is always an error naming the entry.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, string prefix = "", bool strict = true)
    {
        var used = new HashSet<string>();
        var missing = new List<string>();
        foreach (var (name, t) in StateDict(prefix))
        {
            if (!state.TryGetValue(name, out var src))
            {
                missing.Add(name);
                continue;
            }
            used.Add(name);
            if (!src.SameShape(t))
                throw new InvalidDataException($"State entry '{name}' has shape {Tensor.FormatShape(src.ShapeSpan)}, the model expects {Tensor.FormatShape(t.ShapeSpan)}.");
            src.Data.CopyTo(t.Data);
        }
        if (!strict) return;
        if (missing.Count > 0) throw new InvalidDataException($"State is missing {missing.Count} entr{(missing.Count == 1 ? "y" : "ies")}: {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}.");
        var unexpected = state.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !used.Contains(k)).ToList();
        if (unexpected.Count > 0) throw new InvalidDataException($"State has {unexpected.Count} unexpected entr{(unexpected.Count == 1 ? "y" : "ies")}: {string.Join(", ", unexpected.Take(8))}{(unexpected.Count > 8 ? ", ..." : "")}.");
        OnStateLoaded();
    }

    /// <summary>
    /// Called after a strict <see cref="LoadStateDict"/> has copied every entry: a module whose buffers must satisfy
    /// conditions (NAAF's thresholds lie in [0, 1]) checks them here and throws an <see cref="InvalidDataException"/>.
    /// </summary>
    protected virtual void OnStateLoaded()
    {
    }

    /// <summary>Sets training mode here and in every child.</summary>
    public void Train(bool on = true)
    {
        Training = on;
        foreach (var (_, m) in _children) m.Train(on);
    }

    /// <summary>Evaluation mode (same as Train(false)).</summary>
    public void Eval() => Train(false);

    /// <summary>Clears the gradients of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, t) in NamedParameters()) t.ZeroGrad();
    }
}

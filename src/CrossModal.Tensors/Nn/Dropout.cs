namespace CrossModal.Tensors.Nn;

/// <summary>Inverted dropout (torch.nn.Dropout), active only in training mode.</summary>
public sealed class Dropout : Module
{
    private readonly Rng _rng;

    /// <summary>Creates the layer; masks are drawn from <paramref name="rng"/>.</summary>
    public Dropout(float p, Rng rng)
    {
        if (p is < 0f or > 1f) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1].");
        P = p;
        _rng = rng;
    }

    /// <summary>Probability of zeroing an element.</summary>
    public float P { get; }

    /// <summary>Applies dropout in training mode; identity in evaluation mode.</summary>
    public Tensor Forward(Tensor x) => Ops.Dropout(x, P, Training, _rng);
}

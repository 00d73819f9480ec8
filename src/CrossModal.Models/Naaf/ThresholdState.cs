using CrossModal.Tensors;

namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF's learned threshold state, the six values the original keeps in <c>opt</c> and updates inside every training
/// forward pass: <c>thres</c> (training threshold), <c>thres_safe</c> (test-time threshold), and the means and
/// (unbiased) standard deviations of the last matched (<c>mean_pos</c>, <c>stnd_pos</c>) and mismatched
/// (<c>mean_neg</c>, <c>stnd_neg</c>) word-maximum samples. Each lives in a 0-d model buffer under its original
/// name, so every checkpoint saves it and a resumed run continues from it.
/// <para>
/// Precision: the original keeps Python doubles and scores with them rounded to float32 (<c>ones_like(attn) *
/// opt.thres</c>). Here every update is computed in double and stored rounded to float32, the precision our
/// checkpoints hold, so a resumed run is bit-identical to an uninterrupted one; the two differ from the original by
/// at most one float32 rounding per update.
/// </para>
/// </summary>
public sealed class ThresholdState
{
    /// <summary>The names, in the order of the fixtures and of the original's opt.</summary>
    public static readonly string[] Keys = ["thres", "thres_safe", "mean_pos", "stnd_pos", "mean_neg", "stnd_neg"];

    private readonly Tensor[] _values;

    /// <summary>Wraps six 0-d tensors (the model's buffers), in <see cref="Keys"/> order.</summary>
    public ThresholdState(Tensor[] values)
    {
        if (values.Length != Keys.Length || values.Any(v => v.Length != 1)) throw new ArgumentException("The threshold state needs six one-element tensors.");
        _values = values;
    }

    /// <summary>Six new 0-d tensors holding zero (the original's argparse defaults).</summary>
    public static Tensor[] NewBuffers() => Keys.Select(_ => Tensor.FromArray(new float[1])).ToArray();

    /// <summary>The training threshold θ (opt.thres).</summary>
    public float Thres { get => _values[0].Data[0]; set => _values[0].Data[0] = value; }

    /// <summary>The test-time threshold (opt.thres_safe = μp − 3σp, smoothed).</summary>
    public float ThresSafe { get => _values[1].Data[0]; set => _values[1].Data[0] = value; }

    /// <summary>Mean of the matched word maxima of the last update.</summary>
    public float MeanPos { get => _values[2].Data[0]; set => _values[2].Data[0] = value; }

    /// <summary>Standard deviation (unbiased) of the matched word maxima of the last update.</summary>
    public float StndPos { get => _values[3].Data[0]; set => _values[3].Data[0] = value; }

    /// <summary>Mean of the mismatched word maxima of the last update.</summary>
    public float MeanNeg { get => _values[4].Data[0]; set => _values[4].Data[0] = value; }

    /// <summary>Standard deviation (unbiased) of the mismatched word maxima of the last update.</summary>
    public float StndNeg { get => _values[5].Data[0]; set => _values[5].Data[0] = value; }

    /// <summary>The six values in <see cref="Keys"/> order.</summary>
    public double[] ToArray() => _values.Select(v => (double)v.Data[0]).ToArray();

    /// <summary>Sets the six values (in <see cref="Keys"/> order), rounded to float32.</summary>
    public void Set(ReadOnlySpan<double> values)
    {
        if (values.Length != Keys.Length) throw new ArgumentException($"{values.Length} threshold values, expected {Keys.Length}.");
        for (int i = 0; i < Keys.Length; i++) _values[i].Data[0] = (float)values[i];
    }

    /// <summary>
    /// Rejects a state the learning rule cannot produce: <c>thres</c> and <c>thres_safe</c> outside [0, 1] (the rule
    /// replaces such values by 0) or any value not finite. <see cref="InvalidDataException"/> naming the value.
    /// </summary>
    public void Validate()
    {
        for (int i = 0; i < Keys.Length; i++)
        {
            float v = _values[i].Data[0];
            if (!float.IsFinite(v)) throw new InvalidDataException($"NAAF threshold state: {Keys[i]} is {v}, expected a finite number.");
        }
        foreach (var (name, v) in new[] { ("thres", Thres), ("thres_safe", ThresSafe) })
            if (v < 0f || v > 1f)
                throw new InvalidDataException($"NAAF threshold state: {name} = {v} lies outside [0, 1]; NAAF's learning rule only produces thresholds in [0, 1] (it replaces others by 0), so the checkpoint is damaged or not NAAF's.");
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join(", ", Keys.Select((k, i) => $"{k} {_values[i].Data[0]:G6}"));
}

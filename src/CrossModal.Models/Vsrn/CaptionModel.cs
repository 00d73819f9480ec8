using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN's caption generator (S2VTAttModel: the EncoderRNN and the attention DecoderRNN), which reads the GCN regions
/// of the image encoder. In training it adds the caption NLL to the loss, so the region features learn to describe
/// the image; it does not take part in retrieval. State: encoder.*, decoder.* (the S2VTAttModel's own names).
/// Both dropouts draw from the model's random state; they are active in training mode only.
/// </summary>
internal sealed class CaptionModel : Module
{
    public CaptionModel(VsrnConfig config, Rng rng, Rng noise)
    {
        MaxLen = config.MaxLen;
        Encoder = RegisterModule("encoder", new CaptionEncoder(config.DimVid, config.DimHidden, rng));
        Decoder = RegisterModule("decoder", new CaptionDecoder(config.VocabSize, config.DimHidden, config.DimWord, rng));
        Dropout = new DropoutMasks(config.InputDropoutP, noise);
    }

    /// <summary>max_len of the caption targets.</summary>
    public int MaxLen { get; }

    /// <summary>EncoderRNN.</summary>
    public CaptionEncoder Encoder { get; }

    /// <summary>DecoderRNN.</summary>
    public CaptionDecoder Decoder { get; }

    /// <summary>The masks of both dropouts.</summary>
    public DropoutMasks Dropout { get; }

    /// <summary>Test hook: receives the encoder outputs ("encoder_outputs").</summary>
    internal Action<string, Tensor>? Observer { get; set; }

    /// <summary>
    /// The decoder's output logits at every position the loss counts, [slots, V], and the targets of those positions:
    /// regions [B, N, E] (the GCN output), captions as zero-padded ids [B, stride] (&lt;start&gt; ... &lt;end&gt;,
    /// sorted by length, longest first, as batches are).
    /// </summary>
    public (Tensor Logits, int[] Targets, SlotLayout Layout) Logits(Tensor regions, ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int stride)
    {
        var targets = CaptionTargets.Build(tokens, lengths, stride, MaxLen);
        return Logits(regions, targets, targets.Steps);
    }

    /// <summary>As above with explicit targets and per-row step counts (the tests run every row for all steps).</summary>
    public (Tensor Logits, int[] Targets, SlotLayout Layout) Logits(Tensor regions, CaptionTargets targets, int[] steps, GlobalBatchRows? global = null)
    {
        MarkForward();
        var dropout = Training ? Dropout : null;
        var (outputs, hidden) = Encoder.Forward(regions, dropout, global);
        Observer?.Invoke("encoder_outputs", outputs);
        var layout = new SlotLayout(steps);
        var states = TeacherForcedDecoder.Run(Decoder, outputs, hidden, targets.Inputs, targets.StepsPerRow, layout, dropout, global);
        var logits = Decoder.Out.Forward(states);
        var slotTargets = new int[layout.Count];
        for (int s = 0; s < layout.StepCount; s++)
            for (int k = 0; k < layout.Active[s]; k++)
                slotTargets[layout.SlotStart[s] + k] = targets.Targets[k * targets.StepsPerRow + s];
        return (logits, slotTargets, layout);
    }

    /// <summary>
    /// The caption NLL: Σ −log p(target) over the positions the original's mask counts, divided by the batch size.
    /// For a rank's share of a global batch (<paramref name="shard"/>), this rank's part of the global batch's NLL:
    /// its rows' sum divided by the global batch size, with the dropout masks one process draws for these rows (the
    /// ranks' parts add up to the one-process loss).
    /// </summary>
    public Tensor Loss(Tensor regions, ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int stride, Data.BatchShard? shard = null)
    {
        var targets = CaptionTargets.Build(tokens, lengths, stride, MaxLen);
        var global = shard is null ? null : GlobalBatchRows.Of(shard, MaxLen);
        var (logits, slotTargets, _) = Logits(regions, targets, targets.Steps, global);
        return SequenceNll.Compute(logits, slotTargets, 1f / (shard?.GlobalSize ?? lengths.Length));
    }

    /// <summary>Greedy captions of regions [B, N, E]: max_len − 2 arg-max words per image, without gradients.</summary>
    public int[][] Generate(Tensor regions)
    {
        using var noGrad = Tape.NoGrad();
        var (outputs, hidden) = Encoder.Forward(regions, dropout: null);
        return GreedyDecoder.Decode(Decoder, outputs.Data, hidden.Data, regions.Dim(0), regions.Dim(1), Math.Max(1, MaxLen - 2));
    }
}

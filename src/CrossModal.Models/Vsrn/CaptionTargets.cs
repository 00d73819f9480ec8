namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN's caption targets as its data.py builds them from a retrieval caption (&lt;start&gt; words &lt;end&gt;):
/// longer than max_len - 1 tokens, it is cut to max_len with the last set to &lt;end&gt;; then zero-padded to
/// max_len + 1 (labels), with mask 1 up to and including the first pad. The decoder is fed labels[s] at step s and
/// scored on labels[s + 1] where mask[s + 1] is 1, for s &lt; max_len - 1: row b needs
/// Steps[b] = min(L_b, max_len - 1) steps, L_b being its (cut) length. The last of them predicts the pad after
/// &lt;end&gt;, as in the original.
/// </summary>
/// <param name="Steps">Decoder steps each row contributes to the loss.</param>
/// <param name="Inputs">[B, max_len - 1]: labels[:, s], the token fed at step s.</param>
/// <param name="Targets">[B, max_len - 1]: labels[:, s + 1], the token scored at step s.</param>
/// <param name="StepsPerRow">max_len - 1 (the row stride of Inputs and Targets).</param>
internal sealed record CaptionTargets(int[] Steps, int[] Inputs, int[] Targets, int StepsPerRow)
{
    /// <summary>&lt;end&gt;'s id in SCAN/VSRN vocabularies.</summary>
    private const int End = 2;

    /// <summary>Targets of captions given as zero-padded ids [B, stride] with their lengths.</summary>
    public static CaptionTargets Build(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int stride, int maxLen)
    {
        if (maxLen < 2) throw new ArgumentOutOfRangeException(nameof(maxLen), maxLen, "max_len must be at least 2.");
        int b = lengths.Length, t = maxLen - 1;
        var steps = new int[b];
        var inputs = new int[b * t];
        var targets = new int[b * t];
        var labels = new int[maxLen + 1];
        for (int r = 0; r < b; r++)
        {
            int len = lengths[r];
            if (len < 1 || len > stride) throw new ArgumentException($"Caption length {len} outside 1..{stride}.");
            Array.Clear(labels);
            int cut = len > maxLen - 1 ? maxLen : len;
            tokens.Slice(r * stride, cut).CopyTo(labels);
            if (len > maxLen - 1) labels[maxLen - 1] = End;
            steps[r] = StepsOf(len, maxLen);
            for (int s = 0; s < t; s++)
            {
                inputs[r * t + s] = labels[s];
                targets[r * t + s] = labels[s + 1];
            }
        }
        return new CaptionTargets(steps, inputs, targets, t);
    }

    /// <summary>Decoder steps of a caption of <paramref name="length"/> tokens: its cut length, at most max_len - 1.</summary>
    public static int StepsOf(int length, int maxLen) => Math.Min(length > maxLen - 1 ? maxLen : length, maxLen - 1);
}

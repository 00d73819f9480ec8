using CrossModal.Data;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// Where one rank's caption rows sit in the global batch of data-parallel training, for drawing the caption branch's
/// dropout masks of the whole global batch (see <see cref="DropoutMasks.FillRows"/>): <paramref name="Rows"/>, the
/// global row of each local row (ascending, as batches are dealt), and <paramref name="Layout"/>, the decoder steps of
/// the global batch (its rows, and the rows active at each step).
/// </summary>
internal sealed record GlobalBatchRows(int[] Rows, SlotLayout Layout)
{
    /// <summary>The rows of <paramref name="shard"/>'s rank and the global batch's decoder steps for captions cut at <paramref name="maxLen"/>.</summary>
    public static GlobalBatchRows Of(BatchShard shard, int maxLen) =>
        new(shard.Rows(shard.Rank), new SlotLayout(shard.GlobalLengths.Select(l => CaptionTargets.StepsOf(l, maxLen)).ToArray()));
}

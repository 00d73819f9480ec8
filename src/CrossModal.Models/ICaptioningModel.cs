using CrossModal.Tensors;

namespace CrossModal.Models;

/// <summary>
/// A matching model that can also describe images in words (VSRN's caption branch, trained with the captioning
/// loss): greedy decoding from its image features, for checking what the branch learned.
/// </summary>
public interface ICaptioningModel
{
    /// <summary>Whether this instance has the captioning weights (an imported original checkpoint may have none).</summary>
    bool CanCaption { get; }

    /// <summary>
    /// Greedy captions of images given as features [B, N, D]: per image the word ids after &lt;start&gt;, up to (not
    /// including) the first &lt;end&gt; or &lt;pad&gt;. No gradients; does not change the model.
    /// </summary>
    IReadOnlyList<int[]> Caption(Tensor features);
}

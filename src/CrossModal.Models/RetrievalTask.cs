namespace CrossModal.Models;

/// <summary>What a family retrieves, which decides its data and its evaluation.</summary>
public enum RetrievalTask
{
    /// <summary>Instance level: a precomp folder (features + 5 captions per image), ranked by R@K (Flickr30K, COCO).</summary>
    Instance,

    /// <summary>Category level: labelled image/text feature pairs, relevant = same class, ranked by mAP (Wikipedia).</summary>
    Category,
}

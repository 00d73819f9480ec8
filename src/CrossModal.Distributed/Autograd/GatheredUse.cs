namespace CrossModal.Distributed.Autograd;

/// <summary>
/// How the ranks use a gathered tensor, which decides its gradient (the backward of
/// <see cref="DistributedOps.AllGatherRows"/>). Each rank's backward computes the gradient of the one global loss
/// with respect to what that rank computed; the ranks' parameter gradients are then summed.
/// </summary>
public enum GatheredUse
{
    /// <summary>
    /// Every rank computes the same thing from the gathered tensor (the hinge loss of the gathered score matrix):
    /// each rank already holds the whole gradient, and keeps the rows it contributed. No communication.
    /// </summary>
    Replicated,

    /// <summary>
    /// Each rank uses the gathered tensor for its own share of the work (scoring its images against every caption):
    /// each rank holds a partial gradient, and a row's gradient is the sum over the ranks, delivered to the rank that
    /// contributed the row: a reduce-scatter, the adjoint of the all-gather.
    /// </summary>
    PerRank,
}

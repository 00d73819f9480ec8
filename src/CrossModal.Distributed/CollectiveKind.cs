namespace CrossModal.Distributed;

/// <summary>The collectives of <see cref="ICommunicator"/>, as counted by <see cref="CommunicationStats"/>.</summary>
public enum CollectiveKind
{
    /// <summary><see cref="ICommunicator.AllReduce{T}"/>.</summary>
    AllReduce,

    /// <summary><see cref="ICommunicator.AllGatherV{T}"/>.</summary>
    AllGather,

    /// <summary><see cref="ICommunicator.ReduceScatterV{T}"/>.</summary>
    ReduceScatter,

    /// <summary><see cref="ICommunicator.GatherV{T}"/>.</summary>
    Gather,

    /// <summary><see cref="ICommunicator.Broadcast{T}"/>.</summary>
    Broadcast,

    /// <summary><see cref="ICommunicator.Barrier"/>.</summary>
    Barrier,
}

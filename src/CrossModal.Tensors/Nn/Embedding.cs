namespace CrossModal.Tensors.Nn;

/// <summary>A lookup table (torch.nn.Embedding). Parameter "weight" [num, dim], default init N(0, 1).</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table with PyTorch's default N(0, 1) initialisation.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, Rng rng)
    {
        Weight = RegisterParameter("weight", Tensor.Zeros(numEmbeddings, embeddingDim));
        Init.Normal(Weight, 0f, 1f, rng);
    }

    /// <summary>[num, dim].</summary>
    public Tensor Weight { get; }

    /// <summary>Number of rows.</summary>
    public int NumEmbeddings => Weight.Dim(0);

    /// <summary>Row size.</summary>
    public int EmbeddingDim => Weight.Dim(1);

    /// <summary>Looks up <paramref name="ids"/> laid out as <paramref name="shape"/>; returns shape + [dim].</summary>
    public Tensor Forward(ReadOnlySpan<int> ids, params int[] shape) => Ops.Embedding(Weight, ids, shape);
}

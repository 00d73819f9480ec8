using CrossModal.Tensors;

namespace CrossModal.Data.Synthetic;

/// <summary>
/// Region features of a synthetic scene, in the spirit of bottom-up-attention boxes: each object yields four noisy
/// "proposals", each the sum of its colour, shape and size
/// embeddings plus half its cell's position embedding and Gaussian noise; a quarter of the proposals are partial
/// views (colour or shape weakened to 30%). The remaining regions show the background (its embedding plus a random
/// cell position and noise). Region order is shuffled.
/// </summary>
/// <remarks>
/// The embeddings are fixed random unit-norm vectors (entries N(0, 1/D)) drawn from a constant world seed, so every
/// generated dataset lives in the same feature space, like features from one CNN. Features are linear in the
/// attributes and every object has the same number of proposals whatever its size, so the mean over regions - a
/// global feature - carries the bag of attributes but not which colour belongs to which shape; twins differ only
/// in that binding.
/// </remarks>
internal sealed class RegionFeatureModel
{
    private const ulong WorldSeed = 0x5CE7E5EEDUL;
    private const int ProposalsPerObject = 4;
    private readonly float[][] _colors, _shapes, _sizes, _cells, _backgrounds;

    public RegionFeatureModel(int regions, int dim, float noise)
    {
        if (regions < 5) throw new ArgumentOutOfRangeException(nameof(regions), regions, "Synthetic scenes need at least 5 regions (one per object).");
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "The feature size must be positive.");
        Regions = regions;
        Dim = dim;
        Noise = noise;
        var world = new Rng(WorldSeed);
        _colors = Basis(world, SceneCatalog.Colors.Length, dim);
        _shapes = Basis(world, SceneCatalog.Shapes.Length, dim);
        _sizes = Basis(world, SceneCatalog.Sizes.Length, dim);
        _cells = Basis(world, SceneCatalog.Grid * SceneCatalog.Grid, dim);
        _backgrounds = Basis(world, SceneCatalog.Backgrounds.Length, dim);
    }

    public int Regions { get; }

    public int Dim { get; }

    public float Noise { get; }

    /// <summary>Writes Regions x Dim features of <paramref name="scene"/> into <paramref name="output"/>.</summary>
    public void Features(Scene scene, Rng rng, Span<float> output)
    {
        int d = Dim;
        var objects = scene.Objects;
        var proposals = ProposalCounts(objects);
        var order = rng.Permutation(Regions);
        int slot = 0;
        var noise = new float[d];
        for (int i = 0; i < objects.Length; i++)
        {
            var o = objects[i];
            for (int p = 0; p < proposals[i]; p++)
            {
                var dst = output.Slice(order[slot++] * d, d);
                float colorWeight = 1f, shapeWeight = 1f;
                if (rng.NextFloat() < 0.25f)
                {
                    if (rng.NextInt(2) == 0) colorWeight = 0.3f;
                    else shapeWeight = 0.3f;
                }
                rng.Normal(noise, 0f, Noise / MathF.Sqrt(d));
                for (int k = 0; k < d; k++)
                    dst[k] = colorWeight * _colors[o.Color][k] + shapeWeight * _shapes[o.Shape][k] + _sizes[o.Size][k] + 0.5f * _cells[o.Cell][k] + noise[k];
            }
        }
        var background = _backgrounds[scene.Background];
        while (slot < Regions)
        {
            var dst = output.Slice(order[slot++] * d, d);
            var cell = _cells[rng.NextInt(_cells.Length)];
            rng.Normal(noise, 0f, Noise / MathF.Sqrt(d));
            for (int k = 0; k < d; k++) dst[k] = background[k] + 0.5f * cell[k] + noise[k];
        }
    }

    // 4 proposals per object (the same for every size: more boxes for large objects would leak which attributes
    // belong together into the mean feature), fewer (at least 1) when the regions would not leave one for the background.
    private int[] ProposalCounts(SceneObject[] objects)
    {
        var counts = objects.Select(_ => ProposalsPerObject).ToArray();
        int budget = Regions - 1;
        while (counts.Sum() > budget && counts.Any(c => c > 1))
        {
            int largest = Array.IndexOf(counts, counts.Max());
            counts[largest]--;
        }
        return counts;
    }

    private static float[][] Basis(Rng rng, int count, int dim)
    {
        var vectors = new float[count][];
        for (int i = 0; i < count; i++)
        {
            vectors[i] = new float[dim];
            rng.Normal(vectors[i], 0f, 1f / MathF.Sqrt(dim));
        }
        return vectors;
    }
}

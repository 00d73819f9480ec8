using CrossModal.Tensors;

namespace CrossModal.Data.Synthetic;

/// <summary>
/// Draws scenes: 1-5 objects (mostly 2-4) in distinct cells of a 3 x 3 layout, each with a random colour, shape and size (no two
/// objects share both colour and shape, so a phrase like "red circle" names one object), on one of three
/// backgrounds. After a scene with two or more objects, with probability <c>twinFraction</c> a twin follows: the same
/// layout with the colours, sizes or shapes of two objects swapped. Twins have the same bag of attributes - their
/// mean region feature is the same up to noise - so only a model that binds attributes to objects (word-region
/// alignment) can tell their captions apart.
/// </summary>
internal static class SceneSampler
{
    public static List<Scene> Sample(string split, int count, double twinFraction, Rng rng)
    {
        var scenes = new List<Scene>(count);
        while (scenes.Count < count)
        {
            var scene = SampleBase(Id(split, scenes.Count), rng);
            scenes.Add(scene);
            if (scenes.Count < count && scene.Objects.Length >= 2 && rng.NextDouble() < twinFraction)
            {
                var twin = MakeTwin(scene, Id(split, scenes.Count), rng);
                if (twin is not null) scenes.Add(twin);
            }
        }
        return scenes;
    }

    private static string Id(string split, int index) => $"{split}_{index:D6}";

    private static Scene SampleBase(string id, Rng rng)
    {
        var weights = SceneCatalog.ObjectCountWeights;
        int pick = rng.NextInt(weights.Sum()), n = 0;
        while (pick >= weights[n]) pick -= weights[n++];
        n++; // weights[0] is for one object
        var cells = rng.Permutation(SceneCatalog.Grid * SceneCatalog.Grid);
        var objects = new SceneObject[n];
        var used = new HashSet<(int, int)>();
        for (int i = 0; i < n; i++)
        {
            int color, shape;
            do
            {
                color = rng.NextInt(SceneCatalog.Colors.Length);
                shape = rng.NextInt(SceneCatalog.Shapes.Length);
            }
            while (!used.Add((color, shape)));
            int size = rng.NextInt(SceneCatalog.Sizes.Length);
            float jx = (rng.NextFloat() - 0.5f) * 0.2f, jy = (rng.NextFloat() - 0.5f) * 0.2f;
            objects[i] = new SceneObject(color, shape, size, cells[i], jx, jy);
        }
        // Objects in layout order (row-major) so that lists read naturally.
        Array.Sort(objects, (a, b) => a.Cell.CompareTo(b.Cell));
        return new Scene(id, rng.NextInt(SceneCatalog.Backgrounds.Length), objects, null, null);
    }

    // Swaps one attribute between two objects that differ in it and in something else, so the twin's objects are
    // not the base's objects moved around; returns null when no such pair exists.
    private static Scene? MakeTwin(Scene scene, string id, Rng rng)
    {
        var o = scene.Objects;
        var options = new List<(string Kind, int I, int J)>();
        for (int i = 0; i < o.Length; i++)
            for (int j = i + 1; j < o.Length; j++)
            {
                bool c = o[i].Color != o[j].Color, s = o[i].Shape != o[j].Shape, z = o[i].Size != o[j].Size;
                if (c && (s || z)) options.Add(("color", i, j));
                if (z && (c || s)) options.Add(("size", i, j));
                if (s && (c || z)) options.Add(("shape", i, j));
            }
        if (options.Count == 0) return null;
        var (kind, a, b) = options[rng.NextInt(options.Count)];
        var objects = (SceneObject[])o.Clone();
        objects[a] = kind switch
        {
            "color" => o[a] with { Color = o[b].Color },
            "size" => o[a] with { Size = o[b].Size },
            _ => o[a] with { Shape = o[b].Shape },
        };
        objects[b] = kind switch
        {
            "color" => o[b] with { Color = o[a].Color },
            "size" => o[b] with { Size = o[a].Size },
            _ => o[b] with { Shape = o[a].Shape },
        };
        // A swap may create two objects with the same colour and shape; then the twin would be ambiguous.
        if (objects.Select(x => (x.Color, x.Shape)).Distinct().Count() != objects.Length) return null;
        return new Scene(id, scene.Background, objects, scene.Id, kind);
    }
}

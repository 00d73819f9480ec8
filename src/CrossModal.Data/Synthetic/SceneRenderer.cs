namespace CrossModal.Data.Synthetic;

/// <summary>
/// Draws a scene as an RGB image: the background colour, then each object as a filled shape in its layout cell
/// (radius 18%, 28% or 38% of a cell for small, medium, large), anti-aliased by 4 x 4 supersampling inside each object's bounding box.
/// </summary>
internal static class SceneRenderer
{
    private const int Samples = 4;

    public static byte[] Render(Scene scene, int size)
    {
        var rgb = new byte[size * size * 3];
        var (br, bg, bb) = SceneCatalog.BackgroundRgb[scene.Background];
        for (int i = 0; i < rgb.Length; i += 3)
        {
            rgb[i] = br;
            rgb[i + 1] = bg;
            rgb[i + 2] = bb;
        }
        float cell = size / (float)SceneCatalog.Grid;
        foreach (var o in scene.Objects)
        {
            float cx = (o.Column + 0.5f + o.JitterX) * cell, cy = (o.Row + 0.5f + o.JitterY) * cell;
            float r = SceneCatalog.SizeRadius[o.Size] * cell;
            var (cr, cg, cb) = SceneCatalog.ColorRgb[o.Color];
            int x0 = Math.Max(0, (int)(cx - r) - 1), x1 = Math.Min(size - 1, (int)(cx + r) + 1);
            int y0 = Math.Max(0, (int)(cy - r) - 1), y1 = Math.Min(size - 1, (int)(cy + r) + 1);
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                {
                    int inside = 0;
                    for (int sy = 0; sy < Samples; sy++)
                        for (int sx = 0; sx < Samples; sx++)
                        {
                            float dx = (x + (sx + 0.5f) / Samples - cx) / r, dy = (y + (sy + 0.5f) / Samples - cy) / r;
                            if (Inside(o.Shape, dx, dy)) inside++;
                        }
                    if (inside == 0) continue;
                    float a = inside / (float)(Samples * Samples);
                    int p = (y * size + x) * 3;
                    rgb[p] = (byte)MathF.Round(rgb[p] + a * (cr - rgb[p]));
                    rgb[p + 1] = (byte)MathF.Round(rgb[p + 1] + a * (cg - rgb[p + 1]));
                    rgb[p + 2] = (byte)MathF.Round(rgb[p + 2] + a * (cb - rgb[p + 2]));
                }
        }
        return rgb;
    }

    /// <summary>Whether the point (dx, dy), in units of the object's radius from its centre (y down), is inside.</summary>
    internal static bool Inside(int shape, float dx, float dy)
    {
        float ax = MathF.Abs(dx), ay = MathF.Abs(dy);
        switch (SceneCatalog.Shapes[shape])
        {
            case "circle": return dx * dx + dy * dy <= 1f;
            case "square": return ax <= 0.82f && ay <= 0.82f;
            case "diamond": return ax + ay <= 1f;
            case "cross": return (ax <= 0.3f && ay <= 1f) || (ay <= 0.3f && ax <= 1f);
            case "ring":
                {
                    float d2 = dx * dx + dy * dy;
                    return d2 <= 1f && d2 >= 0.3f;
                }
            case "hexagon":
                // Flat top and bottom: |y| <= sqrt(3)/2 and the slanted sides |x| + |y|/sqrt(3) <= 1.
                return ay <= 0.8660254f && ax + ay * 0.57735027f <= 1f;
            case "triangle":
                // Apex up at dy = -1, base at dy = 0.8.
                return dy >= -1f && dy <= 0.8f && ax <= (dy + 1f) * 0.6f;
            default: return InsideStar(dx, dy);
        }
    }

    // Five-pointed star: polygon of 10 vertices alternating radius 1 and 0.45, first point straight up.
    private static bool InsideStar(float x, float y)
    {
        bool inside = false;
        for (int i = 0, j = 9; i < 10; j = i++)
        {
            var (xi, yi) = StarVertex(i);
            var (xj, yj) = StarVertex(j);
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    }

    // The star's vertices (angles -90 + 36 i degrees), written out so renderings do not depend on the platform's
    // trigonometry.
    private static readonly (float X, float Y)[] Star =
    [
        (0f, -1f), (0.26450336f, -0.36405765f), (0.95105654f, -0.30901699f), (0.42797544f, 0.13905765f),
        (0.58778525f, 0.80901699f), (0f, 0.45f), (-0.58778525f, 0.80901699f), (-0.42797544f, 0.13905765f),
        (-0.95105654f, -0.30901699f), (-0.26450336f, -0.36405765f),
    ];

    private static (float X, float Y) StarVertex(int i) => Star[i];
}

namespace CrossModal.Data.Synthetic;

/// <summary>The words and drawing colours of the synthetic world.</summary>
internal static class SceneCatalog
{
    public static readonly string[] Colors = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black", "pink", "cyan"];

    public static readonly (byte R, byte G, byte B)[] ColorRgb =
    [
        (220, 40, 40), (40, 170, 60), (40, 80, 220), (240, 210, 40), (140, 60, 180), (245, 140, 30), (250, 250, 250), (20, 20, 20),
        (250, 140, 200), (60, 220, 230),
    ];

    public static readonly string[] Shapes = ["circle", "square", "triangle", "diamond", "star", "cross", "ring", "hexagon"];

    public static readonly string[] Sizes = ["small", "medium", "large"];

    /// <summary>Radius of each size as a fraction of a layout cell.</summary>
    public static readonly float[] SizeRadius = [0.18f, 0.28f, 0.38f];

    /// <summary>How often a scene has 1, 2, 3, 4, 5 objects (out of 20): mostly several objects, whose captions
    /// describe different objects and whose twins need binding.</summary>
    public static readonly int[] ObjectCountWeights = [2, 5, 5, 5, 3];

    public static readonly string[] Backgrounds = ["gray", "beige", "dark"];

    public static readonly (byte R, byte G, byte B)[] BackgroundRgb = [(170, 170, 170), (225, 210, 175), (70, 72, 88)];

    /// <summary>Layout grid: objects sit in distinct cells of a Grid x Grid layout.</summary>
    public const int Grid = 3;

    /// <summary>Names of the layout cells, row-major ("top left" ... "bottom right").</summary>
    public static readonly string[] CellNames =
        ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"];

    public static readonly string[] CountWords = ["zero", "one", "two", "three", "four", "five"];
}

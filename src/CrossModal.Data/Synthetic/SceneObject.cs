namespace CrossModal.Data.Synthetic;

/// <summary>One object of a synthetic scene: attribute indices into <see cref="SceneCatalog"/> and its layout cell.</summary>
/// <param name="Color">Index into <see cref="SceneCatalog.Colors"/>.</param>
/// <param name="Shape">Index into <see cref="SceneCatalog.Shapes"/>.</param>
/// <param name="Size">Index into <see cref="SceneCatalog.Sizes"/> (small, medium, large).</param>
/// <param name="Cell">Layout cell, row-major in a 3 x 3 grid.</param>
/// <param name="JitterX">Offset of the centre from the cell centre, as a fraction of the cell size.</param>
/// <param name="JitterY">Offset of the centre from the cell centre, as a fraction of the cell size.</param>
internal readonly record struct SceneObject(int Color, int Shape, int Size, int Cell, float JitterX, float JitterY)
{
    public int Row => Cell / SceneCatalog.Grid;

    public int Column => Cell % SceneCatalog.Grid;

    public string ColorName => SceneCatalog.Colors[Color];

    public string ShapeName => SceneCatalog.Shapes[Shape];

    public string SizeName => SceneCatalog.Sizes[Size];
}

using System.Text;
using CrossModal.Tensors;

namespace CrossModal.Data.Synthetic;

/// <summary>
/// Five templated captions per scene, each starting from a different object where the scene has several, in the
/// style of the Flickr30K precomp captions (lower-case words, final " ."): relation ("a small red circle left of a
/// large blue square ."), pair ("a red circle and a blue square ."), background ("a large green star and a small
/// pink ring on a beige background ."), list ("three shapes : a red circle , a blue square and a green star ."),
/// position ("there is a small white cross in the top left and a medium cyan hexagon in the center ."), and for
/// one-object scenes single-object variants and a plain noun phrase. Most captions name two objects with their
/// attributes, so that few captions are shared by several images.
/// </summary>
internal static class CaptionWriter
{
    private const int Relation = 0, Pair = 1, Background = 2, List = 3, Position = 4, Plain = 5, PlainNoSize = 6;

    public static string[] Write(Scene scene, Rng rng)
    {
        var o = scene.Objects;
        int n = o.Length;
        int[] templates = n >= 2 ? [Relation, Pair, Background, List, Position] : [Background, List, Position, Plain, PlainNoSize];
        rng.Shuffle<int>(templates);
        int start = rng.NextInt(n);
        var captions = new string[5];
        for (int k = 0; k < 5; k++)
        {
            int f = (start + k) % n;
            var focus = o[f];
            string background = SceneCatalog.Backgrounds[scene.Background];
            captions[k] = templates[k] switch
            {
                Relation => RelationCaption(o, f, rng),
                Pair => $"{Phrase(focus, false)} and {Phrase(Other(o, f, rng), false)} .",
                Background when n >= 2 => $"{Phrase(focus, true)} and {Phrase(Other(o, f, rng), true)} on a {background} background .",
                Background => $"{Phrase(focus, true)} on a {background} background .",
                List => ListCaption(o),
                Position when n >= 2 => PositionCaption(focus, Other(o, f, rng)),
                Position => $"there is {Phrase(focus, true)} in the {SceneCatalog.CellNames[focus.Cell]} .",
                Plain => $"{Phrase(focus, true)} .",
                _ => $"{Phrase(focus, false)} .",
            };
        }
        return captions;
    }

    /// <summary>"a small red circle", "an orange star" (article by the next word).</summary>
    public static string Phrase(SceneObject o, bool withSize)
    {
        string first = withSize ? o.SizeName : o.ColorName;
        var sb = new StringBuilder(Article(first)).Append(' ');
        if (withSize) sb.Append(o.SizeName).Append(' ');
        return sb.Append(o.ColorName).Append(' ').Append(o.ShapeName).ToString();
    }

    /// <summary>The relations that hold from <paramref name="a"/> to <paramref name="b"/> ("left of", "above", ...).</summary>
    public static List<string> Relations(SceneObject a, SceneObject b)
    {
        var r = new List<string>(2);
        if (a.Column < b.Column) r.Add("left of");
        if (a.Column > b.Column) r.Add("right of");
        if (a.Row < b.Row) r.Add("above");
        if (a.Row > b.Row) r.Add("below");
        return r;
    }

    private static string Article(string word) => "aeiou".Contains(word[0]) ? "an" : "a";

    private static SceneObject Other(SceneObject[] o, int focus, Rng rng)
    {
        int j = rng.NextInt(o.Length - 1);
        return o[j >= focus ? j + 1 : j];
    }

    private static string RelationCaption(SceneObject[] o, int focus, Rng rng)
    {
        var b = Other(o, focus, rng);
        var relations = Relations(o[focus], b);
        string rel = relations[rng.NextInt(relations.Count)];
        return $"{Phrase(o[focus], true)} {rel} {Phrase(b, true)} .";
    }

    private static string PositionCaption(SceneObject a, SceneObject b) =>
        $"there is {Phrase(a, true)} in the {SceneCatalog.CellNames[a.Cell]} and {Phrase(b, true)} in the {SceneCatalog.CellNames[b.Cell]} .";

    private static string ListCaption(SceneObject[] o)
    {
        var sb = new StringBuilder();
        sb.Append(SceneCatalog.CountWords[o.Length]).Append(o.Length == 1 ? " shape : " : " shapes : ");
        for (int i = 0; i < o.Length; i++)
        {
            if (i > 0) sb.Append(i == o.Length - 1 ? " and " : " , ");
            sb.Append(Phrase(o[i], false));
        }
        return sb.Append(" .").ToString();
    }
}

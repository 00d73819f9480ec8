using System.Collections;

namespace CrossModal.Checkpoints;

/// <summary>
/// The checkpoint's <c>model</c> entry as state dicts: VSE++, SCAN, VSRN and NAAF store a list
/// <c>[img_enc.state_dict(), txt_enc.state_dict()]</c> (SGRAF adds a third); IMRAM and others store one dict.
/// Deconstructs as <c>var (img, txt) = list;</c> (exactly two entries, else one clear error).
/// </summary>
public sealed class TorchStateDictList : IReadOnlyList<TorchStateDict>
{
    private readonly IReadOnlyList<TorchStateDict> _items;

    internal TorchStateDictList(IReadOnlyList<TorchStateDict> items, string source)
    {
        _items = items;
        Source = source;
    }

    /// <summary>Where the list came from ("file: model").</summary>
    public string Source { get; }

    /// <inheritdoc/>
    public TorchStateDict this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <summary>The image and text encoder state dicts of a two-entry list.</summary>
    public void Deconstruct(out TorchStateDict image, out TorchStateDict text)
    {
        if (_items.Count != 2) throw new InvalidDataException($"{Source} holds {_items.Count} state dict(s); expected 2 (image encoder, text encoder).");
        image = _items[0];
        text = _items[1];
    }

    /// <summary>The three state dicts of a three-entry list (SGRAF: image, text, similarity).</summary>
    public void Deconstruct(out TorchStateDict first, out TorchStateDict second, out TorchStateDict third)
    {
        if (_items.Count != 3) throw new InvalidDataException($"{Source} holds {_items.Count} state dict(s); expected 3.");
        first = _items[0];
        second = _items[1];
        third = _items[2];
    }

    /// <inheritdoc/>
    public IEnumerator<TorchStateDict> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

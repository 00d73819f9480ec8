using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Evaluation;

/// <summary>
/// A split encoded by one model: every image once (the originals encode each image five times, once per caption,
/// and keep every fifth row; the result is the same) and every caption, in file order.
/// </summary>
public sealed record EncodedSplit(EmbeddingSet Images, EmbeddingSet Captions)
{
    /// <summary>Encodes <paramref name="data"/> with <paramref name="model"/> in evaluation mode, without gradients.</summary>
    public static EncodedSplit Encode(MatchingModel model, PrecompDataset data, int batchSize = 128,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = Tape.NoGrad();
            var images = new EmbeddingSet(model.EmbedSize);
            int regions = data.Regions, dim = data.FeatureDim, n = data.ImageCount;
            for (int start = 0; start < n; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(batchSize, n - start);
                using var scope = TensorScope.Begin();
                var features = regions > 0 ? Tensor.Empty(count, regions, dim) : Tensor.Empty(count, dim);
                for (int i = 0; i < count; i++) data.ImageFeatures(start + i).CopyTo(features.Data.Slice(i * data.ImageLength));
                var encoded = model.EncodeImages(features);
                var lens = new int[count];
                Array.Fill(lens, encoded.Rank == 3 ? encoded.Dim(1) : 1);
                images.AddBatch(encoded, lens);
            }
            progress?.Report($"encoded {n} images");

            var captions = new EmbeddingSet(model.EmbedSize);
            int m = data.CaptionCount;
            for (int start = 0; start < m; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(batchSize, m - start);
                var lengths = new int[count];
                int maxLen = 0;
                for (int i = 0; i < count; i++) maxLen = Math.Max(maxLen, lengths[i] = data.CaptionLength(start + i));
                var tokens = new int[count * maxLen];
                for (int i = 0; i < count; i++) data.CaptionTokens(start + i).CopyTo(tokens.AsSpan(i * maxLen));
                using var scope = TensorScope.Begin();
                var encoded = model.EncodeCaptions(tokens, lengths, maxLen);
                captions.AddBatch(encoded, lengths);
            }
            progress?.Report($"encoded {m} captions");
            return new EncodedSplit(images, captions);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }
}

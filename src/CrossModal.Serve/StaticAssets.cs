using System.Reflection;

namespace CrossModal.Serve;

/// <summary>
/// The web page's files, embedded in this assembly (wwwroot/*) and served from a fixed table by exact name, so no
/// request path ever reaches the file system.
/// </summary>
internal static class StaticAssets
{
    private static readonly Lazy<IReadOnlyDictionary<string, (byte[] Content, string ContentType)>> Files = new(Load);

    /// <summary>The file called <paramref name="name"/> (e.g. "app.js"), or false.</summary>
    public static bool TryGet(string name, out byte[] content, out string contentType)
    {
        if (Files.Value.TryGetValue(name, out var file))
        {
            (content, contentType) = file;
            return true;
        }
        (content, contentType) = ([], "");
        return false;
    }

    private static IReadOnlyDictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            string name = resource["wwwroot/".Length..];
            string type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            files[name] = (buffer.ToArray(), type);
        }
        return files;
    }
}

using System.Text.Json;
using CrossModal.Serve.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace CrossModal.Serve;

/// <summary>
/// The HTTP application: the JSON API under /api, the OpenAPI description at /openapi/v1.json, the web page at /.
/// Errors are always JSON (<see cref="ErrorResponse"/>) with the right status code, never a stack trace.
/// </summary>
public static class ServeApp
{
    /// <summary>
    /// Builds the application around <paramref name="service"/>; <paramref name="configure"/> can set the URLs
    /// (<c>builder.WebHost.UseUrls</c>) or put a test server in place of Kestrel.
    /// </summary>
    public static WebApplication Create(SearchService service, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        var options = service.Options;
        if (options.RequestTimeout <= TimeSpan.Zero) throw new ArgumentException($"The request timeout must be positive, got {options.RequestTimeout}.");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        // Logs go to stderr: stdout stays for machine-readable output (the load benchmark's JSON lines).
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.Limits.MaxRequestLineSize = 16 * 1024;
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
        });
        builder.Services.Configure<FormOptions>(f =>
        {
            f.MultipartBodyLengthLimit = options.MaxUploadBytes + 64 * 1024;
            f.ValueCountLimit = 16;
        });
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "CrossModal search";
            doc.Info.Description = "Search a gallery of images by text or by image with an image-text matching model, and see what the model attended to. " +
                "Every error is JSON: {status, error}.";
            return Task.CompletedTask;
        }));
        configure?.Invoke(builder);
        var app = builder.Build();
        var started = DateTime.UtcNow;
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CrossModal.Serve");

        app.Use(async (ctx, next) =>
        {
            ctx.Response.Headers.XContentTypeOptions = "nosniff";
            ctx.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; frame-ancestors 'none'";
            try
            {
                if (ctx.Request.ContentLength > options.MaxRequestBodyBytes)
                    throw new ServeException(413, $"The request body has {ctx.Request.ContentLength} bytes; the limit is {options.MaxRequestBodyBytes}.");
                await next(ctx);
            }
            catch (ServeException e) { await WriteError(ctx, e.Status, e.Message); }
            catch (BadHttpRequestException e) { await WriteError(ctx, e.StatusCode, e.StatusCode == 413 ? $"The request body is larger than the limit of {options.MaxRequestBodyBytes} bytes." : e.Message); }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested) { /* the client left */ }
            catch (Exception e)
            {
                log.LogError(e, "{Method} {Path} failed", ctx.Request.Method, ctx.Request.Path);
                await WriteError(ctx, 500, "The server failed on this request (the error is in its log).");
            }
        });
        app.UseStatusCodePages(async context =>
        {
            var ctx = context.HttpContext;
            string message = ctx.Response.StatusCode switch
            {
                404 => $"Nothing at {ctx.Request.Path} (the API is under /api; its description at /openapi/v1.json).",
                405 => $"{ctx.Request.Method} is not allowed on {ctx.Request.Path}.",
                415 => $"The body's content type ({ctx.Request.ContentType ?? "none"}) is not accepted by {ctx.Request.Path}; image search takes multipart/form-data with a file field named 'image'.",
                _ => $"Status {ctx.Response.StatusCode}.",
            };
            await WriteError(ctx, ctx.Response.StatusCode, message, setStatus: false);
        });

        app.MapOpenApi();

        var api = app.MapGroup("/api");
        api.MapGet("/health", () => Results.Json(new HealthResponse("ok", service.Gallery.Model.Family.Name, service.Gallery.Description,
                service.Gallery.Items.Count, service.Gallery.Regions, service.Gallery.Captions.Count, service.Gallery.CaptionEncodings is not null,
                service.ImageEncoder is not null,
                new LimitsResponse(options.MaxQueryLength, options.MaxK, options.MaxUploadBytes, options.MaxPixels, options.RequestTimeout.TotalSeconds),
                (DateTime.UtcNow - started).TotalSeconds)))
            .WithName("health").WithSummary("The server's state, gallery and limits.")
            .Produces<HealthResponse>();

        api.MapGet("/search", (HttpContext ctx, string? q, string? k, string? mode) =>
                Timed(ctx, options, token => service.SearchText(q, ParseK(k, options), mode ?? "full", token)))
            .WithName("searchText")
            .WithSummary("Images for a text query, best first. mode=full scores every image with the model; mode=two-stage ranks pooled vectors and re-scores the top candidates.")
            .Produces<TextSearchResponse>().Produces<ErrorResponse>(400).Produces<ErrorResponse>(503);

        api.MapPost("/search/image", async (HttpContext ctx, string? k) =>
            {
                int top = ParseK(k, options);
                var image = await ReadUpload(ctx, options);
                using var deadline = new CancellationTokenSource(options.RequestTimeout, options.Time);
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, deadline.Token);
                try
                {
                    return Results.Json(await service.SearchImageAsync(image, top, cts.Token));
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested)
                {
                    throw TimedOut(options);
                }
            })
            .WithName("searchImage")
            .WithSummary("Captions for an uploaded JPEG or PNG (multipart/form-data, field 'image'), best first.")
            .Accepts<IFormFile>("multipart/form-data")
            .Produces<ImageSearchResponse>().Produces<ErrorResponse>(400).Produces<ErrorResponse>(413).Produces<ErrorResponse>(415)
            .Produces<ErrorResponse>(501).Produces<ErrorResponse>(503)
            .DisableAntiforgery();

        api.MapGet("/items/{id}", (string id) => Results.Json(service.ItemDetails(ParseId(id))))
            .WithName("item").WithSummary("A gallery image's name and captions.")
            .Produces<ItemResponse>().Produces<ErrorResponse>(400).Produces<ErrorResponse>(404);

        api.MapGet("/items/{id}/thumbnail", (HttpContext ctx, string id) =>
            {
                int number = ParseId(id);
                var item = service.Item(number);
                // The path comes from the gallery index, never from the request: the id is only looked up.
                string? path = service.Gallery.ImagePath(number);
                if (path is null || !File.Exists(path))
                    throw new ServeException(404, $"Gallery item {number} ({item.Id}) has no image file on this server{(path is null ? " (the index records no path)" : $" ({path} is missing)")}.");
                ctx.Response.Headers.CacheControl = "public, max-age=3600";
                string type = path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? "image/png" : "image/jpeg";
                return TypedResults.PhysicalFile(path, type);
            })
            .WithName("thumbnail").WithSummary("The gallery image's file (JPEG or PNG).")
            .Produces(200, contentType: "image/jpeg").Produces<ErrorResponse>(400).Produces<ErrorResponse>(404);

        api.MapGet("/explain", (HttpContext ctx, string? q, string? id) =>
                Timed(ctx, options, _ => service.Explain(q, ParseId(id ?? throw new ServeException(400, "Pass the gallery image as id.")))))
            .WithName("explain")
            .WithSummary("For one query and one gallery image: each word's attention over the image's regions (SCAN-style models) or each region's share of the score (VSE-style models).")
            .Produces<ExplainResponse>().Produces<ErrorResponse>(400).Produces<ErrorResponse>(404).Produces<ErrorResponse>(501);

        app.MapGet("/", () => Asset("index.html")).ExcludeFromDescription();
        app.MapGet("/static/{name}", (string name) => Asset(name)).ExcludeFromDescription();
        return app;
    }

    /// <summary>Starts <paramref name="app"/> and returns the addresses it listens on (port 0 becomes the chosen port).</summary>
    public static async Task<IReadOnlyList<string>> StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await app.StartAsync(cancellationToken);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
    }

    private static IResult Asset(string name) =>
        StaticAssets.TryGet(name, out var content, out var type)
            ? Results.Bytes(content, type)
            : throw new ServeException(404, $"No file {name} in the web page.");

    private static IResult Timed<T>(HttpContext ctx, ServeOptions options, Func<CancellationToken, T> work)
    {
        using var deadline = new CancellationTokenSource(options.RequestTimeout, options.Time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, deadline.Token);
        try
        {
            return Results.Json(work(cts.Token));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw TimedOut(options);
        }
    }

    private static ServeException TimedOut(ServeOptions options) =>
        new(503, $"The request needed more than the server's limit of {options.RequestTimeout.TotalSeconds:0.###} s and was stopped.");

    private static int ParseK(string? k, ServeOptions options)
    {
        if (k is null) return options.DefaultK;
        if (!int.TryParse(k, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) || value < 1 || value > options.MaxK)
            throw new ServeException(400, $"k must be a whole number from 1 to {options.MaxK}, got '{Shorten(k)}'.");
        return value;
    }

    private static int ParseId(string id)
    {
        if (!int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value))
            throw new ServeException(400, $"An item id is a whole number (a gallery position), got '{Shorten(id)}'.");
        return value;
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";

    private static async Task<byte[]> ReadUpload(HttpContext ctx, ServeOptions options)
    {
        if (!ctx.Request.HasFormContentType)
            throw new ServeException(415, "Send the image as multipart/form-data with a file field named 'image'.");
        IFormCollection form;
        try
        {
            form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw new ServeException(413, $"The upload is larger than the limit of {options.MaxUploadBytes} bytes.");
        }
        catch (InvalidDataException e)
        {
            throw new ServeException(400, $"The multipart body could not be read: {e.Message}");
        }
        var file = form.Files.GetFile("image") ?? throw new ServeException(400, "The form has no file field named 'image'.");
        if (file.Length > options.MaxUploadBytes)
            throw new ServeException(413, $"The uploaded file has {file.Length} bytes; the limit is {options.MaxUploadBytes}.");
        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
            await stream.ReadExactlyAsync(bytes, ctx.RequestAborted);
        return bytes;
    }

    private static readonly JsonSerializerOptions ErrorJson = new(JsonSerializerDefaults.Web);

    private static async Task WriteError(HttpContext ctx, int status, string message, bool setStatus = true)
    {
        if (ctx.Response.HasStarted) return;
        if (setStatus)
        {
            ctx.Response.Clear();
            ctx.Response.StatusCode = status;
        }
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, new ErrorResponse(status, message), ErrorJson);
    }
}

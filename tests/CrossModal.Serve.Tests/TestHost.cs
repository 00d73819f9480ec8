using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace CrossModal.Serve.Tests;

/// <summary>The app on ASP.NET Core's in-process test server, with a client.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestHost(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }

    public static async Task<TestHost> StartAsync(SearchService service)
    {
        var app = ServeApp.Create(service, b => b.WebHost.UseTestServer());
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new TestHost(app, app.GetTestClient());
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using CrossModal.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace CrossModal.Serve.Tests;

/// <summary>
/// The page in a real browser: Debian's headless chromium driven by Selenium through Debian's chromium-driver
/// (.ci/run installs both with apt-get; nothing is downloaded). The server runs on a free loopback port; the test
/// types a query, waits for the results, opens a result with the keyboard, checks from the canvas pixels that the
/// heatmap of the selected word was drawn where the attention is, moves to the next word with an arrow key, checks
/// a narrow screen does not scroll sideways, and saves a screenshot (serve-page.png in the test output folder, and
/// at $CROSSMODAL_SCREENSHOT when set). The gallery is the fixture's index file (built in the test from the f8k-1k
/// test split); $CROSSMODAL_SERVE_CHECKPOINT builds it with a trained checkpoint instead of the small random model.
/// </summary>
public sealed class BrowserTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Driver = "/usr/bin/chromedriver";

    [Fact]
    public async Task Should_SearchAndDrawTheAttentionHeatmap_InChromium()
    {
        Assert.True(File.Exists(Chromium) && File.Exists(Driver),
            $"The browser test needs Debian's chromium and chromium-driver ({Chromium}, {Driver}): apt-get install chromium chromium-driver (.ci/run does).");
        var token = TestContext.Current.CancellationToken;
        Gallery? own = null;
        var gallery = fixture.Gallery;
        if (Environment.GetEnvironmentVariable("CROSSMODAL_SERVE_CHECKPOINT") is { Length: > 0 } checkpoint)
            gallery = own = Gallery.Open(fixture.BuildIndex(checkpoint, "trained.index", "test", ServeFixture.ImagesDirectory, captions: true), cancellationToken: token);
        try
        {
            var app = ServeApp.Create(new SearchService(gallery, new ServeOptions(), fixture.Encoder), b => b.WebHost.UseUrls("http://127.0.0.1:0"));
            await using var _ = app;
            string url = (await ServeApp.StartAsync(app, token)).Single();
            Assert.StartsWith("http://127.0.0.1:", url);

            Environment.SetEnvironmentVariable("SE_OFFLINE", "true"); // never let Selenium Manager look for downloads
            var options = new ChromeOptions { BinaryLocation = Chromium };
            options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1100", "--force-device-scale-factor=1");
            var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
            service.SuppressInitialDiagnosticInformation = true;
            using var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(120));
            var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(90));

            driver.Navigate().GoToUrl(url + "/");
            wait.Until(d => d.FindElement(By.Id("about")).Text.Contains("images"));
            const string query = "a dog runs through the grass";
            var box = driver.FindElement(By.Id("query"));
            Assert.Equal(box, driver.SwitchTo().ActiveElement()); // the page starts in the search box
            box.SendKeys(query);
            box.SendKeys(Keys.Enter);
            wait.Until(d => d.FindElements(By.CssSelector("#results li button")).Count >= 10);
            var first = driver.FindElement(By.CssSelector("#results li button"));
            int id = int.Parse(first.GetDomAttribute("data-id")!, System.Globalization.CultureInfo.InvariantCulture);
            first.SendKeys(Keys.Enter); // keyboard, not a mouse click
            var canvas = driver.FindElement(By.Id("heatmap"));
            wait.Until(_ => canvas.GetDomAttribute("data-drawn") == "true");
            Assert.Equal("true", first.GetDomAttribute("aria-pressed"));

            using var http = new HttpClient { BaseAddress = new Uri(url) };
            var explanation = await http.GetFromJsonAsync<JsonElement>($"/api/explain?q={Uri.EscapeDataString(query)}&id={id}", token);
            int word = int.Parse(canvas.GetDomAttribute("data-word")!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(1, word); // the first real word, after <start>
            CheckHeatmap(driver, id, explanation, word);

            // Arrow keys move to the next word and redraw its map.
            driver.SwitchTo().ActiveElement().SendKeys(Keys.ArrowRight);
            wait.Until(_ => canvas.GetDomAttribute("data-word") == "2");
            CheckHeatmap(driver, id, explanation, 2);

            var shot = ((ITakesScreenshot)driver).GetScreenshot();
            shot.SaveAsFile(Path.Combine(AppContext.BaseDirectory, "serve-page.png"));
            if (Environment.GetEnvironmentVariable("CROSSMODAL_SCREENSHOT") is { Length: > 0 } path) shot.SaveAsFile(path);

            // A phone-sized window: everything stacks, nothing scrolls sideways.
            driver.Manage().Window.Size = new System.Drawing.Size(390, 844);
            var widths = (IReadOnlyCollection<object>)((IJavaScriptExecutor)driver).ExecuteScript("return [document.documentElement.scrollWidth, window.innerWidth];")!;
            var w = widths.Select(Convert.ToDouble).ToArray();
            Assert.True(w[0] <= w[1] + 1, $"the page is {w[0]} px wide in a {w[1]} px window");

            Escape(driver);
            wait.Until(d => !d.FindElement(By.Id("detail")).Displayed);
        }
        finally
        {
            own?.Dispose();
        }
    }

    private static void Escape(IWebDriver driver) => driver.SwitchTo().ActiveElement().SendKeys(Keys.Escape);

    /// <summary>
    /// The canvas minus the bare image, averaged per grid cell, must follow the word's attention: the strongest
    /// cell changed visibly, and the change correlates with the weights.
    /// </summary>
    private static void CheckHeatmap(IWebDriver driver, int id, JsonElement explanation, int word)
    {
        const string script = """
            const done = arguments[arguments.length - 1];
            const canvas = document.getElementById('heatmap');
            const img = new Image();
            img.onload = () => {
              const w = canvas.width, h = canvas.height, g = arguments[1];
              const scratch = document.createElement('canvas');
              scratch.width = w; scratch.height = h;
              scratch.getContext('2d').drawImage(img, 0, 0, w, h);
              const a = canvas.getContext('2d').getImageData(0, 0, w, h).data;
              const b = scratch.getContext('2d').getImageData(0, 0, w, h).data;
              const sums = new Array(g * g).fill(0), counts = new Array(g * g).fill(0);
              for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
                const i = (y * w + x) * 4;
                const d = Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
                const c = Math.min(g - 1, Math.floor(y * g / h)) * g + Math.min(g - 1, Math.floor(x * g / w));
                sums[c] += d; counts[c]++;
              }
              done(sums.map((s, i) => s / counts[i]));
            };
            img.onerror = () => done(null);
            img.src = arguments[0];
            """;
        var result = ((IJavaScriptExecutor)driver).ExecuteAsyncScript(script, $"/api/items/{id}/thumbnail", 6);
        var diff = Assert.IsAssignableFrom<IReadOnlyCollection<object>>(result).Select(Convert.ToDouble).ToArray();
        var weights = explanation.GetProperty("weights")[word].EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(36, diff.Length);
        int strongest = Array.IndexOf(weights, weights.Max());
        Assert.True(diff[strongest] > 15, $"the strongest cell ({strongest}) changed by only {diff[strongest]:F1}");
        double r = Correlation(diff, weights);
        Assert.True(r > 0.5, $"the drawn change correlates with the attention weights by only {r:F2}");
    }

    private static double Correlation(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my); }
        return sxy / Math.Sqrt(sxx * syy);
    }
}

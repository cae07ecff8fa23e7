using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Server.Storage;
using Tallystick.Server.Tenants;
using Tallystick.Server.Verification;

namespace Tallystick.Server.Tests;

// Goal: the human page GET /verify/{root} re-checks the proof in a real browser and decides by its own checks: every
// check passes for a real receipt and a real period checkpoint's root, and a tampered answer is reported NOT
// verified at the step that catches it, even though the tampered answer still says "verified": true. Method: run the
// page in headless Chromium (Debian's `chromium`, installed by .ci/install-browser) with --dump-dom, once as served
// and once per tampering fed through the page's documented offline hook (#data=<base64url answer>), and read the
// result attributes it sets.
public sealed partial class VerifyPageBrowserTests(RunningServer server) : IClassFixture<RunningServer>
{
    private static readonly string[] Steps = ["answer", "items", "root", "summary", "entry", "leaf", "signature", "inclusion"];

    private static readonly string[] CheckpointSteps =
        ["answer", "statement", "items", "root", "summary", "entry", "leaf", "signature", "inclusion"];

    [Fact]
    public async Task RealReceipt_EveryCheckPassesInTheBrowser()
    {
        var root = await EmitReceipt("page_real");

        var page = await Chromium.Run(new Uri(server.BaseAddress, $"verify/{root}"));

        Assert.Equal("verified", page.Result);
        Assert.Null(page.FailedStep);
        Assert.Equal(Steps, page.Steps.Keys);
        Assert.All(page.Steps, s => Assert.True(s.Value == "pass", $"step {s.Key} is {s.Value}"));
        Assert.Contains("Verified: every check passed in this browser.", page.Dom, StringComparison.Ordinal);
        Assert.Contains("gpu_burst", page.Dom, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SummaryOnlyTenant_ItemsStepSkipped_StillVerifiedFromTheItemHashes()
    {
        var key = server.Services.GetRequiredService<TenantDirectory>().CreateKey("page-private", "test");
        Assert.True(RevealSetting.Set(server.Services.GetRequiredService<Database>(), "page-private", Reveal.Summary));
        var root = await EmitReceipt("page_private", key.FullKey);

        var page = await Chromium.Run(new Uri(server.BaseAddress, $"verify/{root}"));

        Assert.Equal("verified", page.Result);
        Assert.Equal("skip", page.Steps["items"]);
        Assert.All(page.Steps.Where(s => s.Key != "items"), s => Assert.True(s.Value == "pass", $"step {s.Key} is {s.Value}"));
        Assert.DoesNotContain("gpu_burst", page.Dom, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("amount", "items")]
    [InlineData("itemHash", "root")]
    [InlineData("recordedAt", "entry")]
    [InlineData("signature", "signature")]
    [InlineData("inclusionProof", "inclusion")]
    [InlineData("otherRoot", "answer")]
    public async Task TamperedAnswer_PageSaysNotVerifiedAtTheStepThatCatchesIt(string tampering, string failingStep)
    {
        var root = await EmitReceipt("page_tamper_" + tampering);
        using var anonymous = server.Client(apiKey: null);
        var answer = JsonNode.Parse(await anonymous.GetStringAsync($"api/v1/verify/{root}"))!;
        var data = answer["data"]!;
        Tamper(data, tampering);
        Assert.True(data["verified"]!.GetValue<bool>());
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(answer.ToJsonString()))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        var page = await Chromium.Run(new Uri(server.BaseAddress, $"verify/{root}#data={encoded}"));

        Assert.Equal("failed", page.Result);
        Assert.Equal(failingStep, page.FailedStep);
        Assert.Equal("fail", page.Steps[failingStep]);
        Assert.All(Steps.TakeWhile(s => s != failingStep), s => Assert.NotEqual("fail", page.Steps[s]));
        Assert.Contains("NOT verified", page.Dom, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealCheckpointRoot_EveryCheckPassesInTheBrowser_IncludingTheSignedStatement()
    {
        var root = await CheckpointRoot("page_chk_real");

        var page = await Chromium.Run(new Uri(server.BaseAddress, $"verify/{root}"));

        Assert.Equal("verified", page.Result);
        Assert.Null(page.FailedStep);
        Assert.Equal(CheckpointSteps, page.Steps.Keys);
        Assert.All(page.Steps, s => Assert.True(s.Value == "pass", $"step {s.Key} is {s.Value}"));
        Assert.Contains("period checkpoint", page.Dom, StringComparison.Ordinal);
        Assert.Contains("tallystick.period-checkpoint.v1", page.Dom, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("statement", "statement")]
    [InlineData("amount", "items")]
    [InlineData("balances", "summary")]
    [InlineData("inclusionProof", "inclusion")]
    public async Task TamperedCheckpointAnswer_PageSaysNotVerifiedAtTheStepThatCatchesIt(string tampering, string failingStep)
    {
        var root = await CheckpointRoot("page_chk_tamper_" + tampering);
        using var anonymous = server.Client(apiKey: null);
        var answer = JsonNode.Parse(await anonymous.GetStringAsync($"api/v1/verify/{root}"))!;
        var data = answer["data"]!;
        switch (tampering)
        {
            case "statement":
                // Restate the closing balance in the signed text itself: the log's signature no longer covers it.
                var statement = data["statement"]!.GetValue<string>();
                data["statement"] = statement.Replace("balances 0 ", "balances 1 ", StringComparison.Ordinal);
                Assert.NotEqual(statement, data["statement"]!.GetValue<string>());
                break;
            case "balances":
                // Shift both balances (the net change still agrees): only the signed statement catches it.
                data["summary"]!["startingBalance"] = data["summary"]!["startingBalance"]!.GetValue<decimal>() + 6m;
                data["summary"]!["endingBalance"] = data["summary"]!["endingBalance"]!.GetValue<decimal>() + 6m;
                break;
            default:
                Tamper(data, tampering);
                break;
        }
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(answer.ToJsonString()))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        var page = await Chromium.Run(new Uri(server.BaseAddress, $"verify/{root}#data={encoded}"));

        Assert.Equal("failed", page.Result);
        Assert.Equal(failingStep, page.FailedStep);
        Assert.Equal("fail", page.Steps[failingStep]);
        Assert.All(CheckpointSteps.TakeWhile(s => s != failingStep), s => Assert.NotEqual("fail", page.Steps[s]));
        Assert.Contains("NOT verified", page.Dom, StringComparison.Ordinal);
    }

    // A period checkpoint over two records of three deltas (the first two as in EmitReceipt), among other records.
    private async Task<string> CheckpointRoot(string customer)
    {
        using var client = server.Client();
        await Api.EmitDistinctCustomers(client, customer + "_other", 5);
        var checkpoint = await VerifyEndpointTests.CreateCheckpoint(client, customer, ["-42.5", "7.25"], ["0.00000001"]);
        var root = checkpoint.GetProperty("proofRoot").GetString()!;
        using var anonymous = server.Client(apiKey: null);
        await VerifyEndpointTests.WaitVerifiedAnswer(anonymous, root);
        return root;
    }

    private static void Tamper(JsonNode data, string tampering)
    {
        switch (tampering)
        {
            case "amount":
                // Claim a smaller charge; the net change is adjusted too, so only the item bytes catch it.
                data["records"]![1]!["amount"] = 1.25m;
                data["summary"]!["netChange"] = data["summary"]!["netChange"]!.GetValue<decimal>() - 6m;
                data["summary"]!["endingBalance"] = data["summary"]!["endingBalance"]!.GetValue<decimal>() - 6m;
                break;
            case "itemHash":
                // Drop a delta: its hash, record and amount vanish consistently; the receipt root no longer matches.
                var records = data["records"]!.AsArray();
                var dropped = records[2]!["amount"]!.GetValue<decimal>();
                records.RemoveAt(2);
                data["itemHashes"]!.AsArray().RemoveAt(2);
                data["summary"]!["recordCount"] = 2;
                data["summary"]!["netChange"] = data["summary"]!["netChange"]!.GetValue<decimal>() - dropped;
                data["summary"]!["endingBalance"] = data["summary"]!["endingBalance"]!.GetValue<decimal>() - dropped;
                break;
            case "recordedAt":
                data["recordedAt"] = "2020-01-01T00:00:00.000Z";
                break;
            case "signature":
                var note = data["log"]!["checkpoint"]!.GetValue<string>();
                int at = note.LastIndexOf(' ') + 10;
                data["log"]!["checkpoint"] = note[..at] + (note[at] == 'A' ? 'B' : 'A') + note[(at + 1)..];
                break;
            case "inclusionProof":
                var proof = data["log"]!["inclusionProof"]!.AsArray();
                proof[0] = "0x" + new string('0', 64);
                break;
            case "otherRoot":
                data["proofRoot"] = "0x" + new string('1', 64);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(tampering), tampering, null);
        }
    }

    // A 3-delta record among others, so the log inclusion proof and the receipt tree both have several levels.
    private async Task<string> EmitReceipt(string customer, string apiKey = RunningServer.AcmeTest)
    {
        using var client = server.Client(apiKey);
        await Api.EmitDistinctCustomers(client, customer + "_other", 5);
        var batch = "{\"deltas\":[" + Api.Emit(customer, "-42.5", "gpu_burst", "job_1") + "," +
            Api.Emit(customer, "7.25", "storage") + "," + Api.Emit(customer, "0.00000001", "tiny") + "]}";
        var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", batch);
        Assert.Equal(201, status);
        var first = body.GetProperty("data").GetProperty("results")[0];
        await Api.WaitVerified(client, first.GetProperty("recordId").GetString()!);
        return first.GetProperty("receiptId").GetString()!;
    }

    /// <summary>What the page showed when it was done: its verdict, first failing step and each step's status.</summary>
    private sealed record PageOutcome(string? Result, string? FailedStep, IReadOnlyDictionary<string, string> Steps, string Dom);

    /// <summary>Runs a page in headless Chromium and returns the DOM once its scripts are done.</summary>
    private static partial class Chromium
    {
        /// <summary>Virtual time the page gets to fetch and check; Chromium waits for network in it.</summary>
        private const int VirtualTimeBudgetMs = 20_000;

        private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);

        /// <summary>Runs the page; a page still "running" when Chromium dumped it (its checks not finished within
        /// the virtual-time budget on a loaded machine) gets one more run, a finished verdict never does.</summary>
        public static async Task<PageOutcome> Run(Uri url)
        {
            var outcome = await RunOnce(url);
            return outcome.Result == "running" ? await RunOnce(url) : outcome;
        }

        private static async Task<PageOutcome> RunOnce(Uri url)
        {
            var profile = Path.Combine(Path.GetTempPath(), "tally-chromium-" + Guid.NewGuid().ToString("N"));
            var info = new ProcessStartInfo(Executable())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--user-data-dir=" + profile,
                $"--virtual-time-budget={VirtualTimeBudgetMs}", "--dump-dom", url.ToString(),
            })
            {
                info.ArgumentList.Add(argument);
            }
            try
            {
                using var process = Process.Start(info)!;
                using var timeout = new CancellationTokenSource(ProcessTimeout);
                var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                var error = process.StandardError.ReadToEndAsync(timeout.Token);
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    throw new TimeoutException($"chromium did not finish within {ProcessTimeout}: {url}");
                }
                var dom = await output;
                Assert.True(dom.Length > 0, $"chromium printed no DOM (exit {process.ExitCode}): {await error}");
                return Parse(dom);
            }
            finally
            {
                try
                {
                    Directory.Delete(profile, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }

        private static string Executable()
        {
            var configured = Environment.GetEnvironmentVariable("TALLY_CHROMIUM");
            var path = !string.IsNullOrEmpty(configured) ? configured
                : new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
            Assert.True(path is not null && File.Exists(path),
                "no headless Chromium: run `bash .ci/install-browser` (./tally test does) or set TALLY_CHROMIUM");
            return path!;
        }

        private static PageOutcome Parse(string dom)
        {
            var body = BodyTag().Match(dom);
            Assert.True(body.Success, "no body element in the DOM");
            string? Attribute(string name) =>
                Regex.Match(body.Value, $"{name}=\"([a-z]+)\"") is { Success: true } m ? m.Groups[1].Value : null;
            var steps = StepItem().Matches(dom).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            return new PageOutcome(Attribute("data-result"), Attribute("data-failed-step"), steps, dom);
        }

        [GeneratedRegex("<body[^>]*>")]
        private static partial Regex BodyTag();

        [GeneratedRegex("<li data-step=\"([a-z]+)\" data-status=\"([a-z]+)\"")]
        private static partial Regex StepItem();
    }
}

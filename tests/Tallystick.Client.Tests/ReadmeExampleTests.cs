using Microsoft.Extensions.DependencyInjection;

namespace Tallystick.Client.Tests;

// Goal: the README's "Client SDK" code runs as printed, and the client works as an IHttpClientFactory typed client.
// Method: the README blocks are regions (below, and in the sample app), run against a real in-process server; a
// second test checks that the README still contains each region's lines verbatim as a whole code block, so the two
// cannot drift apart.
public sealed class ReadmeExampleTests(InProcessServer server) : IClassFixture<InProcessServer>
{
    [Fact]
    public async Task ReadmeExample_RunsAgainstRealServer()
    {
        var apiKey = InProcessServer.AcmeTest;
        var serverUrl = server.BaseAddress.ToString();

        #region readme-client-sdk
        TallyApiException? refused = null;
        using var tally = new TallyClient(new TallyClientOptions { ApiKey = apiKey, BaseAddress = new Uri(serverUrl) });
        var emitted = await tally.EmitAsync("cust_12345", -182m, "gpu_burst_capacity", referenceId: "job_abc123");
        var verified = await tally.WaitForVerifiedAsync(emitted.RecordId); // QUEUED → VERIFIED, within milliseconds
        var balance = await tally.DeriveAsync("cust_12345");               // balance.ComputedBalance is -182
        try
        {
            await tally.EmitAsync("cust_12345", 0m, "nothing");
        }
        catch (TallyApiException e) when (e.Kind == TallyErrorKind.Validation) // never retried: it cannot succeed
        {
            refused = e;                                                    // e.Code DELTA_MUST_NOT_BE_ZERO, e.Field delta
        }
        #endregion

        Assert.Equal(DeltaStatuses.Verified, verified.Status);
        Assert.Equal(-182m, balance.ComputedBalance.Value);
        Assert.Equal("DELTA_MUST_NOT_BE_ZERO", refused?.Code);
        Assert.Equal("delta", refused?.Field);
    }

    [Theory]
    [InlineData("tests/Tallystick.Client.Tests/ReadmeExampleTests.cs", "readme-client-sdk")]
    [InlineData("samples/Tallystick.Sample/SampleProgram.cs", "readme-sample")] // Run by SampleTests.
    public void Readme_ContainsTheRegionVerbatim(string file, string region)
    {
        var root = RepositoryRoot();
        var source = File.ReadAllLines(Path.Combine(root, file));
        var start = Array.FindIndex(source, l => l.Trim() == "#region " + region);
        var end = Array.FindIndex(source, start + 1, l => l.Trim() == "#endregion");
        var lines = source[(start + 1)..end].Select(l => l.Length >= 8 ? l[8..] : l.Trim()).ToList();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");

        Assert.True(start > 0 && end > start, $"the region markers of {region} are missing");
        Assert.Contains("```csharp\n" + string.Join("\n", lines) + "\n```", readme, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpClientFactory_TypedClient_ResolvesAndCallsServer()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new TallyClientOptions { ApiKey = InProcessServer.AcmeTest });
        services.AddHttpClient<TallyClient>(http => http.BaseAddress = server.BaseAddress);
        await using var provider = services.BuildServiceProvider();

        var tally = provider.GetRequiredService<TallyClient>();
        var emitted = await tally.EmitAsync("factory_cust", 1m, "usage");

        Assert.Equal(server.BaseAddress, tally.BaseAddress);
        Assert.Equal("factory_cust", emitted.CustomerId);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Tallystick.slnx")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
